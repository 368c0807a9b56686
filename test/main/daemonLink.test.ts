import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectControl } from '../../app/client/controlClient.ts';
import { cordonPaths } from '../../app/util/paths.ts';
import { controlSocketPath, daemonCommand, linkDaemon } from '../../main/daemonLink.ts';

test('the socket path agrees with app/util/paths.ts on every platform layout', () => {
  const envs: NodeJS.ProcessEnv[] = [
    { HOME: '/home/dev' },
    { HOME: '/home/dev', XDG_RUNTIME_DIR: '/run/user/1000' },
    { HOME: '/home/dev', CORDON_HOME: '/tmp/cordon-test' },
    { HOME: 'C:\\Users\\dev', LOCALAPPDATA: 'C:\\Users\\dev\\AppData\\Local' },
  ];
  for (const env of envs) {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      assert.equal(controlSocketPath(env, platform), cordonPaths(env, platform).socketPath, `${platform} ${JSON.stringify(env)}`);
    }
  }
});

test('daemonCommand runs the installed CLI when packaged and the repository CLI in development', () => {
  assert.deepEqual(daemonCommand({ packaged: true, repoRoot: '/x', platform: 'linux' }), { command: 'cordon', args: ['daemon'] });
  assert.deepEqual(daemonCommand({ packaged: false, repoRoot: '/repo', platform: 'linux' }), { command: 'node', args: ['/repo/bin/cordon.js', 'daemon'] });
});

/** A stand-in daemon socket that accepts connections (the link only needs to connect). */
function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.on('error', () => undefined));
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

test('linkDaemon attaches to a running daemon without starting one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-link-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'control.sock');
  const server = await listen(socketPath);
  t.after(() => server.close());
  let starts = 0;
  const result = await linkDaemon({ socketPath, connect: (p) => connectControl(p, 500), start: async () => ++starts > 0, sleep: async () => undefined });
  assert.ok(result.ok);
  assert.equal(result.started, false);
  assert.equal(starts, 0);
  result.client.close();
});

test('linkDaemon starts the daemon when nothing answers, then waits for its socket (bounded)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-link-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'control.sock');
  let server: Server | null = null;
  t.after(() => server?.close());
  let sleeps = 0;
  const result = await linkDaemon({
    socketPath,
    connect: (p) => connectControl(p, 500),
    start: async () => true,
    sleep: async () => {
      // The "daemon" comes up on the third wait.
      if (++sleeps === 3) server = await listen(socketPath);
    },
  });
  assert.ok(result.ok);
  assert.equal(result.started, true);
  assert.equal(sleeps, 3);
  result.client.close();

  const never = await linkDaemon({ socketPath: join(dir, 'none.sock'), connect: (p) => connectControl(p, 200), start: async () => true, sleep: async () => undefined, attempts: 3 });
  assert.ok(!never.ok && /did not answer/.test(never.reason));
  const cannot = await linkDaemon({ socketPath: join(dir, 'none.sock'), connect: (p) => connectControl(p, 200), start: async () => false, sleep: async () => undefined });
  assert.ok(!cannot.ok && /could not start/.test(cannot.reason));
  const attachOnly = await linkDaemon({ socketPath: join(dir, 'none.sock'), connect: (p) => connectControl(p, 200), start: async () => assert.fail('must not start'), sleep: async () => undefined }, false);
  assert.ok(!attachOnly.ok && /not running/.test(attachOnly.reason));
});

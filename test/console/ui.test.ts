// `cordon ui` and the console session file: the 0600 file in the runtime dir is how the CLI finds
// the daemon's console; junk in it is ignored; the printed URL carries the secret only on request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { CommandContext } from '../../app/cli/command.ts';
import { uiCommands } from '../../app/cli/commands/ui.ts';
import { startLocalConsole } from '../../app/console/server.ts';
import { consoleOpenUrl, consoleSessionPath, readConsoleSession, removeConsoleSession, writeConsoleSession } from '../../app/console/sessionFile.ts';
import { CoreError } from '../../app/api/errors.ts';
import { silentLogger } from '../../app/util/log.ts';
import { cordonPaths } from '../../app/util/paths.ts';

function context(cordonHome: string): { ctx: CommandContext; out(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  stderr.on('data', (d: Buffer) => (text += d.toString()));
  const env = { CORDON_HOME: cordonHome, PATH: '' };
  return { ctx: { stdout, stderr, env, paths: cordonPaths(env), cwd: cordonHome }, out: () => text };
}

const ui = uiCommands[0];

test('the session file is written 0600 and read back; junk is ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-ui-session-'));
  try {
    const runtime = join(dir, 'run');
    assert.equal(readConsoleSession(runtime), null);
    writeConsoleSession(runtime, { port: 4567, secret: 'A'.repeat(43) });
    assert.equal(statSync(consoleSessionPath(runtime)).mode & 0o777, 0o600);
    assert.equal(statSync(runtime).mode & 0o777, 0o700);
    assert.deepEqual(readConsoleSession(runtime), { port: 4567, secret: 'A'.repeat(43), pid: process.pid });
    for (const junk of ['not json', '[]', '{"port":"1","secret":"AAAAAAAAAAAAAAAAAAAAAAAAA"}', '{"port":70000,"secret":"AAAAAAAAAAAAAAAAAAAAAAAAA"}', '{"port":1,"secret":"<script>"}']) {
      writeFileSync(consoleSessionPath(runtime), junk);
      assert.equal(readConsoleSession(runtime), null, junk);
    }
    removeConsoleSession(runtime);
    removeConsoleSession(runtime);
    assert.equal(readConsoleSession(runtime), null);
    assert.equal(consoleOpenUrl({ port: 1, secret: 'abc' }), 'http://127.0.0.1:1/#s=abc');
    assert.equal(consoleOpenUrl({ port: 1, secret: 'abc' }, '/prompt'), 'http://127.0.0.1:1/#/prompt&s=abc');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cordon ui --no-open --print-url prints the daemon console URL with its secret', async () => {
  assert.ok(ui);
  const dir = mkdtempSync(join(tmpdir(), 'cordon-ui-cmd-'));
  const served = await startLocalConsole({ staticDir: dir, log: silentLogger, call: async () => ({}), subscribe: () => () => undefined });
  try {
    const { ctx, out } = context(dir);
    writeConsoleSession(ctx.paths.runtimeDir, served);
    assert.equal(await ui.run(ctx, { values: { 'no-open': true, 'print-url': true }, positionals: [], rest: [] }), 0);
    assert.equal(out().trim(), `http://127.0.0.1:${served.port}/#s=${served.secret}`);
    const quiet = context(dir);
    assert.equal(await ui.run(quiet.ctx, { values: { 'no-open': true }, positionals: [], rest: [] }), 0);
    assert.doesNotMatch(quiet.out(), new RegExp(served.secret), 'without --print-url the secret is not printed');
    assert.match(quiet.out(), new RegExp(`http://127\\.0\\.0\\.1:${served.port}/`));
  } finally {
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cordon ui with neither a console nor a daemon fails with a clear daemon-unreachable error', async () => {
  assert.ok(ui);
  const dir = mkdtempSync(join(tmpdir(), 'cordon-ui-down-'));
  try {
    const { ctx } = context(dir);
    writeConsoleSession(ctx.paths.runtimeDir, { port: 1, secret: 'B'.repeat(43) });
    await assert.rejects(ui.run(ctx, { values: { 'no-open': true }, positionals: [], rest: [] }), (e: unknown) => e instanceof CoreError && e.code === 'ERR_DAEMON_UNREACHABLE' && /cordon daemon/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

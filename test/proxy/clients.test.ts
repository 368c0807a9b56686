import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { promisify } from 'node:util';
import type { EgressRequest } from '../../app/api/enforcement.ts';
import { ALLOW, deny, startHarness } from './helpers/proxyHarness.ts';
import { startHttpOrigin, startHttpsOrigin } from './helpers/origins.ts';
import { createTestCa } from './helpers/testCa.ts';

const run = promisify(execFile);
const CORDON = new URL('../../bin/cordon.js', import.meta.url).pathname;
const originCa = createTestCa('Origin Test CA');
const cordonCa = createTestCa('Cordon Test Root');

async function has(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command (asynchronously: the proxy lives in this process) and returns its result, never throwing. */
async function sh(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { env, cwd, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function policy(req: EgressRequest) {
  if (req.host === 'denied.localhost' || req.path?.startsWith('/forbidden')) return deny('user:test-deny', 'denied for the test');
  if (req.kind === 'connect' && req.host === 'localhost' && req.port === inspectedPort) return { ...ALLOW, inspect: true };
  return ALLOW;
}
let inspectedPort = -1;

test('curl through the proxy: plain HTTP, opaque HTTPS, inspected HTTPS, and denials', { skip: !(await has('curl')) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-proxy-curl-'));
  writeFileSync(join(dir, 'origin-ca.pem'), originCa.caPem);
  writeFileSync(join(dir, 'cordon-ca.pem'), cordonCa.caPem);
  const origin = await startHttpOrigin();
  const tlsOrigin = await startHttpsOrigin(originCa);
  const inspected = await startHttpsOrigin(originCa);
  inspectedPort = inspected.port;
  const h = await startHarness({ tls: cordonCa, originCa: [originCa.caPem], decide: policy });
  const env = { PATH: process.env.PATH, HOME: dir };
  try {
    const plain = await sh('curl', ['-sS', '--max-time', '10', '-x', h.proxy.url, `${origin.url}/hello?x=1`], env);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal((JSON.parse(plain.stdout) as { url: string }).url, '/hello?x=1');

    const opaque = await sh('curl', ['-sS', '--max-time', '10', '-x', h.proxy.url, '--cacert', join(dir, 'origin-ca.pem'), `https://localhost:${tlsOrigin.port}/tls`], env);
    assert.equal(opaque.code, 0, opaque.stderr);
    assert.equal((JSON.parse(opaque.stdout) as { url: string }).url, '/tls');

    // Inspected: curl trusts only the Cordon CA, so success proves the proxy terminated TLS.
    const inspectedReply = await sh('curl', ['-sS', '--max-time', '10', '-x', h.proxy.url, '--cacert', join(dir, 'cordon-ca.pem'), `https://localhost:${inspected.port}/seen`], env);
    assert.equal(inspectedReply.code, 0, inspectedReply.stderr);
    assert.ok(h.decided.some((d) => d.kind === 'https' && d.path === '/seen'));
    const forbidden = await sh('curl', ['-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', '-x', h.proxy.url, '--cacert', join(dir, 'cordon-ca.pem'), `https://localhost:${inspected.port}/forbidden`], env);
    assert.equal(forbidden.stdout, '403');

    const deniedPlain = await sh('curl', ['-sS', '--max-time', '10', '-D', '-', '-x', h.proxy.url, 'http://denied.localhost/'], env);
    assert.match(deniedPlain.stdout, /^HTTP\/1\.1 403/);
    assert.match(deniedPlain.stdout, /X-Cordon-Rule: user:test-deny/i);
    assert.match(deniedPlain.stdout, /Blocked by Cordon/);
    const deniedTunnel = await sh('curl', ['-sS', '--max-time', '10', '-x', h.proxy.url, 'https://denied.localhost/'], env);
    assert.notEqual(deniedTunnel.code, 0);
    assert.match(deniedTunnel.stderr, /403/);
  } finally {
    await h.close();
    await origin.close();
    await tlsOrigin.close();
    await inspected.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Node fetch under `cordon run` (NODE_USE_ENV_PROXY, NODE_EXTRA_CA_CERTS) goes through the proxy, inspected', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-proxy-fetch-'));
  const caFile = join(dir, 'cordon-ca.pem');
  writeFileSync(caFile, cordonCa.caPem);
  const inspected = await startHttpsOrigin(originCa);
  inspectedPort = inspected.port;
  const origin = await startHttpOrigin();
  const h = await startHarness({ tls: cordonCa, originCa: [originCa.caPem], decide: policy });
  try {
    const script = `const a = await fetch('https://localhost:${inspected.port}/via-fetch'); const b = await fetch('${origin.url}/plain-fetch'); console.log(a.status, (await a.json()).url, b.status, (await b.json()).url);`;
    const result = await sh(process.execPath, [CORDON, 'run', '--proxy', h.proxy.url, '--ca', caFile, '--agent', 'fetch-test', '--', process.execPath, '--input-type=module', '-e', script], {
      PATH: process.env.PATH,
      HOME: dir,
      CORDON_HOME: join(dir, 'cordon'),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), '200 /via-fetch 200 /plain-fetch');
    assert.ok(h.decided.some((d) => d.kind === 'https' && d.path === '/via-fetch'));
    assert.ok(h.decided.some((d) => d.host === '127.0.0.1' && d.port === origin.port), 'plain fetch also went through the proxy');
  } finally {
    await h.close();
    await inspected.close();
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('git clone over HTTP (dumb protocol) under `cordon run` goes through the proxy; a denied path fails the clone', { skip: !(await has('git')) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-proxy-git-'));
  const gitEnv = { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
  const bare = join(dir, 'srv', 'repo.git');
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true });
  const git = (args: string[], cwd = dir) => sh('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], gitEnv, cwd);
  assert.equal((await git(['init', '--bare', bare])).code, 0);
  assert.equal((await git(['init'], work)).code, 0);
  writeFileSync(join(work, 'README.md'), 'hello through cordon\n');
  assert.equal((await git(['add', 'README.md'], work)).code, 0);
  assert.equal((await git(['commit', '-m', 'first'], work)).code, 0);
  assert.equal((await git(['push', bare, 'HEAD:refs/heads/main'], work)).code, 0);
  assert.equal((await git(['update-server-info'], bare)).code, 0);
  const root = join(dir, 'srv');
  const files = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root)) return false;
    try {
      if (!statSync(path).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(readFileSync(path));
    } catch {
      res.writeHead(404);
      res.end();
    }
    return true;
  };
  const origin = await startHttpOrigin(files);
  const h = await startHarness({ decide: policy });
  try {
    const cloned = await sh(process.execPath, [CORDON, 'run', '--proxy', h.proxy.url, '--', 'git', 'clone', `${origin.url}/repo.git`, join(dir, 'clone')], { ...gitEnv, CORDON_HOME: join(dir, 'cordon') });
    assert.equal(cloned.code, 0, cloned.stderr);
    assert.equal(readFileSync(join(dir, 'clone', 'README.md'), 'utf8'), 'hello through cordon\n');
    assert.ok(h.decided.some((d) => d.kind === 'http' && d.path?.startsWith('/repo.git/info/refs')));
    assert.ok(origin.seen.every((r) => r.headers.via?.includes('cordon')), 'every git request came through the proxy');
    const denied = await sh(process.execPath, [CORDON, 'run', '--proxy', h.proxy.url, '--', 'git', 'clone', `${origin.url}/forbidden/repo.git`, join(dir, 'clone2')], { ...gitEnv, CORDON_HOME: join(dir, 'cordon') });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /403/);
  } finally {
    await h.close();
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

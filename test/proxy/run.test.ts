import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { applyRunEnv, cordonRunEnv, formatRunEnv, writeCaBundle } from '../../app/proxy/runEnv.ts';
import { cordonPaths } from '../../app/util/paths.ts';
import { startHarness } from './helpers/proxyHarness.ts';
import { createTestCa } from './helpers/testCa.ts';

const CORDON = new URL('../../bin/cordon.js', import.meta.url).pathname;
const ca = createTestCa('Cordon Run Test Root');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cordon-run-'));
}

async function cordon(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CORDON, ...args], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('cordonRunEnv: proxy variables for every client, a NO_PROXY that bypasses nothing, CA variables, the agent', () => {
  const env = cordonRunEnv('http://127.0.0.1:8877/', '/data/ca.pem', 'claude-code', { bundleFile: '/run/bundle.pem' });
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'CORDON_PROXY_URL']) assert.equal(env[name], 'http://127.0.0.1:8877', name);
  assert.equal(env.NO_PROXY, '');
  assert.equal(env.no_proxy, '');
  assert.equal(env.NODE_USE_ENV_PROXY, '1');
  assert.equal(env.NODE_EXTRA_CA_CERTS, '/data/ca.pem');
  for (const name of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'CODEX_CA_CERTIFICATE']) assert.equal(env[name], '/run/bundle.pem', name);
  assert.equal(env.CORDON_AGENT, 'claude-code');
  assert.equal(env.ALL_PROXY, undefined);

  const bare = cordonRunEnv('http://127.0.0.1:1');
  assert.equal(bare.NODE_EXTRA_CA_CERTS, undefined);
  assert.equal(bare.CORDON_AGENT, undefined);
  assert.equal(cordonRunEnv('http://127.0.0.1:1', undefined, undefined, { noProxy: 'localhost' }).NO_PROXY, 'localhost');

  for (const bad of ['127.0.0.1:8080', 'https://127.0.0.1:1', 'socks5://127.0.0.1:1', 'http://u:p@127.0.0.1:1', 'http://127.0.0.1:1/path', 'not a url']) {
    assert.throws(() => cordonRunEnv(bad), { code: 'ERR_BAD_REQUEST' }, bad);
  }
  assert.throws(() => cordonRunEnv('http://127.0.0.1:1', undefined, 'bad\nagent'), { code: 'ERR_BAD_REQUEST' });
  assert.throws(() => cordonRunEnv('http://127.0.0.1:1', undefined, ''), { code: 'ERR_BAD_REQUEST' });

  const child = applyRunEnv({ PATH: '/bin', ALL_PROXY: 'socks5://elsewhere:1080', all_proxy: 'x', HTTPS_PROXY: 'http://old:1', NO_PROXY: '*' }, env);
  assert.equal(child.ALL_PROXY, undefined);
  assert.equal(child.all_proxy, undefined);
  assert.equal(child.HTTPS_PROXY, 'http://127.0.0.1:8877');
  assert.equal(child.NO_PROXY, '', "a user's NO_PROXY=* must not defeat the proxy");
  assert.equal(child.PATH, '/bin');
});

test('writeCaBundle: system roots plus the Cordon CA, written once per content; a bad CA file is ERR_CA', () => {
  const dir = tempDir();
  try {
    const caFile = join(dir, 'cordon-ca.pem');
    writeFileSync(caFile, ca.caPem);
    const path = writeCaBundle(caFile, dir);
    const text = readFileSync(path, 'utf8');
    assert.ok(text.includes(ca.caPem.trim()));
    assert.ok((text.match(/BEGIN CERTIFICATE/g) ?? []).length > 10, 'the system roots are in the bundle too');
    assert.equal(writeCaBundle(caFile, dir), path);
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
    assert.throws(() => writeCaBundle(join(dir, 'junk.pem'), dir), { code: 'ERR_CA' });
    assert.throws(() => writeCaBundle(join(dir, 'missing.pem'), dir), { code: 'ERR_CA' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('formatRunEnv: sh output round-trips through a real shell, quotes included', async () => {
  const env = cordonRunEnv('http://127.0.0.1:4321', "/tmp/it's here/ca.pem", 'agent "x"');
  const script = `${formatRunEnv(env, 'sh')}printf '%s|%s|%s|%s' "$HTTPS_PROXY" "$NODE_EXTRA_CA_CERTS" "$CORDON_AGENT" "\${ALL_PROXY-unset}"`;
  const { stdout } = await promisify(execFile)('sh', ['-c', script], { env: { PATH: process.env.PATH, ALL_PROXY: 'socks5://x:1' } });
  assert.equal(stdout, `http://127.0.0.1:4321|/tmp/it's here/ca.pem|agent "x"|unset`);
  assert.deepEqual(JSON.parse(formatRunEnv(env, 'json')), env);
  assert.match(formatRunEnv(env, 'powershell'), /\$env:HTTPS_PROXY = 'http:\/\/127\.0\.0\.1:4321'/);
  assert.match(formatRunEnv(env, 'fish'), /set -gx NODE_EXTRA_CA_CERTS '\/tmp\/it\\'s here\/ca\.pem'/);
});

test('`cordon run` passes the environment, returns the exit code, and reports a missing command', async () => {
  const dir = tempDir();
  const h = await startHarness();
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.caPem);
  const env = { PATH: process.env.PATH, HOME: dir, CORDON_HOME: join(dir, 'cordon'), ALL_PROXY: 'socks5://around:1080', NO_PROXY: '*' };
  try {
    const print = `console.log(JSON.stringify({ p: process.env.HTTPS_PROXY, n: process.env.NO_PROXY, a: process.env.ALL_PROXY ?? null, c: process.env.NODE_EXTRA_CA_CERTS, s: process.env.SSL_CERT_FILE, g: process.env.CORDON_AGENT })); process.exit(7)`;
    const result = await cordon(['run', '--proxy', h.proxy.url, '--ca', caFile, '--agent', 'codex', '--', process.execPath, '-e', print], env);
    assert.equal(result.code, 7, result.stderr);
    const seen = JSON.parse(result.stdout) as Record<string, string | null>;
    assert.deepEqual({ ...seen, s: undefined }, { p: h.proxy.url, n: '', a: null, c: caFile, s: undefined, g: 'codex' });
    assert.match(seen.s ?? '', /ca-bundle-[0-9a-f]{16}\.pem$/);
    assert.equal(result.stderr, '', 'no warning: the proxy answered its health check');

    const missing = await cordon(['run', '--proxy', h.proxy.url, '--', 'definitely-not-a-command-cordon'], env);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /command not found/);
    const noCommand = await cordon(['run', '--proxy', h.proxy.url], env);
    assert.equal(noCommand.code, 2);
    const noProxy = await cordon(['run', '--', 'true'], env);
    assert.equal(noProxy.code, 1);
    assert.match(noProxy.stderr, /--proxy/);
    const deadProxy = await cordon(['run', '--proxy', 'http://127.0.0.1:1', '--', 'true'], env);
    assert.equal(deadProxy.code, 0);
    assert.match(deadProxy.stderr, /does not answer/);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`cordon run` forwards SIGTERM and SIGINT (no terminal) to the command and exits with its status', async () => {
  const dir = tempDir();
  try {
    const env = { PATH: process.env.PATH, HOME: dir, CORDON_HOME: join(dir, 'cordon') };
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(process.execPath, [CORDON, 'run', '--proxy', 'http://127.0.0.1:1', '--', process.execPath, '-e', `process.on('${signal}', () => { console.log('child got ${signal}'); process.exit(42); }); console.log('ready'); setTimeout(() => process.exit(3), 20000);`], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d), out.includes('ready') && resolve())));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error('child never ready')), 15_000))]);
      child.kill(signal);
      assert.equal(await exited, 42, out);
      assert.match(out, new RegExp(`child got ${signal}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`cordon run` and `cordon proxy env` read proxy.url and proxy.caFile from the daemon status when present', async () => {
  const dir = tempDir();
  const env = { PATH: process.env.PATH, HOME: dir, CORDON_HOME: join(dir, 'cordon') };
  const paths = cordonPaths(env);
  mkdirSync(paths.runtimeDir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'daemon-ca.pem');
  writeFileSync(caFile, ca.caPem);
  // A stand-in daemon that answers only `status`, as a newer daemon with a proxy section would.
  const fake = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('data', (line: string) => {
      for (const text of line.split('\n').filter(Boolean)) {
        const { id } = JSON.parse(text) as { id: number };
        socket.write(`${JSON.stringify({ id, ok: true, value: { pid: 1, proxy: { url: 'http://127.0.0.1:5555', caFile } } })}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => fake.listen(paths.socketPath, resolve));
  try {
    const printed = await cordon(['proxy', 'env', '--format', 'json'], env);
    assert.equal(printed.code, 0, printed.stderr);
    const vars = JSON.parse(printed.stdout) as Record<string, string>;
    assert.equal(vars.HTTPS_PROXY, 'http://127.0.0.1:5555');
    assert.equal(vars.NODE_EXTRA_CA_CERTS, caFile);
    const overridden = await cordon(['proxy', 'env', '--format', 'json', '--proxy', 'http://127.0.0.1:6666'], env);
    assert.equal((JSON.parse(overridden.stdout) as Record<string, string>).HTTP_PROXY, 'http://127.0.0.1:6666');
    const badFormat = await cordon(['proxy', 'env', '--format', 'cmd'], env);
    assert.equal(badFormat.code, 2);
  } finally {
    fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

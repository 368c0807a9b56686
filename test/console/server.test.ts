// The local console's security: every /api request needs the session (cookie or secret header),
// foreign Host, Origin and cross-site requests are refused, only UI methods reach the daemon,
// and bad input gets a clear 4xx while the server stays up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CordonEvent } from '../../app/api/control.ts';
import { SECRET_HEADER, startLocalConsole, type LocalConsole } from '../../app/console/server.ts';
import { silentLogger } from '../../app/util/log.ts';

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

let consoleServer: LocalConsole;
let staticDir: string;
const calls: { method: string; params: unknown }[] = [];
const listeners = new Set<(e: CordonEvent) => void>();

function send(options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: consoleServer.port, method: options.method ?? 'GET', path: options.path, headers: { Host: `127.0.0.1:${consoleServer.port}`, ...options.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(options.body);
  });
}

function call(method: string, params: unknown, headers: Record<string, string>): Promise<Reply> {
  return send({ method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ method, params }) });
}

async function sessionCookie(): Promise<string> {
  const r = await send({ method: 'POST', path: '/api/session', headers: { [SECRET_HEADER]: consoleServer.secret, Origin: `http://127.0.0.1:${consoleServer.port}` } });
  assert.equal(r.status, 200, r.body);
  const setCookie = String(r.headers['set-cookie']);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  const cookie = /^([^;]+)/.exec(setCookie)?.[1];
  assert.ok(cookie);
  assert.ok(!cookie.includes(consoleServer.secret), 'the cookie is a session token, not the secret');
  return cookie;
}

before(async () => {
  staticDir = mkdtempSync(join(tmpdir(), 'cordon-console-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Cordon</title><div id="root"></div>');
  consoleServer = await startLocalConsole({
    staticDir,
    log: silentLogger,
    async call(method, params) {
      calls.push({ method, params });
      if (method === 'status') return { mode: 'enforce', approvals: { pending: 0 } };
      if (method === 'approvals') return [];
      return {};
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
});

after(async () => {
  await consoleServer?.close();
  rmSync(staticDir, { recursive: true, force: true });
});

test('the secret is 32 random bytes and the server listens on loopback', () => {
  assert.equal(Buffer.from(consoleServer.secret, 'base64url').length, 32);
  assert.equal(consoleServer.url, `http://127.0.0.1:${consoleServer.port}/`);
});

test('without the secret or the cookie, API calls get 401 and never reach the daemon', async () => {
  const before = calls.length;
  assert.equal((await call('status', {}, {})).status, 401);
  assert.equal((await call('status', {}, { [SECRET_HEADER]: 'x'.repeat(43) })).status, 401);
  assert.equal((await call('status', {}, { Cookie: `cordon_session_${consoleServer.port}=forged` })).status, 401);
  assert.equal((await send({ path: '/api/events' })).status, 401);
  assert.equal((await send({ method: 'POST', path: '/api/session', headers: { [SECRET_HEADER]: 'wrong' } })).status, 401);
  assert.equal(calls.length, before);
});

test('with the session cookie (or the secret header), status works', async () => {
  const cookie = await sessionCookie();
  const r = await call('status', {}, { Cookie: cookie, Origin: `http://localhost:${consoleServer.port}` });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { ok: true, value: { mode: 'enforce', approvals: { pending: 0 } } });
  const viaHeader = await call('approvals', {}, { [SECRET_HEADER]: consoleServer.secret });
  assert.equal(viaHeader.status, 200, viaHeader.body);
  assert.equal(calls.at(-1)?.method, 'approvals');
});

test('a foreign Host (DNS rebinding) gets 403, even with the secret and even for the page', async () => {
  for (const host of [`evil.example:${consoleServer.port}`, '127.0.0.1:1', `127.0.0.1.nip.io:${consoleServer.port}`]) {
    const r = await call('status', {}, { Host: host, [SECRET_HEADER]: consoleServer.secret });
    assert.equal(r.status, 403, host);
    assert.equal((await send({ path: '/', headers: { Host: host } })).status, 403, host);
  }
  assert.equal((await send({ path: '/', headers: { Host: `localhost:${consoleServer.port}` } })).status, 200);
});

test('a foreign Origin (CSRF) or a cross-site fetch gets 403, even with a valid cookie', async () => {
  const cookie = await sessionCookie();
  for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${consoleServer.port + 1}`, `https://127.0.0.1:${consoleServer.port}`]) {
    const r = await call('status', {}, { Cookie: cookie, Origin: origin });
    assert.equal(r.status, 403, origin);
  }
  for (const site of ['cross-site', 'same-site']) {
    assert.equal((await call('status', {}, { Cookie: cookie, 'Sec-Fetch-Site': site })).status, 403, site);
  }
  assert.equal((await send({ method: 'POST', path: '/api/session', headers: { [SECRET_HEADER]: consoleServer.secret, Origin: 'http://evil.example' } })).status, 403);
  assert.equal((await call('status', {}, { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' })).status, 200);
});

test('non-UI methods (shutdown, localAction, subscribe) are refused and never reach the daemon', async () => {
  const before = calls.length;
  for (const method of ['shutdown', 'localAction', 'subscribe', '__proto__', 'constructor']) {
    const r = await call(method, {}, { [SECRET_HEADER]: consoleServer.secret });
    assert.equal(r.status, 403, method);
    assert.equal(JSON.parse(r.body).ok, false);
  }
  assert.equal(calls.length, before);
});

test('GET on a mutation endpoint is 405; a form post (not JSON) is 415', async () => {
  const get = await send({ path: '/api/call', headers: { [SECRET_HEADER]: consoleServer.secret } });
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, 'POST');
  assert.equal((await send({ path: '/api/session', headers: { [SECRET_HEADER]: consoleServer.secret } })).status, 405);
  const form = await send({ method: 'POST', path: '/api/call', headers: { [SECRET_HEADER]: consoleServer.secret, 'Content-Type': 'text/plain' }, body: '{"method":"status"}' });
  assert.equal(form.status, 415);
  assert.equal((await send({ method: 'PUT', path: '/', headers: {} })).status, 405);
});

test('malformed JSON, bad shapes and oversized bodies get 400/413 and the server stays up', async () => {
  const h = { [SECRET_HEADER]: consoleServer.secret, 'Content-Type': 'application/json' };
  for (const body of ['{not json', '[]', '"status"', '{"method":1}', '{"method":"status","params":[1]}', '{"method":"status","params":null}']) {
    const r = await send({ method: 'POST', path: '/api/call', headers: h, body });
    assert.equal(r.status, 400, body);
    assert.match(JSON.parse(r.body).error.message, /\w/);
  }
  const big = await send({ method: 'POST', path: '/api/call', headers: h, body: JSON.stringify({ method: 'status', params: { x: 'y'.repeat(100_000) } }) });
  assert.equal(big.status, 413);
  assert.equal((await call('status', {}, { [SECRET_HEADER]: consoleServer.secret })).status, 200, 'still up');
});

test('responses carry a strict CSP and no-sniff/no-referrer headers; paths cannot escape the static dir', async () => {
  const page = await send({ path: '/' });
  assert.equal(page.status, 200);
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  for (const path of ['/../package.json', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2fetc%2fpasswd.js', '/%00.js']) {
    const r = await send({ path });
    assert.ok(r.status === 404 || r.status === 200, path);
    assert.doesNotMatch(r.body, /root:|"name"/, path);
  }
});

test('the event stream delivers live events to an authenticated client', async () => {
  const received = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: consoleServer.port, path: '/api/events', headers: { Host: `127.0.0.1:${consoleServer.port}`, [SECRET_HEADER]: consoleServer.secret } }, (res) => {
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /text\/event-stream/);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        if (text.includes('"seq":7')) {
          req.destroy();
          resolve(text);
        }
      });
      setImmediate(() => {
        for (const l of listeners) l({ seq: 7, id: 'e7', time: new Date().toISOString(), type: 'egress.deny', subjectId: null, summary: 'blocked', data: null });
      });
    });
    req.setTimeout(5000, () => reject(new Error('no event within 5 s')));
    req.on('error', () => undefined);
    req.end();
  });
  assert.match(received, /^id: 7$/m);
});

test('the daemon being down or a method failing gives a JSON error, not a crash', async () => {
  const failing = await startLocalConsole({
    staticDir: join(staticDir, 'missing'),
    log: silentLogger,
    call: async () => {
      throw new Error('socket path /secret/should-not-leak');
    },
    subscribe: () => () => undefined,
  });
  try {
    const r = await new Promise<Reply>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: failing.port, method: 'POST', path: '/api/call', headers: { Host: `localhost:${failing.port}`, 'Content-Type': 'application/json', [SECRET_HEADER]: failing.secret } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end('{"method":"status"}');
    });
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.body, /should-not-leak/);
    const page = await new Promise<number>((resolve) => {
      request({ host: '127.0.0.1', port: failing.port, path: '/', headers: { Host: `127.0.0.1:${failing.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    assert.equal(page, 503, 'a console that was not built says so');
  } finally {
    await failing.close();
  }
});

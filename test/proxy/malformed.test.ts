import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawExchange, startHarness, viaProxy } from './helpers/proxyHarness.ts';
import { startHttpOrigin } from './helpers/origins.ts';

test('malformed requests, smuggling shapes and bad CONNECT targets get a 400, and the proxy keeps serving', async () => {
  const h = await startHarness();
  const origin = await startHttpOrigin();
  const o = `127.0.0.1:${origin.port}`;
  const target = `http://${o}`;
  const shapes: Record<string, string> = {
    'garbage request line': 'GARBAGE\r\n\r\n',
    'bad HTTP version': `GET ${target}/ HTTP/9.9\r\nHost: ${o}\r\n\r\n`,
    'bad method token': `G@T ${target}/ HTTP/1.1\r\nHost: ${o}\r\n\r\n`,
    'oversized headers': `GET ${target}/ HTTP/1.1\r\nHost: ${o}\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`,
    'Content-Length with Transfer-Encoding': `POST ${target}/ HTTP/1.1\r\nHost: ${o}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: ${o}\r\n\r\n`,
    'differing Content-Length values': `POST ${target}/ HTTP/1.1\r\nHost: ${o}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    'comma-joined differing Content-Length': `POST ${target}/ HTTP/1.1\r\nHost: ${o}\r\nContent-Length: 5, 6\r\n\r\nhello!`,
    'non-numeric Content-Length': `POST ${target}/ HTTP/1.1\r\nHost: ${o}\r\nContent-Length: +5\r\n\r\nhello`,
    'obs-fold': `GET ${target}/ HTTP/1.1\r\nHost: ${o}\r\nX-Folded: a\r\n b\r\n\r\n`,
    'space before colon': `GET ${target}/ HTTP/1.1\r\nHost : ${o}\r\n\r\n`,
    'invalid chunk size': `POST ${target}/ HTTP/1.1\r\nHost: ${o}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
    'chunked not last': `POST ${target}/ HTTP/1.1\r\nHost: ${o}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`,
    'unknown transfer coding': `POST ${target}/ HTTP/1.1\r\nHost: ${o}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
    'NUL in a header value': `GET ${target}/ HTTP/1.1\r\nHost: ${o}\r\nX-A: a\0b\r\n\r\n`,
    'missing Host': `GET ${target}/ HTTP/1.1\r\n\r\n`,
    'userinfo in the target': `GET http://user:pw@${o}/ HTTP/1.1\r\nHost: ${o}\r\n\r\n`,
    'https absolute-form': `GET https://${o}/ HTTP/1.1\r\nHost: ${o}\r\n\r\n`,
    'origin-form': `GET /etc/passwd HTTP/1.1\r\nHost: ${o}\r\n\r\n`,
    'CONNECT without port': 'CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n',
    'CONNECT port 0': 'CONNECT example.com:0 HTTP/1.1\r\nHost: example.com:0\r\n\r\n',
    'CONNECT port > 65535': 'CONNECT example.com:65536 HTTP/1.1\r\nHost: example.com:65536\r\n\r\n',
    'CONNECT userinfo': 'CONNECT user:pw@example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    'CONNECT empty host': 'CONNECT :443 HTTP/1.1\r\nHost: :443\r\n\r\n',
    'CONNECT unbracketed IPv6': 'CONNECT ::1:443 HTTP/1.1\r\nHost: x\r\n\r\n',
    'CONNECT to the proxy itself': `CONNECT 127.0.0.1:${h.proxy.port} HTTP/1.1\r\nHost: x\r\n\r\n`,
    'h2c upgrade to the proxy': 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  };
  try {
    for (const [name, bytes] of Object.entries(shapes)) {
      const answer = await rawExchange(h.proxy, bytes);
      assert.match(answer, /^HTTP\/1\.1 400 /, `${name}: ${JSON.stringify(answer.slice(0, 120))}`);
      assert.doesNotMatch(answer, /HTTP\/1\.1 200/, `${name} must not also be answered`);
    }
    assert.ok(!origin.seen.some((r) => r.url.includes('smuggled')), 'no smuggled request reached the origin');
    // Still serving.
    const ok = await viaProxy(h.proxy, `${target}/after`);
    assert.equal(ok.status, 200);
    assert.ok(h.proxy.stats().malformed >= Object.keys(shapes).length - 2);
  } finally {
    await h.close();
    await origin.close();
  }
});

test('a client that never finishes its request head is cut off, and others are served meanwhile', async () => {
  const h = await startHarness({ limits: { headersTimeoutMs: 500 } });
  const origin = await startHttpOrigin();
  try {
    const slow = rawExchange(h.proxy, `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nX-Slow: `, 5000);
    const ok = await viaProxy(h.proxy, `${origin.url}/meanwhile`);
    assert.equal(ok.status, 200);
    const answer = await slow;
    assert.match(answer, /^HTTP\/1\.1 408 /);
  } finally {
    await h.close();
    await origin.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { peekClientHello } from '../../app/proxy/tlsPeek.ts';

/** The first bytes a real TLS client (Node/OpenSSL) sends, captured on a plain TCP server. */
async function captureHello(servername?: string): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const captured = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          socket.destroy();
          resolve(buf);
        }
      });
    });
  });
  const client = tlsConnect({ host: '127.0.0.1', port, ...(servername !== undefined ? { servername } : {}), rejectUnauthorized: false });
  client.on('error', () => undefined);
  const hello = await captured;
  client.destroy();
  server.close();
  return hello;
}

test('the SNI of a real ClientHello is read, in one piece or arriving byte by byte', async () => {
  const hello = await captureHello('API.Example.com');
  const full = peekClientHello(hello);
  assert.deepEqual(full, { state: 'done', sni: 'api.example.com' });
  for (const cut of [0, 1, 4, 5, 100, hello.length - 1]) {
    assert.equal(peekClientHello(hello.subarray(0, cut)).state, 'need-more', `cut at ${cut}`);
  }
});

test('a ClientHello without SNI (IP target) gives null; non-TLS bytes are recognized at once', async () => {
  const hello = await captureHello();
  assert.deepEqual(peekClientHello(hello), { state: 'done', sni: null });
  assert.deepEqual(peekClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { state: 'not-tls' });
  assert.deepEqual(peekClientHello(Buffer.from([0x16, 0x01, 0x00, 0x00, 0x10])), { state: 'not-tls' });
  assert.deepEqual(peekClientHello(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff])), { state: 'not-tls' });
});

test('corrupted and random hellos never throw (bounded fuzz)', async () => {
  const hello = await captureHello('fuzz.example');
  for (let i = 0; i < 2000; i++) {
    const copy = Buffer.from(hello);
    const flips = 1 + (i % 8);
    for (let j = 0; j < flips; j++) {
      const at = 5 + ((i * 7919 + j * 104729) % (copy.length - 5));
      copy[at] = randomBytes(1)[0] as number;
    }
    const result = peekClientHello(copy);
    assert.ok(['done', 'need-more', 'not-tls'].includes(result.state));
  }
  for (let i = 0; i < 500; i++) {
    const junk = Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), randomBytes(2 + (i % 300))]);
    peekClientHello(junk);
  }
});

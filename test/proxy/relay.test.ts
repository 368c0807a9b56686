// The tunnel's download relay (app/proxy/relay.ts): every byte arrives, in order, when the origin
// speaks before the relay starts and when the client reads slowly (backpressure, reused buffers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connectRelayed, RELAY_READ_BYTES } from '../../app/proxy/relay.ts';

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

test('a slow client gets every byte the origin sent, in order, including bytes sent before the relay started', { timeout: 60_000 }, async () => {
  const banner = Buffer.from('SSH-2.0-origin-speaks-first\r\n');
  // Far more than loopback's socket buffers hold, so the relay's writes queue up while the client waits.
  const payload = randomBytes(192 * RELAY_READ_BYTES + 12_345);
  const origin = createServer((s) => {
    s.write(banner);
    setTimeout(() => s.end(payload), 20);
  });
  const sinkServer = createServer();
  try {
    const relayed = await connectRelayed('127.0.0.1', await listen(origin), 5000);
    await new Promise((r) => setTimeout(r, 50)); // the banner is in before anyone relays it
    const sinkPort = await listen(sinkServer);
    const accepted = new Promise<Socket>((resolve) => sinkServer.once('connection', resolve));
    const reader = connect(sinkPort, '127.0.0.1');
    reader.pause();
    const sink = await accepted;
    relayed.relayTo(sink);
    await new Promise((r) => setTimeout(r, 300));
    reader.resume();
    const received: Buffer[] = [];
    let chunks = 0;
    await new Promise<void>((resolve, reject) => {
      reader.on('data', (chunk: Buffer) => {
        received.push(chunk);
        // Read slowly for a while: the relay's writes queue up and it must pause the origin.
        if (++chunks < 300) {
          reader.pause();
          setTimeout(() => reader.resume(), 1);
        }
      });
      reader.on('end', resolve);
      reader.on('error', reject);
    });
    const all = Buffer.concat(received);
    const expected = Buffer.concat([banner, payload]);
    assert.equal(all.length, expected.length);
    assert.equal(createHash('sha256').update(all).digest('hex'), createHash('sha256').update(expected).digest('hex'));
    assert.equal(relayed.socket.bytesRead, expected.length);
    reader.destroy();
  } finally {
    origin.close();
    sinkServer.close();
  }
});

test('small reads while the client is backed up: a buffer the client still queues is never overwritten', { timeout: 60_000 }, async () => {
  // The origin trickles 1,000-byte writes, so the relay's reads are small and its writes queue
  // below the client's high-water mark (write() still says "more") while the client is not reading.
  const payload = randomBytes(8 * 1024 * 1024);
  const origin = createServer((s) => {
    let at = 0;
    const next = (): void => {
      for (let i = 0; i < 16 && at < payload.length; i++, at += 1000) s.write(payload.subarray(at, at + 1000));
      if (at < payload.length) setImmediate(next);
      else s.end();
    };
    next();
  });
  const sinkServer = createServer();
  try {
    const relayed = await connectRelayed('127.0.0.1', await listen(origin), 5000);
    const accepted = new Promise<Socket>((resolve) => sinkServer.once('connection', resolve));
    const reader = connect(await listen(sinkServer), '127.0.0.1');
    reader.pause();
    relayed.relayTo(await accepted);
    await new Promise((r) => setTimeout(r, 500));
    const received: Buffer[] = [];
    reader.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve, reject) => {
      reader.on('end', resolve);
      reader.on('error', reject);
      reader.resume();
    });
    const all = Buffer.concat(received);
    assert.equal(all.length, payload.length);
    assert.ok(all.equals(payload), 'the bytes arrived altered');
    reader.destroy();
  } finally {
    origin.close();
    sinkServer.close();
  }
});

test('a refused or silent origin fails the connection with its cause', async () => {
  const closed = createServer();
  const port = await listen(closed);
  await new Promise((r) => closed.close(r));
  await assert.rejects(connectRelayed('127.0.0.1', port, 5000), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
});

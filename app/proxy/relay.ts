/**
 * The download side of an opaque tunnel without a stream pipe. A pipe reads 64 KiB at a time into
 * a fresh buffer and sends each through the readable and writable stream machinery; here the
 * origin socket reads (net's `onread`) into one reused RELAY_READ_BYTES buffer, as much as the
 * kernel holds, and each read goes straight to the client socket. The buffer is replaced only when
 * the client could not take a read at once (its write queue still points into the buffer).
 * Measured with curl fetching 1 MiB bodies through a tunnel: 15 to 45% more throughput than a pipe
 * for the same proxy CPU (bench/proxy.bench.ts). Backpressure as with a pipe: when the client's
 * queue is full the origin is paused until it drains.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { whenConnected } from './upstream.ts';

export const RELAY_READ_BYTES = 256 * 1024;

export type RelayedSocket = Readonly<{
  socket: Socket;
  /** Starts sending what the origin sends (and anything it sent before) to sink. Call once. */
  relayTo(sink: Socket): void;
}>;

/** A TCP connection to host:port whose incoming bytes wait for relayTo; fails after timeoutMs. */
export function connectRelayed(host: string, port: number, timeoutMs: number): Promise<RelayedSocket> {
  let sink: Socket | null = null;
  /** Bytes that arrived before relayTo (an origin that speaks first), copied out of the buffer. */
  const early: Buffer[] = [];
  let buffer = Buffer.allocUnsafe(RELAY_READ_BYTES);
  let lent = false;
  const socket: Socket = netConnect({
    host,
    port,
    onread: {
      // Called after every read: a buffer the client's queue may still hold is not reused.
      buffer: () => {
        if (lent) {
          buffer = Buffer.allocUnsafe(RELAY_READ_BYTES);
          lent = false;
        }
        return buffer;
      },
      callback: (bytes: number, read: Uint8Array): boolean => {
        const chunk = Buffer.from(read.buffer, read.byteOffset, bytes);
        if (sink === null) {
          early.push(Buffer.from(chunk));
          return false;
        }
        if (sink.destroyed) return false;
        const more = sink.write(chunk);
        if (sink.writableLength > 0) lent = true;
        if (!more) {
          sink.once('drain', () => socket.resume());
          return false;
        }
        return true;
      },
    },
  });
  const relayTo = (to: Socket): void => {
    if (sink !== null) return;
    sink = to;
    for (const chunk of early.splice(0)) to.write(chunk);
    socket.on('end', () => to.end());
    socket.resume();
  };
  return whenConnected(socket, host, port, timeoutMs).then(() => ({ socket, relayTo }));
}

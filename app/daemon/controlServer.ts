/**
 * The daemon side of the control API: newline-delimited JSON on a Unix socket (named pipe on
 * Windows). Every request is validated; a malformed line, an unknown method or a handler that
 * throws becomes an error response, never a crash. Subscribed connections get pushed events.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { CoreError, toErrorData } from '../api/errors.ts';
import type { ControlMethod, ControlMethods, ControlPush, ControlResponse, CordonEvent } from '../api/control.ts';
import type { Logger } from '../util/log.ts';

const MAX_LINE_BYTES = 1024 * 1024;
const MAX_CONNECTIONS = 64;

export type Connection = Readonly<{ subscribe(afterSeq?: number): void }>;

/** One handler per method; the mapped type makes a missing handler a compile error. */
export type ControlHandlers = {
  readonly [M in ControlMethod]: (params: unknown, connection: Connection) => Promise<ControlMethods[M][1]>;
};

export type ControlServer = Readonly<{
  /** Sends an event to every subscribed connection. */
  publish(event: CordonEvent): void;
  close(): Promise<void>;
}>;

export async function startControlServer(
  socketPath: string,
  handlers: ControlHandlers,
  log: Logger,
  replay: (afterSeq: number) => readonly CordonEvent[],
): Promise<ControlServer> {
  const subscribers = new Set<Socket>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    if (sockets.size >= MAX_CONNECTIONS) {
      socket.end(`${JSON.stringify({ id: 0, ok: false, error: { code: 'ERR_BAD_REQUEST', message: 'too many connections' } })}\n`);
      return;
    }
    sockets.add(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    const connection: Connection = {
      subscribe(afterSeq) {
        subscribers.add(socket);
        if (afterSeq !== undefined) for (const event of replay(afterSeq)) send(socket, { event: 'event', data: event });
      },
    };
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE_BYTES && !buffer.includes('\n')) {
        send(socket, { id: 0, ok: false, error: { code: 'ERR_BAD_REQUEST', message: `request line longer than ${MAX_LINE_BYTES} bytes` } });
        socket.destroy();
        return;
      }
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) void handleLine(line, socket, connection);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      subscribers.delete(socket);
    });
  });

  const handleLine = async (line: string, socket: Socket, connection: Connection): Promise<void> => {
    let id = 0;
    try {
      const request = parseRequest(line);
      id = request.id;
      if (!Object.hasOwn(handlers, request.method)) throw new CoreError('ERR_UNKNOWN_METHOD', `unknown method '${request.method}'`);
      const handler = handlers[request.method as ControlMethod] as (params: unknown, c: Connection) => Promise<unknown>;
      const value = await handler(request.params ?? {}, connection);
      send(socket, { id, ok: true, value });
    } catch (error) {
      if (!(error instanceof CoreError)) log.error('control request failed', { error });
      send(socket, { id: requestIdOf(error) ?? id, ok: false, error: toErrorData(error) });
    }
  };

  if (process.platform !== 'win32') rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (process.platform !== 'win32') chmodSync(socketPath, 0o600);
  server.on('error', (error) => log.error('control socket error', { error }));

  return {
    publish(event) {
      for (const socket of subscribers) send(socket, { event: 'event', data: event });
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function parseRequest(line: string): { id: number; method: string; params: unknown } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new CoreError('ERR_BAD_REQUEST', 'request is not valid JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CoreError('ERR_BAD_REQUEST', 'request must be a JSON object');
  const { id, method, params } = raw as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new CoreError('ERR_BAD_REQUEST', 'request id must be an integer');
  if (typeof method !== 'string') throw withRequestId(new CoreError('ERR_BAD_REQUEST', 'request method must be a string'), id);
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    throw withRequestId(new CoreError('ERR_BAD_REQUEST', 'params must be an object'), id);
  }
  return { id, method, params };
}

/** Errors found after the id was read still answer that id, so the caller's promise settles. */
function withRequestId(error: CoreError, id: number): CoreError {
  return Object.assign(error, { requestId: id });
}

function requestIdOf(error: unknown): number | undefined {
  const id = (error as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'number' ? id : undefined;
}

function send(socket: Socket, message: ControlResponse | ControlPush): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
}

/**
 * The client side of the control API, used by the CLI and the tray app: typed calls over the
 * daemon's socket, with a timeout, and an event subscription.
 */
import { createConnection, type Socket } from 'node:net';
import { CoreError, type ErrorData } from '../api/errors.ts';
import type { ControlMethod, ControlParams, ControlResult, CordonEvent } from '../api/control.ts';

export type ControlClient = Readonly<{
  call<M extends ControlMethod>(method: M, params?: ControlParams<M>, timeoutMs?: number): Promise<ControlResult<M>>;
  /** Subscribes this connection to events; the listener gets each one. */
  onEvent(listener: (event: CordonEvent) => void): void;
  close(): void;
}>;

export async function connectControl(socketPath: string, connectTimeoutMs = 2000): Promise<ControlClient> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new CoreError('ERR_DAEMON_UNREACHABLE', `the Cordon daemon did not answer on ${socketPath}`));
    }, connectTimeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new CoreError('ERR_DAEMON_UNREACHABLE', `the Cordon daemon is not running (${error.code ?? error.message} on ${socketPath}); start it with 'cordon daemon'`));
    });
  });
  socket.setEncoding('utf8');
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  const listeners: ((event: CordonEvent) => void)[] = [];
  let buffer = '';
  const failAll = (error: Error): void => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    pending.clear();
  };
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      let message: { id?: number; ok?: boolean; value?: unknown; error?: ErrorData; event?: string; data?: CordonEvent };
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      if (message.event === 'event' && message.data) {
        for (const listener of listeners) listener(message.data);
        continue;
      }
      const waiter = message.id !== undefined ? pending.get(message.id) : undefined;
      if (!waiter || message.id === undefined) continue;
      pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new CoreError(message.error?.code ?? 'ERR_INTERNAL', message.error?.message ?? 'daemon error'));
    }
  });
  socket.on('close', () => failAll(new CoreError('ERR_DAEMON_UNREACHABLE', 'the Cordon daemon closed the connection')));
  socket.on('error', () => undefined);

  return {
    call(method, params, timeoutMs = 30_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new CoreError('ERR_DAEMON_UNREACHABLE', `the Cordon daemon did not answer '${method}' within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        socket.write(`${JSON.stringify({ id, method, params: params ?? {} })}\n`);
      });
    },
    onEvent(listener) {
      listeners.push(listener);
    },
    close() {
      socket.destroy();
    },
  };
}

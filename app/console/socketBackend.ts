/**
 * The console's backend over the daemon's control socket: what `cordon ui` uses when the daemon
 * does not serve the console itself, and what tests use. One connection for calls, one for events.
 */
import { connectControl, type ControlClient } from '../client/controlClient.ts';
import type { ControlMethod, CordonEvent } from '../api/control.ts';
import type { LocalConsoleOptions } from './server.ts';

export type SocketBackend = Pick<LocalConsoleOptions, 'call' | 'subscribe'> & { close(): void };

/** Connects to the daemon; fails with ERR_DAEMON_UNREACHABLE when it is not running. */
export async function connectSocketBackend(socketPath: string): Promise<SocketBackend> {
  const calls = await connectControl(socketPath);
  let events: ControlClient | null = null;
  const listeners = new Set<(event: CordonEvent) => void>();
  try {
    events = await connectControl(socketPath);
    events.onEvent((event) => {
      for (const listener of listeners) listener(event);
    });
    await events.call('subscribe', {});
  } catch (error) {
    calls.close();
    events?.close();
    throw error;
  }
  const eventClient = events;
  return {
    call: (method, params) => calls.call(method as ControlMethod, params as never),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      calls.close();
      eventClient.close();
    },
  };
}

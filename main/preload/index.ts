/**
 * The preload bridge: exposes a CordonUiClient as window.cordon through contextBridge. It runs in
 * the sandbox, so it imports nothing at run time but electron (types only otherwise); main checks everything again.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { CordonEvent } from '../../app/api/control.ts';
import type { CordonUiClient } from '../../app/api/uiClient.ts';
import type { InvokeChannel, IpcResult, PushChannel } from '../ipc/contract.ts';

const CALL: InvokeChannel = 'cordon:call';
const SUBSCRIBE: InvokeChannel = 'cordon:subscribe';
const PROMPT_ANSWER: InvokeChannel = 'cordon:prompt:answer';
const PROMPT_HIDE: InvokeChannel = 'cordon:prompt:hide';
const OPEN_CONSOLE: InvokeChannel = 'cordon:app:openConsole';
const EVENT: PushChannel = 'cordon:event';

/**
 * The error the renderer sees: the daemon's stable code and message. contextBridge may copy only
 * an Error's message, so the code also leads the message as "[CODE] message".
 */
class BridgeError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'CoreError';
    this.code = code;
  }
}

async function invoke(channel: InvokeChannel, ...args: unknown[]): Promise<unknown> {
  const result = (await ipcRenderer.invoke(channel, ...args)) as IpcResult<unknown>;
  if (result.ok) return result.value;
  throw new BridgeError(result.error.code, result.error.message);
}

const listeners = new Set<(event: CordonEvent) => void>();
let subscribed = false;

ipcRenderer.on(EVENT, (_event: IpcRendererEvent, data: CordonEvent) => {
  for (const listener of listeners) {
    try {
      listener(data);
    } catch {
      // One failing listener must not starve the others.
    }
  }
});

const client: CordonUiClient = {
  call(method, params) {
    return invoke(CALL, method, params) as never;
  },
  onEvent(listener) {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    listeners.add(listener);
    if (!subscribed) {
      subscribed = true;
      void invoke(SUBSCRIBE).catch(() => {
        subscribed = false;
      });
    }
    return () => {
      listeners.delete(listener);
    };
  },
};

/** Extra calls only the prompt window uses. */
const prompt = {
  answer(id: string, answer: string): Promise<unknown> {
    return invoke(PROMPT_ANSWER, { id, answer });
  },
  hide(): Promise<unknown> {
    return invoke(PROMPT_HIDE);
  },
  openConsole(): Promise<unknown> {
    return invoke(OPEN_CONSOLE);
  },
};

contextBridge.exposeInMainWorld('cordon', { call: client.call, onEvent: client.onEvent, prompt });

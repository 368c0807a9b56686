/**
 * The IPC contract between the Electron main process and the sandboxed renderer: every channel,
 * its direction and its argument/result types, derived from the UI client contract (app/api/uiClient.ts).
 */
import type { ApprovalAnswer } from '../../app/api/approvals.ts';
import type { CordonEvent } from '../../app/api/control.ts';
import type { ErrorData } from '../../app/api/errors.ts';
import type { UiMethod } from '../../app/api/uiClient.ts';
import type { ControlParams, ControlResult } from '../../app/api/control.ts';

/** Renderer -> main request/response channels (ipcRenderer.invoke / ipcMain.handle). */
export const INVOKE_CHANNELS = ['cordon:call', 'cordon:subscribe', 'cordon:prompt:answer', 'cordon:prompt:hide', 'cordon:app:openConsole'] as const;
export type InvokeChannel = (typeof INVOKE_CHANNELS)[number];

/** Main -> renderer pushes (webContents.send / ipcRenderer.on). */
export const PUSH_CHANNELS = ['cordon:event'] as const;
export type PushChannel = (typeof PUSH_CHANNELS)[number];

/** What crosses the bridge for a call: never a thrown Error (its message would be mangled by Electron). */
export type IpcResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorData };

/** A UI control call: the method name and its params, as one tuple. */
export type CallArgs = { [M in UiMethod]: [method: M, params: ControlParams<M>] }[UiMethod];

/** Channel -> [argument tuple, result]. */
export type InvokeContract = {
  'cordon:call': [CallArgs, IpcResult<ControlResult<UiMethod>>];
  /** Starts the live event push to this window; idempotent. */
  'cordon:subscribe': [[], IpcResult<{ readonly subscribed: true }>];
  /** Answer from the prompt window (same effect as answerApproval, but also advances the prompt queue). */
  'cordon:prompt:answer': [[{ readonly id: string; readonly answer: ApprovalAnswer }], IpcResult<{ readonly answered: true }>];
  /** The prompt window asks to be hidden (Escape with nothing pending). */
  'cordon:prompt:hide': [[], IpcResult<{ readonly hidden: true }>];
  /** Open the console window (from the prompt's "details" link). */
  'cordon:app:openConsole': [[], IpcResult<{ readonly opened: true }>];
};

export type PushContract = {
  'cordon:event': CordonEvent;
};

/** The name under which the preload exposes the CordonUiClient to the renderer (window.cordon). */
export const BRIDGE_GLOBAL = 'cordon';

export function isInvokeChannel(name: unknown): name is InvokeChannel {
  return typeof name === 'string' && (INVOKE_CHANNELS as readonly string[]).includes(name);
}

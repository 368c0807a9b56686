/**
 * The one typed client interface the React UI talks through. Two implementations: HTTP to the
 * daemon's local web console (browser, tests) and the Electron preload bridge (tray app). Both
 * expose only these methods: the UI can read and answer, never shut the daemon down or drive
 * hooks. Types and a constant only.
 */
import type { ControlMethod, ControlParams, ControlResult, CordonEvent } from './control.ts';

/** Control methods the UI may call, on either transport. */
export const UI_METHODS = ['status', 'inventory', 'events', 'approvals', 'answerApproval', 'policy', 'settings', 'keys', 'rescan', 'pause', 'resume'] as const satisfies readonly ControlMethod[];

export type UiMethod = (typeof UI_METHODS)[number];

export type CordonUiClient = {
  call<M extends UiMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>>;
  /** Live events (decisions, approvals, inventory changes); returns an unsubscribe function. */
  onEvent(listener: (event: CordonEvent) => void): () => void;
};

export function isUiMethod(name: unknown): name is UiMethod {
  return typeof name === 'string' && (UI_METHODS as readonly string[]).includes(name);
}

/**
 * Routes one IPC invoke to its handler after the sender and argument checks, and turns every
 * outcome into an IpcResult (never a throw across the bridge). Pure over injected handlers.
 */
import type { ApprovalAnswer } from '../../app/api/approvals.ts';
import type { ErrorData } from '../../app/api/errors.ts';
import type { CallArgs, InvokeChannel, IpcResult } from './contract.ts';
import { checkInvoke, checkSender, type SenderInfo } from './validate.ts';

/** What the main process does for each channel; `senderId` identifies the window (webContents id). */
export type InvokeHandlers = {
  call(args: CallArgs): Promise<unknown>;
  subscribe(senderId: number): void;
  promptAnswer(answer: { id: string; answer: ApprovalAnswer }): Promise<void>;
  promptHide(): void;
  openConsole(): void;
};

export type Refusal = { readonly channel: string; readonly reason: string };

const KNOWN_CODES = new Set(['ERR_BAD_REQUEST', 'ERR_UNKNOWN_METHOD', 'ERR_NOT_FOUND', 'ERR_DAEMON_UNREACHABLE', 'ERR_SETTINGS_INVALID', 'ERR_SETTINGS_LOCKED', 'ERR_KEYCHAIN_UNAVAILABLE', 'ERR_KEY_NOT_FOUND', 'ERR_STORE']);

/** A CoreError-like error becomes its code and message; anything else (a bug) a generic ERR_INTERNAL. */
export function toIpcError(error: unknown): ErrorData {
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    if (typeof code === 'string' && KNOWN_CODES.has(code) && typeof message === 'string') return { code: code as ErrorData['code'], message: message.slice(0, 500) };
  }
  return { code: 'ERR_INTERNAL', message: 'the Cordon app hit an internal error' };
}

/** Checks and runs one invoke. `onRefuse` hears why a message was refused (never its arguments). */
export async function dispatchInvoke(
  channel: InvokeChannel,
  sender: SenderInfo & { readonly id: number },
  args: readonly unknown[],
  rendererRoot: string,
  handlers: InvokeHandlers,
  onRefuse: (refusal: Refusal) => void,
): Promise<IpcResult<unknown>> {
  const from = checkSender(sender, rendererRoot);
  if (!from.ok) {
    onRefuse({ channel, reason: from.reason });
    return { ok: false, error: { code: 'ERR_BAD_REQUEST', message: 'refused: untrusted sender' } };
  }
  const checked = checkInvoke(channel, args);
  if (!checked.ok) {
    onRefuse({ channel, reason: checked.reason });
    return { ok: false, error: { code: 'ERR_BAD_REQUEST', message: checked.reason } };
  }
  try {
    switch (channel) {
      case 'cordon:call':
        return { ok: true, value: await handlers.call(checked.value as CallArgs) };
      case 'cordon:subscribe':
        handlers.subscribe(sender.id);
        return { ok: true, value: { subscribed: true } };
      case 'cordon:prompt:answer': {
        const [answer] = checked.value as [{ id: string; answer: ApprovalAnswer }];
        await handlers.promptAnswer(answer);
        return { ok: true, value: { answered: true } };
      }
      case 'cordon:prompt:hide':
        handlers.promptHide();
        return { ok: true, value: { hidden: true } };
      case 'cordon:app:openConsole':
        handlers.openConsole();
        return { ok: true, value: { opened: true } };
    }
  } catch (error) {
    return { ok: false, error: toIpcError(error) };
  }
}

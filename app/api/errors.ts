/**
 * The one error type that crosses process boundaries (control socket, CLI, IPC, HTTP): a stable
 * code the caller branches on, plus a human message. Bugs are not CoreErrors; they surface as
 * ERR_INTERNAL at the boundary.
 */
export type CoreErrorCode =
  | 'ERR_INTERNAL'
  | 'ERR_BAD_REQUEST'
  | 'ERR_UNKNOWN_METHOD'
  | 'ERR_NOT_FOUND'
  | 'ERR_DAEMON_UNREACHABLE'
  | 'ERR_DAEMON_RUNNING'
  | 'ERR_SETTINGS_INVALID'
  | 'ERR_SETTINGS_LOCKED'
  | 'ERR_KEYCHAIN_UNAVAILABLE'
  | 'ERR_KEY_NOT_FOUND'
  | 'ERR_KEY_CORRUPT'
  | 'ERR_DPOP_INVALID'
  | 'ERR_CA'
  | 'ERR_STORE';

export class CoreError extends Error {
  readonly code: CoreErrorCode;
  constructor(code: CoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CoreError';
    this.code = code;
  }
}

/** The wire shape of an error: what a CoreError becomes when it leaves its process. */
export type ErrorData = { readonly code: CoreErrorCode; readonly message: string };

export function toErrorData(error: unknown): ErrorData {
  if (error instanceof CoreError) return { code: error.code, message: error.message };
  return { code: 'ERR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/**
 * Writing responses: JSON with the right headers, and the one error shape (SyncErrorBody) every
 * non-2xx answer uses. Responses are never cached by intermediaries (they are per device or admin).
 */
import type { ServerResponse } from 'node:http';
import type { SyncErrorBody, SyncErrorCode, SyncProblem } from '../../app/api/sync.ts';

export type Headers = Readonly<Record<string, string>>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, error: SyncErrorCode, message: string, headers: Headers = {}, problems?: readonly SyncProblem[]): void {
  const body: SyncErrorBody = { error, message, ...(problems && problems.length > 0 ? { problems } : {}) };
  sendJson(res, status, body, headers);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Headers = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'cache-control': 'no-store', ...headers });
  res.end();
}

/** A failure the handler already knows the answer to (bad input, not found): becomes sendError. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: SyncErrorCode;
  readonly headers: Headers;
  readonly problems: readonly SyncProblem[] | undefined;
  constructor(status: number, code: SyncErrorCode, message: string, options: Readonly<{ headers?: Headers; problems?: readonly SyncProblem[] }> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.problems = options.problems;
  }
}

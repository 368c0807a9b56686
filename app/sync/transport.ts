/**
 * One fleet server as seen by the device: DPoP-signed JSON calls with the device key (the
 * server's nonce remembered between calls, proofs dated with the server's clock), and failures
 * sorted into what the sync loop does about them. Never puts the token or proofs in errors.
 */
import type { SyncErrorBody, SyncProblem } from '../api/sync.ts';
import { fetchWithDpop, type FetchLike } from '../identity/dpop/nonceRetry.ts';
import type { Signer } from '../identity/signer.ts';

/**
 * network: unreachable, timed out, 5xx or 429 (retry with backoff). revoked: the server revoked
 * this device (stop). unauthorized: token or proof refused (retry; re-enroll if it persists).
 * refused: the server will never accept this request as is (4xx). conflict: 409.
 */
export type SyncFailureKind = 'network' | 'revoked' | 'unauthorized' | 'refused' | 'conflict';

export class SyncCallError extends Error {
  readonly kind: SyncFailureKind;
  readonly status: number | null;
  readonly code: string | null;
  readonly problems: readonly SyncProblem[];
  constructor(kind: SyncFailureKind, message: string, options: Readonly<{ status?: number; code?: string; problems?: readonly SyncProblem[]; cause?: unknown }> = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'SyncCallError';
    this.kind = kind;
    this.status = options.status ?? null;
    this.code = options.code ?? null;
    this.problems = options.problems ?? [];
  }
}

export type CallResult<T> = Readonly<{ status: number; body: T | null; headers: Headers }>;

export type CallOptions = Readonly<{
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
  /** Sign with this key instead of the device key (re-key: the old key). */
  signer?: Signer;
  /** Statuses the caller handles itself (returned, not thrown). */
  accept?: readonly number[];
}>;

export type FleetTransport = Readonly<{
  baseUrl: string;
  /** An authenticated call (Authorization: DPoP <token> + proof). */
  call<T>(method: string, path: string, token: string, options?: CallOptions): Promise<CallResult<T>>;
  /** An unauthenticated JSON call (GET /v1/time). */
  plain<T>(method: string, path: string): Promise<CallResult<T>>;
  /** Enrollment: a proof without a token. */
  enroll<T>(body: unknown, signer: Signer): Promise<CallResult<T>>;
  /** Milliseconds to add to the local clock to get the server's. */
  setClockOffset(ms: number): void;
  clockOffset(): number;
  /** Forget the nonce (after a key change the new key gets its own). */
  resetNonce(): void;
}>;

export function createFleetTransport(options: Readonly<{ baseUrl: string; fetch: FetchLike; signer: () => Promise<Signer>; clock?: () => number }>): FleetTransport {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const clock = options.clock ?? Date.now;
  let nonce: string | undefined;
  let offset = 0;

  const send = async <T>(method: string, path: string, signer: Signer | null, token: string | null, opts: CallOptions): Promise<CallResult<T>> => {
    const url = `${baseUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      if (signer) {
        const result = await fetchWithDpop(options.fetch, url, {
          signer, method, headers, ...(token !== null ? { accessToken: token } : {}), ...(nonce !== undefined ? { nonce } : {}),
          clock: () => clock() + offset, ...(body !== undefined ? { body } : {}),
        });
        nonce = result.nonce;
        response = result.response;
      } else {
        response = await options.fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
      }
    } catch (error) {
      throw new SyncCallError('network', `cannot reach the fleet server at ${baseUrl}: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (response.ok || response.status === 304 || opts.accept?.includes(response.status)) return { status: response.status, body: parsed as T | null, headers: response.headers };
    throw failureOf(response.status, parsed, `${method} ${path}`);
  };

  return {
    baseUrl,
    call: async (method, path, token, opts = {}) => send(method, path, opts.signer ?? (await options.signer()), token, opts),
    plain: (method, path) => send(method, path, null, null, {}),
    enroll: (body, signer) => send('POST', '/v1/enroll', signer, null, { body }),
    setClockOffset(ms) {
      offset = Number.isFinite(ms) ? Math.round(ms) : 0;
    },
    clockOffset: () => offset,
    resetNonce() {
      nonce = undefined;
    },
  };
}

function failureOf(status: number, body: unknown, what: string): SyncCallError {
  const err = body && typeof body === 'object' ? (body as Partial<SyncErrorBody>) : {};
  const code = typeof err.error === 'string' ? err.error : undefined;
  const message = `${what}: HTTP ${status}${code ? ` ${code}` : ''}${typeof err.message === 'string' ? `: ${err.message.slice(0, 300)}` : ''}`;
  const problems = Array.isArray(err.problems) ? err.problems.slice(0, 100) : [];
  const options = { status, ...(code !== undefined ? { code } : {}), problems };
  if (status >= 500 || status === 429 || status === 408) return new SyncCallError('network', message, options);
  if (code === 'device_revoked') return new SyncCallError('revoked', message, options);
  if (status === 401 || status === 403) return new SyncCallError('unauthorized', message, options);
  if (status === 409) return new SyncCallError('conflict', message, options);
  return new SyncCallError('refused', message, options);
}

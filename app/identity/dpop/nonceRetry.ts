/**
 * Sends a DPoP request through any fetch-like function and, when the server answers
 * use_dpop_nonce with a DPoP-Nonce header, retries exactly once with a fresh proof carrying that
 * nonce. Returns the latest nonce so the caller can reuse it for that server.
 * @see RFC 9449 §8 (authorization server) and §9 (resource server)
 */
import { createDpopProof } from './proof.ts';
import type { Signer } from '../signer.ts';

/** The subset of fetch this helper needs (global fetch fits). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export type DpopFetchInit = Omit<RequestInit, 'headers'> &
  Readonly<{
    signer: Signer;
    headers?: Readonly<Record<string, string>>;
    /** A DPoP-bound access token: sent as `Authorization: DPoP <token>` and hashed into ath. */
    accessToken?: string;
    /** A nonce the server handed out before. */
    nonce?: string;
    /** Proof creation time source (ms); default Date.now. */
    clock?: () => number;
  }>;

export type DpopFetchResult = Readonly<{
  response: Response;
  /** The newest DPoP-Nonce the server sent (or the one passed in). */
  nonce: string | undefined;
  /** True when the request was sent a second time with the server's nonce. */
  retried: boolean;
}>;

/**
 * One request with a fresh proof, plus one retry on use_dpop_nonce. The body must be replayable
 * (string, bytes, URLSearchParams, FormData), not a stream: it may be sent twice.
 */
export async function fetchWithDpop(fetchFn: FetchLike, url: string, init: DpopFetchInit): Promise<DpopFetchResult> {
  const { signer, headers, accessToken, nonce, clock, ...rest } = init;
  const method = (rest.method ?? 'GET').toUpperCase();
  const send = (withNonce: string | undefined): Promise<Response> => {
    const proof = createDpopProof(signer, {
      htm: method,
      htu: url,
      ...(accessToken !== undefined ? { accessToken } : {}),
      ...(withNonce !== undefined ? { nonce: withNonce } : {}),
      now: (clock ?? Date.now)(),
    });
    const h: Record<string, string> = { ...headers, DPoP: proof };
    if (accessToken !== undefined) h.Authorization = `DPoP ${accessToken}`;
    return fetchFn(url, { ...rest, method, headers: h });
  };

  const first = await send(nonce);
  const offered = first.headers.get('dpop-nonce') ?? undefined;
  if (offered === undefined || offered === nonce || !(await asksForNonce(first))) {
    return { response: first, nonce: offered ?? nonce, retried: false };
  }
  await first.body?.cancel().catch(() => undefined);
  const second = await send(offered);
  return { response: second, nonce: second.headers.get('dpop-nonce') ?? offered, retried: true };
}

/** use_dpop_nonce arrives in WWW-Authenticate (resource server, 401) or a JSON body (authorization server, 400). */
async function asksForNonce(response: Response): Promise<boolean> {
  if (response.status !== 400 && response.status !== 401) return false;
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (/error\s*=\s*"?use_dpop_nonce"?/i.test(challenge)) return true;
  if (!(response.headers.get('content-type') ?? '').includes('json')) return false;
  try {
    const body = (await response.clone().json()) as { error?: unknown };
    return body.error === 'use_dpop_nonce';
  } catch {
    return false;
  }
}

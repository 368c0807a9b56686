/**
 * DPoP on the way out: for upstreams policy marks as DPoP, the proxy replaces the client's
 * credentials with `Authorization: DPoP <token>` and a fresh proof signed for the calling agent,
 * and retries once when the server answers use_dpop_nonce. The body is buffered (bounded) so it
 * can be sent twice.
 * @see RFC 9449 §7.1 (DPoP scheme), §8-9 (nonces)
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { recordOutcome, type Admitted } from './admission.ts';
import { sendError } from './blockResponse.ts';
import type { ProxyContext } from './context.ts';
import { firstHeader } from './headers.ts';
import { originHeaders, originRequest, relayResponse, type Exchange } from './origin.ts';
import { hostHeaderOf } from './target.ts';
import { reachFailure } from './upstream.ts';

const DROP: ReadonlySet<string> = new Set(['host', 'authorization', 'dpop', 'content-length']);
const AUTHORIZATION_RE = /^DPoP [A-Za-z0-9\-._~+/]+=*$/;
const JWS_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const NONCE_RE = /^[\x21\x23-\x5b\x5d-\x7e]{1,1024}$/;
const MAX_NONCES = 1024;

/** Forwards one request with a DPoP credential attached; answers and records it; never throws. */
export async function forwardWithDpop(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, ex: Exchange, admitted: Admitted, credential: string): Promise<void> {
  const fail = (status: number, message: string): void => {
    sendError(res, status, message, true);
    recordOutcome(ctx, admitted, { outcome: 'failed', status, error: message, dpop: { credential, nonceRetry: false } });
  };
  const signer = ctx.hooks.dpop;
  if (!signer) return fail(502, 'this destination needs a DPoP credential but no DPoP signer is configured');
  const body = await readBody(req, ctx.limits.dpopBodyMaxBytes);
  if (body === null) return fail(413, `the request body is larger than ${ctx.limits.dpopBodyMaxBytes} bytes, the most Cordon buffers for a DPoP upstream`);

  const authority = hostHeaderOf(ex.origin.host, ex.origin.port, ex.origin.scheme === 'https' ? 443 : 80);
  const url = `${ex.origin.scheme}://${authority}${ex.path}`;
  const nonceKey = `${admitted.principal.agent?.id ?? 'unattributed'} ${ex.origin.scheme}://${authority}`;
  const method = req.method ?? 'GET';
  const base = originHeaders(req, ex.origin, DROP);
  const sendsBody = body.length > 0 || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  let nonce = ctx.dpopNonces.get(nonceKey);
  let nonceRetry = false;
  let inFlight: ClientRequest | null = null;
  res.once('close', () => {
    if (!res.writableFinished) inFlight?.destroy();
  });

  for (let attempt = 0; attempt < 2; attempt++) {
    let auth: { authorization: string; dpop: string };
    try {
      auth = await signer.authorize(admitted.principal, { method, url, credential, ...(nonce !== undefined ? { nonce } : {}) });
    } catch (error) {
      ctx.log.warn('proxy DPoP signing failed', { host: ex.origin.host, credential, code: (error as { code?: unknown }).code });
      return fail(502, 'Cordon could not sign a DPoP proof for this request');
    }
    if (typeof auth?.authorization !== 'string' || !AUTHORIZATION_RE.test(auth.authorization) || typeof auth.dpop !== 'string' || !JWS_RE.test(auth.dpop)) {
      return fail(502, 'the DPoP signer returned malformed credentials');
    }
    const headers = [...base, 'Authorization', auth.authorization, 'DPoP', auth.dpop];
    if (sendsBody) headers.push('Content-Length', String(body.length));
    const out = originRequest(ctx, ex.origin, method, ex.path, headers);
    inFlight = out;
    let response: IncomingMessage;
    try {
      response = await new Promise<IncomingMessage>((resolve, reject) => {
        out.once('response', resolve);
        out.once('error', reject);
        out.end(body);
      });
    } catch (error) {
      if (res.destroyed) {
        recordOutcome(ctx, admitted, { outcome: 'failed', status: null, error: 'the client went away', dpop: { credential, nonceRetry } });
        return;
      }
      const failure = reachFailure(error, authority);
      return fail(failure.status, failure.message);
    }
    const offered = firstHeader(response.headers, 'dpop-nonce');
    if (offered !== undefined && NONCE_RE.test(offered)) rememberNonce(ctx, nonceKey, offered);
    if (attempt === 0 && response.statusCode === 401 && offered !== undefined && offered !== nonce && asksForNonce(response)) {
      response.resume();
      inFlight = null;
      nonce = offered;
      nonceRetry = true;
      continue;
    }
    relay(ctx, res, response, admitted, body.length, { credential, nonceRetry });
    return;
  }
}

function relay(ctx: ProxyContext, res: ServerResponse, response: IncomingMessage, admitted: Admitted, bytesUp: number, dpop: { credential: string; nonceRetry: boolean }): void {
  let bytesDown = 0;
  const status = response.statusCode ?? 502;
  response.on('error', () => res.destroy());
  response.once('close', () => {
    if (!response.complete) res.destroy();
  });
  res.once('close', () => {
    const complete = res.writableFinished;
    recordOutcome(ctx, admitted, { outcome: complete ? 'forwarded' : 'failed', status, bytesUp, bytesDown, dpop, ...(complete ? {} : { error: 'the exchange was cut off' }) });
  });
  relayResponse(res, response, (n) => (bytesDown += n));
}

/** The whole body, or null when it is larger than max (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.removeListener('data', onData);
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', () => resolve(null));
    req.once('close', () => resolve(size <= max && req.complete ? Buffer.concat(chunks, size) : null));
  });
}

/** True when a 401 carries `WWW-Authenticate: DPoP ... error="use_dpop_nonce"`. */
function asksForNonce(response: IncomingMessage): boolean {
  const values = response.headersDistinct['www-authenticate'] ?? [];
  return values.some((v) => /^\s*dpop\b/i.test(v) && /\berror\s*=\s*"?use_dpop_nonce"?/i.test(v));
}

function rememberNonce(ctx: ProxyContext, key: string, nonce: string): void {
  ctx.dpopNonces.delete(key);
  if (ctx.dpopNonces.size >= MAX_NONCES) ctx.dpopNonces.delete(ctx.dpopNonces.keys().next().value as string);
  ctx.dpopNonces.set(key, nonce);
}

/**
 * Forwards one visible HTTP exchange (absolute-form plain HTTP, or a request inside an inspected
 * tunnel): decide once, then stream the body up and the response down with backpressure, over
 * keep-alive pools. Bodies are only buffered for DPoP upstreams (dpopInject.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { admit, recordOutcome, type Admitted } from './admission.ts';
import { sendBlocked, sendError } from './blockResponse.ts';
import type { ProxyContext } from './context.ts';
import { forwardWithDpop } from './dpopInject.ts';
import { framingProblem, hasRequestBody, policyHeaders } from './headers.ts';
import { originHeaders, originRequest, relayResponse, type Exchange } from './origin.ts';
import { hostHeaderOf } from './target.ts';
import { reachFailure } from './upstream.ts';

/** Handles one request end to end; never throws. */
export async function handleExchange(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, ex: Exchange): Promise<void> {
  ctx.counters.requests++;
  const problem = framingProblem(req);
  if (problem !== null) {
    ctx.counters.malformed++;
    sendError(res, 400, `malformed request: ${problem}`, true);
    return;
  }
  const close = hasRequestBody(req);
  const admitted = await admit(
    ctx,
    ex.socket,
    {
      kind: ex.kind,
      host: ex.origin.host,
      port: ex.origin.port,
      method: req.method ?? 'GET',
      path: ex.path,
      headers: policyHeaders(req),
      ...(ex.sni !== undefined ? { sni: ex.sni } : {}),
    },
    (decision, auditId) => sendBlocked(res, decision, auditId, close),
  );
  if (admitted === null) return;
  if (res.destroyed || req.destroyed) {
    recordOutcome(ctx, admitted, { outcome: 'failed', status: null, error: 'the client went away before the decision' });
    return;
  }
  if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
  if (admitted.decision.dpop) {
    await forwardWithDpop(ctx, req, res, ex, admitted, admitted.decision.dpop.credential);
    return;
  }
  forwardStreaming(ctx, req, res, ex, admitted);
}

function forwardStreaming(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, ex: Exchange, admitted: Admitted): void {
  const target = hostHeaderOf(ex.origin.host, ex.origin.port, ex.origin.scheme === 'https' ? 443 : 80);
  const out = originRequest(ctx, ex.origin, req.method ?? 'GET', ex.path, originHeaders(req, ex.origin));
  let bytesUp = 0;
  let bytesDown = 0;
  let status: number | null = null;
  let error: string | undefined;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    const complete = error === undefined && res.writableFinished;
    recordOutcome(ctx, admitted, {
      outcome: complete ? 'forwarded' : 'failed',
      status,
      bytesUp,
      bytesDown,
      ...(complete ? {} : { error: error ?? 'the exchange was cut off' }),
    });
  };
  req.on('data', (chunk: Buffer) => (bytesUp += chunk.length));
  req.pipe(out);
  out.on('response', (upstream) => {
    status = upstream.statusCode ?? 502;
    upstream.on('error', () => res.destroy());
    upstream.once('close', () => {
      if (upstream.complete) return;
      error ??= 'the origin cut the response off';
      res.destroy();
    });
    relayResponse(res, upstream, (n) => (bytesDown += n));
  });
  out.on('error', (err) => {
    if (res.headersSent) {
      error ??= 'the origin connection failed mid-response';
      res.destroy();
      return;
    }
    const failure = reachFailure(err, target);
    error = failure.message;
    status = failure.status;
    ctx.log.debug('proxy origin request failed', { host: ex.origin.host, port: ex.origin.port, code: (err as NodeJS.ErrnoException).code });
    sendError(res, failure.status, failure.message, true);
  });
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
    finish();
  });
}

/**
 * The per-request (or per-tunnel) gate: principal, decision, and for a refusal the audit event and
 * the 403, at once. Also builds the audit event for an exchange that went through, with header
 * values and the query string left out.
 */
import type { Socket } from 'node:net';
import type { Decision, EgressRequest, Principal } from '../api/enforcement.ts';
import { principalOf, recordEvent, type ProxyContext } from './context.ts';
import { blocks, decide } from './gate.ts';
import { pathWithoutQuery } from './target.ts';
import type { ProxyEvent } from './types.ts';

/** A request policy let through (or, in monitor mode, would have blocked but did not). */
export type Admitted = Readonly<{
  time: string;
  started: number;
  principal: Principal;
  request: EgressRequest;
  decision: Decision;
}>;

/** What an exchange adds to its audit event once it is over. */
export type Outcome = Readonly<{
  outcome: ProxyEvent['outcome'];
  status: number | null;
  bytesUp?: number;
  bytesDown?: number;
  error?: string;
  upgrade?: 'websocket';
  inspected?: boolean;
  dpop?: ProxyEvent['dpop'];
}>;

/**
 * Decides one request. A refusal is recorded and answered through refuse(decision, auditId) and
 * yields null; otherwise the caller forwards and records with eventOf when done.
 */
export async function admit(
  ctx: ProxyContext,
  socket: Socket,
  request: EgressRequest,
  refuse: (decision: Decision, auditId: string) => void,
): Promise<Admitted | null> {
  const started = performance.now();
  const time = new Date().toISOString();
  const principal = await principalOf(ctx, socket);
  const decision = await decide(ctx, request, principal);
  const admitted: Admitted = { time, started, principal, request, decision };
  if (blocks(decision, ctx.mode)) {
    refuseAdmitted(ctx, admitted, decision, refuse);
    return null;
  }
  return admitted;
}

/** Records and answers a refusal for an already admitted exchange (e.g. a later SNI decision). */
export function refuseAdmitted(ctx: ProxyContext, admitted: Admitted, decision: Decision, refuse: (decision: Decision, auditId: string) => void, status: number | null = 403): void {
  ctx.counters.blocked++;
  const auditId = recordEvent(ctx, eventOf(ctx, { ...admitted, decision }, { outcome: 'blocked', status }));
  refuse(decision, auditId);
}

/** Records the end of an exchange; returns the audit id. */
export function recordOutcome(ctx: ProxyContext, admitted: Admitted, outcome: Outcome): string {
  return recordEvent(ctx, eventOf(ctx, admitted, outcome));
}

/** The audit event: the request without header values or query string. */
export function eventOf(ctx: ProxyContext, admitted: Admitted, outcome: Outcome): ProxyEvent {
  const r = admitted.request;
  const request: EgressRequest = {
    kind: r.kind,
    host: r.host,
    port: r.port,
    ...(r.method !== undefined ? { method: r.method } : {}),
    ...(r.path !== undefined ? { path: pathWithoutQuery(r.path) as string } : {}),
    ...(r.sni !== undefined ? { sni: r.sni } : {}),
  };
  return {
    time: admitted.time,
    principal: admitted.principal,
    request,
    decision: admitted.decision,
    mode: ctx.mode,
    outcome: outcome.outcome,
    status: outcome.status,
    bytesUp: outcome.bytesUp ?? 0,
    bytesDown: outcome.bytesDown ?? 0,
    durationMs: Math.round((performance.now() - admitted.started) * 1000) / 1000,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    ...(outcome.upgrade !== undefined ? { upgrade: outcome.upgrade } : {}),
    ...(outcome.inspected !== undefined ? { inspected: outcome.inspected } : {}),
    ...(outcome.dpop !== undefined ? { dpop: outcome.dpop } : {}),
  };
}

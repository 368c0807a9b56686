/**
 * Asks policy once per request or tunnel, under a deadline: a decision that errors, is malformed
 * or comes too late becomes deny in enforce mode (fail closed) and log in monitor mode. Also says
 * whether a decision blocks under the current mode.
 */
import type { Decision, DecisionAction, EgressRequest, Principal } from '../api/enforcement.ts';
import type { ProxyContext } from './context.ts';
import type { ProxyMode } from './types.ts';

const ACTIONS: ReadonlySet<DecisionAction> = new Set(['allow', 'log', 'ask', 'deny']);

/** The decision for a request; never throws and never waits longer than limits.decideTimeoutMs. */
export async function decide(ctx: ProxyContext, request: EgressRequest, principal: Principal): Promise<Decision> {
  let result: Decision | Promise<Decision>;
  try {
    result = ctx.hooks.decide(request, principal);
  } catch (error) {
    ctx.log.error('proxy policy decision failed', { error, host: request.host, port: request.port });
    return fallback(ctx.mode, 'decide-error', 'the policy engine failed to decide');
  }
  // The common case is a synchronous decision: no timer, no extra tick.
  if (!isThenable(result)) return checked(ctx, result);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ctx.limits.decideTimeoutMs);
  });
  try {
    const settled = await Promise.race([result, deadline]);
    if (settled === 'timeout') {
      ctx.log.warn('proxy policy decision timed out', { host: request.host, port: request.port, timeoutMs: ctx.limits.decideTimeoutMs });
      return fallback(ctx.mode, 'decide-timeout', `no decision within ${ctx.limits.decideTimeoutMs} ms`);
    }
    return checked(ctx, settled);
  } catch (error) {
    ctx.log.error('proxy policy decision failed', { error, host: request.host, port: request.port });
    return fallback(ctx.mode, 'decide-error', 'the policy engine failed to decide');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * True when the proxy must refuse: only in enforce mode, for deny and for an "ask" nobody
 * answered (approvals resolve asks inside decide; one that comes back unresolved fails closed).
 */
export function blocks(decision: Decision, mode: ProxyMode): boolean {
  return mode === 'enforce' && (decision.action === 'deny' || decision.action === 'ask');
}

/** The decision used when policy could not give one. */
export function fallback(mode: ProxyMode, code: string, message: string): Decision {
  return mode === 'enforce'
    ? { action: 'deny', rule: 'cordon:fail-closed', layer: 'default', reasons: [{ code, message: `${message}; Cordon fails closed in enforce mode` }] }
    : { action: 'log', rule: 'cordon:fail-open-monitor', layer: 'default', reasons: [{ code, message: `${message}; allowed because Cordon is in monitor mode` }] };
}

/** A decision for something policy was never asked about (e.g. a refused TLS handshake). */
export function proxyDecision(action: DecisionAction, rule: string, code: string, message: string): Decision {
  return { action, rule, layer: 'default', reasons: [{ code, message }] };
}

function checked(ctx: ProxyContext, decision: Decision): Decision {
  if (typeof decision === 'object' && decision !== null && ACTIONS.has(decision.action) && typeof decision.rule === 'string' && Array.isArray(decision.reasons)) {
    return decision;
  }
  ctx.log.error('proxy policy returned a malformed decision');
  return fallback(ctx.mode, 'decide-malformed', 'the policy engine returned a malformed decision');
}

function isThenable(value: unknown): value is Promise<Decision> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

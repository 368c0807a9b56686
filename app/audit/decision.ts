/**
 * What one policy decision becomes in the audit trail: the principal chain (argv redacted), the
 * destination (path without query values), the decision and its reasons, bytes and timing. Never
 * headers, bodies or secret values. Tolerates malformed input: bad fields become null, not throws.
 */
import { newEventId } from './eventId.ts';
import type { AuditDecision, AuditDecisionData, AuditProcess } from '../api/audit.ts';
import type { Decision, EgressRequest, Principal, ProcessInfo } from '../api/enforcement.ts';
import type { AuditRowInput } from './hash.ts';
import { redactArgv, redactPath, redactText } from './redact.ts';

const MAX_CHAIN = 32;
const MAX_REASONS = 32;
const MAX_FIELD = 512;
const ACTIONS: ReadonlySet<string> = new Set(['allow', 'log', 'ask', 'deny']);
const KINDS: ReadonlySet<string> = new Set(['http', 'connect', 'https']);

/** Everything the proxy knows about a decision once the request is done (or refused). */
export type DecisionAuditInput = Readonly<{
  principal: Principal;
  request: EgressRequest;
  decision: Decision;
  /** Thumbprint of the agent key that signed DPoP proofs for this request. */
  keyThumbprint?: string | null;
  bytesUp?: number | null;
  bytesDown?: number | null;
  durationMs?: number | null;
  /** HTTP status sent to the client (403 for a block). */
  status?: number | null;
  /** Event type; default "egress.<action>". Approvals use e.g. "approval.answered". */
  type?: string;
  /** Event time; default now. */
  time?: Date;
  /** Event id; default a fresh UUID (pass one to quote it in a response before the write). */
  id?: string;
}>;

/** The stored row (before chaining) for a decision. */
export function decisionRow(input: DecisionAuditInput, now: () => Date = () => new Date()): AuditRowInput {
  return decisionRowAndData(input, now).row;
}

/**
 * decisionRow, plus the data object its `data` column serializes (so a caller that needs the
 * event as an object need not parse back what was just written).
 */
export function decisionRowAndData(input: DecisionAuditInput, now: () => Date = () => new Date()): { row: AuditRowInput; data: AuditDecisionData } {
  const request = input.request ?? ({} as Partial<EgressRequest>);
  const decision = input.decision ?? ({} as Partial<Decision>);
  const principal = input.principal ?? ({} as Partial<Principal>);
  const action: AuditDecision = ACTIONS.has(decision.action as string) ? (decision.action as AuditDecision) : 'deny';
  const kind = KINDS.has(request.kind as string) ? (request.kind as 'http' | 'connect' | 'https') : 'http';
  const host = cleanString(request.host)?.toLowerCase() ?? '';
  const port = cleanInt(request.port);
  const method = cleanString(request.method)?.toUpperCase() ?? null;
  const path = typeof request.path === 'string' ? redactPath(request.path) : null;
  const rule = cleanString(decision.rule) ?? 'default';
  const agentIn = principal.agent ?? null;
  const agent = agentIn && typeof agentIn === 'object'
    ? { id: cleanString(agentIn.id) ?? 'unknown', kind: cleanString(agentIn.kind) ?? 'unknown', name: cleanString(agentIn.name) ?? 'unknown', pid: cleanInt(agentIn.pid) ?? 0, exe: cleanString(agentIn.exe) }
    : null;
  const keyThumbprint = cleanString(input.keyThumbprint);
  const bytesUp = cleanInt(input.bytesUp);
  const bytesDown = cleanInt(input.bytesDown);
  const audited = auditedPrincipal(principal, agent);
  const data: AuditDecisionData = {
    request: { kind, host, port: port ?? 0, method, path, sni: cleanString(request.sni)?.toLowerCase() ?? null },
    principal: audited.value,
    decision: {
      action,
      rule,
      layer: cleanString(decision.layer) ?? 'default',
      reasons: Array.isArray(decision.reasons)
        ? decision.reasons.slice(0, MAX_REASONS).map((r) => ({ code: cleanString(r?.code) ?? 'unknown', message: redactedText(cleanString(r?.message) ?? '') }))
        : [],
    },
    keyThumbprint,
    bytesUp,
    bytesDown,
    durationMs: typeof input.durationMs === 'number' && Number.isFinite(input.durationMs) && input.durationMs >= 0 ? Math.round(input.durationMs * 1000) / 1000 : null,
    status: cleanInt(input.status),
  };
  const target = kind === 'connect' ? `CONNECT ${host}:${port ?? '?'}` : `${method ?? 'GET'} ${kind}://${host}${port !== null ? `:${port}` : ''}${path ?? ''}`;
  const who = agent ? agent.kind : data.principal.attributed ? (data.principal.chain[0]?.exe ?? 'unknown process') : 'unattributed';
  const time = input.time instanceof Date && !Number.isNaN(input.time.getTime()) ? input.time : now();
  // JSON.stringify(data), with the principal's part serialized once per principal (it is the bulk
  // of the text: the whole process chain) and the same key order.
  const json = `{"request":${JSON.stringify(data.request)},"principal":${audited.json},"decision":${JSON.stringify(data.decision)},"keyThumbprint":${JSON.stringify(keyThumbprint)},"bytesUp":${JSON.stringify(bytesUp)},"bytesDown":${JSON.stringify(bytesDown)},"durationMs":${JSON.stringify(data.durationMs)},"status":${JSON.stringify(data.status)}}`;
  const row: AuditRowInput = {
    id: cleanString(input.id) ?? newEventId(),
    time: time.toISOString(),
    type: cleanString(input.type) ?? `egress.${action}`,
    subject_id: agent?.id ?? null,
    summary: `${action} ${target} (${who}) by ${rule}`,
    data: json,
    agent_id: agent?.id ?? null,
    agent_kind: agent?.kind ?? null,
    decision: action,
    rule,
    host,
    port,
    method,
    path,
    bytes_up: bytesUp,
    bytes_down: bytesDown,
    key_thumbprint: keyThumbprint,
  };
  return { row, data };
}

type AuditedPrincipal = Readonly<{ value: AuditDecisionData['principal']; json: string }>;

/**
 * The audited form of a principal and its JSON, per Principal object: the proxy hands the same
 * (readonly) principal to every request of a connection, and attributePid the same one to every
 * local action of a process, so the chain's command lines are redacted and serialized once. The
 * agent passed in is cleaned from that same principal, so it is the same each time too.
 */
const auditedPrincipals = new WeakMap<object, AuditedPrincipal>();

function auditedPrincipal(principal: Partial<Principal>, agent: AuditDecisionData['principal']['agent']): AuditedPrincipal {
  const cached = typeof principal === 'object' && principal !== null ? auditedPrincipals.get(principal) : undefined;
  if (cached !== undefined) return cached;
  const value: AuditDecisionData['principal'] = {
    attributed: principal.attributed === true,
    reason: typeof principal.reason === 'string' ? redactText(principal.reason) : null,
    agent,
    chain: Array.isArray(principal.chain) ? principal.chain.slice(0, MAX_CHAIN).map((p) => Object.freeze(redactProcess(p))) : [],
  };
  const audited = Object.freeze({ value: Object.freeze(value), json: JSON.stringify(value) });
  if (typeof principal === 'object' && principal !== null) auditedPrincipals.set(principal, audited);
  return audited;
}

/** Redacted reason messages: the same few messages recur on every request to a destination. */
const redactedTexts = new Map<string, string>();
const MAX_REDACTED_TEXTS = 1024;

function redactedText(text: string): string {
  let out = redactedTexts.get(text);
  if (out === undefined) {
    out = redactText(text);
    if (redactedTexts.size >= MAX_REDACTED_TEXTS) redactedTexts.clear();
    redactedTexts.set(text, out);
  }
  return out;
}

function redactProcess(p: ProcessInfo): AuditProcess {
  const proc = p ?? ({} as Partial<ProcessInfo>);
  return {
    pid: cleanInt(proc.pid) ?? 0,
    ppid: cleanInt(proc.ppid),
    exe: cleanString(proc.exe),
    argv: Array.isArray(proc.argv) ? redactArgv(proc.argv.map((a) => String(a))) : [],
    uid: cleanInt(proc.uid),
    user: cleanString(proc.user),
    cwd: cleanString(proc.cwd),
  };
}

function cleanString(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  return value.length > MAX_FIELD ? `${value.slice(0, MAX_FIELD)}…` : value;
}

function cleanInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

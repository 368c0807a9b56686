/**
 * Validation of control-API parameters that carry structure (event queries, local actions): a
 * request from any local client is untrusted input, so every field is checked and a bad one is
 * an ERR_BAD_REQUEST naming it.
 */
import type { EventQuery, LocalActionRequest, McpCallDetails, McpToolsChange } from '../api/control.ts';
import { CoreError } from '../api/errors.ts';
import type { LocalAction } from '../api/policy.ts';

export function parseEventQuery(params: unknown): EventQuery {
  const p = params as Record<string, unknown>;
  const query: { afterSeq?: number; since?: string; types?: string[]; limit?: number } = {};
  if (p.afterSeq !== undefined) {
    if (typeof p.afterSeq !== 'number' || !Number.isSafeInteger(p.afterSeq)) throw new CoreError('ERR_BAD_REQUEST', 'afterSeq must be an integer');
    query.afterSeq = p.afterSeq;
  }
  if (p.since !== undefined) {
    if (typeof p.since !== 'string' || Number.isNaN(Date.parse(p.since))) throw new CoreError('ERR_BAD_REQUEST', 'since must be an ISO time');
    query.since = new Date(p.since).toISOString();
  }
  if (p.types !== undefined) {
    if (!Array.isArray(p.types) || !p.types.every((t) => typeof t === 'string')) throw new CoreError('ERR_BAD_REQUEST', 'types must be an array of strings');
    query.types = p.types as string[];
  }
  if (p.limit !== undefined) {
    if (typeof p.limit !== 'number' || !Number.isSafeInteger(p.limit) || p.limit < 1) throw new CoreError('ERR_BAD_REQUEST', 'limit must be a positive integer');
    query.limit = p.limit;
  }
  return query;
}

/** Validates an mcpToolsChanged report: bounded names and lists, nothing else. */
export function parseMcpToolsChange(params: unknown): McpToolsChange {
  const p = (params ?? {}) as Record<string, unknown>;
  const name = (v: unknown, field: string, max: number): string => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new CoreError('ERR_BAD_REQUEST', `${field} must be a non-empty string of at most ${max} characters`);
    return v;
  };
  const list = (v: unknown, field: string): string[] => {
    if (!Array.isArray(v) || v.length > 256) throw new CoreError('ERR_BAD_REQUEST', `${field} must be a list of at most 256 tool names`);
    return v.map((t, i) => name(t, `${field}[${i}]`, 256));
  };
  const changed = list(p.changed, 'changed');
  const added = list(p.added, 'added');
  if (changed.length + added.length === 0) throw new CoreError('ERR_BAD_REQUEST', 'changed or added must name at least one tool');
  if (p.pid !== undefined && (typeof p.pid !== 'number' || !Number.isSafeInteger(p.pid) || p.pid <= 0)) throw new CoreError('ERR_BAD_REQUEST', 'pid must be a positive integer');
  return { server: name(p.server, 'server', 256), agent: name(p.agent, 'agent', 64), changed, added, ...(p.pid !== undefined ? { pid: p.pid as number } : {}) };
}

export function parseLocalActionRequest(params: unknown): LocalActionRequest {
  const p = params as Record<string, unknown>;
  const text = (v: unknown, name: string, max = 4096): string => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new CoreError('ERR_BAD_REQUEST', `${name} must be a non-empty string of at most ${max} characters`);
    return v;
  };
  const a = p.action as Record<string, unknown> | null | undefined;
  if (!a || typeof a !== 'object') throw new CoreError('ERR_BAD_REQUEST', 'action must be an object');
  let action: LocalAction;
  if (a.kind === 'command') action = { kind: 'command', command: text(a.command, 'action.command', 65_536) };
  else if (a.kind === 'file') {
    if (!['read', 'write', 'delete', 'execute'].includes(a.operation as string)) throw new CoreError('ERR_BAD_REQUEST', 'action.operation must be read, write, delete or execute');
    action = { kind: 'file', path: text(a.path, 'action.path'), operation: a.operation as 'read' | 'write' | 'delete' | 'execute' };
  } else if (a.kind === 'mcp') action = { kind: 'mcp', server: text(a.server, 'action.server', 256), tool: text(a.tool, 'action.tool', 256) };
  else throw new CoreError('ERR_BAD_REQUEST', 'action.kind must be command, file or mcp');
  if (p.pid !== undefined && (typeof p.pid !== 'number' || !Number.isSafeInteger(p.pid) || p.pid <= 0)) throw new CoreError('ERR_BAD_REQUEST', 'pid must be a positive integer');
  let details: McpCallDetails | undefined;
  if (p.details !== undefined) {
    const d = p.details as { argNames?: unknown; argsHash?: unknown } | null;
    const names = d?.argNames;
    if (action.kind !== 'mcp' || !Array.isArray(names) || names.length > 64 || !names.every((n) => typeof n === 'string' && n.length <= 130) || typeof d?.argsHash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d.argsHash)) {
      throw new CoreError('ERR_BAD_REQUEST', 'details must be {argNames: string[] (at most 64), argsHash: "sha256:<hex>"} on an mcp action');
    }
    details = { argNames: names as string[], argsHash: d.argsHash };
  }
  return {
    action,
    ...(details ? { details } : {}),
    agent: text(p.agent, 'agent', 64),
    source: text(p.source, 'source', 128),
    ...(p.pid !== undefined ? { pid: p.pid as number } : {}),
    ...(p.sessionId !== undefined ? { sessionId: text(p.sessionId, 'sessionId', 256) } : {}),
    ...(p.cwd !== undefined ? { cwd: text(p.cwd, 'cwd') } : {}),
  };
}

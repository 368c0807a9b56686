/**
 * Pure checks for every IPC message the main process receives: who sent it (the main frame of our
 * own bundled renderer, nothing else) and whether its arguments match the channel's contract.
 */
import type { ApprovalAnswer } from '../../app/api/approvals.ts';
import type { EventQuery } from '../../app/api/control.ts';
import { isUiMethod, type UiMethod } from '../../app/api/uiClient.ts';
import { isInvokeChannel, type CallArgs, type InvokeChannel, type InvokeContract } from './contract.ts';

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** What the handler knows about a sender: its frame URL and whether it is the top frame. */
export type SenderInfo = { readonly url: string; readonly isMainFrame: boolean };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const ANSWERS: readonly ApprovalAnswer[] = ['allow-once', 'allow-always', 'deny', 'deny-always'];
const APPROVAL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.*-]{0,63}$/;
const MAX_EVENT_LIMIT = 1000;
const MAX_EVENT_TYPES = 32;

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/**
 * Accepts only the main frame of a file:// page inside `rendererRoot` (a file: URL of the built
 * renderer directory). Subframes, other schemes, other directories and unparsable URLs are refused.
 */
export function checkSender(sender: SenderInfo, rendererRoot: string): Checked<true> {
  if (!sender.isMainFrame) return fail('the sender is not the main frame');
  let url: URL;
  let root: URL;
  try {
    url = new URL(sender.url);
    root = new URL(rendererRoot);
  } catch {
    return fail('the sender URL cannot be parsed');
  }
  if (url.protocol !== 'file:' || root.protocol !== 'file:') return fail(`the sender scheme ${url.protocol} is not file:`);
  if (url.host !== '' || url.host !== root.host) return fail('the sender URL names a host');
  const rootPath = root.pathname.endsWith('/') ? root.pathname : `${root.pathname}/`;
  if (!url.pathname.startsWith(rootPath)) return fail('the sender is not the bundled renderer');
  return { ok: true, value: true };
}

/** A plain object (Object or null prototype) with no prototype-polluting keys. */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Reflect.ownKeys(value).every((key) => typeof key === 'string' && !FORBIDDEN_KEYS.has(key));
}

/** Checks the object's keys against an allow-list, returning it as a record. */
function record(value: unknown, allowed: readonly string[], what: string): Checked<Record<string, unknown>> {
  if (value === undefined) return { ok: true, value: {} };
  if (!isPlainRecord(value)) return fail(`${what} must be a plain object without __proto__, constructor or prototype keys`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) return fail(`${what} has an unknown key ${JSON.stringify(key.slice(0, 40))}`);
  }
  return { ok: true, value };
}

function eventQuery(params: unknown): Checked<EventQuery> {
  const r = record(params, ['afterSeq', 'since', 'types', 'limit'], 'events params');
  if (!r.ok) return r;
  const { afterSeq, since, types, limit } = r.value;
  const out: { afterSeq?: number; since?: string; types?: string[]; limit?: number } = {};
  if (afterSeq !== undefined) {
    if (!Number.isSafeInteger(afterSeq) || (afterSeq as number) < 0) return fail('afterSeq must be a non-negative integer');
    out.afterSeq = afterSeq as number;
  }
  if (since !== undefined) {
    if (typeof since !== 'string' || since.length > 64 || Number.isNaN(Date.parse(since))) return fail('since must be an ISO 8601 time');
    out.since = since;
  }
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length > MAX_EVENT_TYPES) return fail(`types must be an array of at most ${MAX_EVENT_TYPES} event types`);
    if (!types.every((t) => typeof t === 'string' && EVENT_TYPE.test(t))) return fail('types must hold event type names such as "egress.deny"');
    out.types = [...(types as string[])];
  }
  if (limit !== undefined) {
    if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_EVENT_LIMIT) return fail(`limit must be an integer from 1 to ${MAX_EVENT_LIMIT}`);
    out.limit = limit as number;
  }
  return { ok: true, value: out };
}

/** {id, answer} of an approval answer, as a fresh object. */
export function checkAnswer(params: unknown): Checked<{ id: string; answer: ApprovalAnswer }> {
  if (params === undefined) return fail('answer params are required');
  const r = record(params, ['id', 'answer'], 'answer params');
  if (!r.ok) return r;
  const { id, answer } = r.value;
  if (typeof id !== 'string' || !APPROVAL_ID.test(id)) return fail('id must be an approval id');
  if (typeof answer !== 'string' || !(ANSWERS as readonly string[]).includes(answer)) return fail(`answer must be one of ${ANSWERS.join(', ')}`);
  return { ok: true, value: { id, answer: answer as ApprovalAnswer } };
}

/** Validates a UI control call's params for its method; returns a fresh, clean copy. */
export function checkCall(method: unknown, params: unknown): Checked<CallArgs> {
  if (!isUiMethod(method)) return fail(`unknown method ${typeof method === 'string' ? JSON.stringify(method.slice(0, 40)) : typeof method}`);
  const m: UiMethod = method;
  switch (m) {
    case 'status':
    case 'inventory':
    case 'policy':
    case 'settings':
    case 'keys':
    case 'resume':
    case 'rescan': {
      const r = record(params, [], `${m} params`);
      return r.ok ? { ok: true, value: [m, {}] as CallArgs } : r;
    }
    case 'events': {
      const r = eventQuery(params);
      return r.ok ? { ok: true, value: ['events', r.value] } : r;
    }
    case 'approvals': {
      const r = record(params, ['all'], 'approvals params');
      if (!r.ok) return r;
      const all = r.value.all;
      if (all !== undefined && typeof all !== 'boolean') return fail('all must be a boolean');
      return { ok: true, value: ['approvals', all === undefined ? {} : { all }] };
    }
    case 'answerApproval': {
      const r = checkAnswer(params);
      return r.ok ? { ok: true, value: ['answerApproval', r.value] } : r;
    }
    case 'pause': {
      const r = record(params, ['minutes'], 'pause params');
      if (!r.ok) return r;
      const minutes = r.value.minutes;
      if (!Number.isInteger(minutes) || (minutes as number) < 1 || (minutes as number) > 1440) return fail('minutes must be an integer from 1 to 1440');
      return { ok: true, value: ['pause', { minutes: minutes as number }] };
    }
  }
}

/** Validates the argument tuple of an invoke channel. Unknown channels and extra arguments are refused. */
export function checkInvoke<C extends InvokeChannel>(channel: C, args: readonly unknown[]): Checked<InvokeContract[C][0]>;
export function checkInvoke(channel: unknown, args: readonly unknown[]): Checked<unknown>;
export function checkInvoke(channel: unknown, args: readonly unknown[]): Checked<unknown> {
  if (!isInvokeChannel(channel)) return fail(`unknown channel ${typeof channel === 'string' ? JSON.stringify(channel.slice(0, 40)) : typeof channel}`);
  if (!Array.isArray(args)) return fail('arguments must be a list');
  switch (channel) {
    case 'cordon:call':
      if (args.length < 1 || args.length > 2) return fail('cordon:call takes (method, params)');
      return checkCall(args[0], args[1]);
    case 'cordon:prompt:answer': {
      if (args.length !== 1) return fail('cordon:prompt:answer takes ({id, answer})');
      const r = checkAnswer(args[0]);
      return r.ok ? { ok: true, value: [r.value] } : r;
    }
    case 'cordon:subscribe':
    case 'cordon:prompt:hide':
    case 'cordon:app:openConsole':
      if (args.length !== 0) return fail(`${channel} takes no arguments`);
      return { ok: true, value: [] };
  }
}

/**
 * The approval prompt's logic (pure): which approvals are waiting, when the prompt window shows
 * or hides, and when to raise a native notification, with bursts coalesced into one.
 */
import type { Approval } from '../app/api/approvals.ts';
import type { CordonEvent } from '../app/api/control.ts';
import { approvalTitle } from './tray/menuModel.ts';

/** Arrivals within this window after a notification are folded into one follow-up. */
export const NOTIFY_COALESCE_MS = 3000;

export type PromptState = {
  /** Pending approvals, oldest first. */
  readonly pending: readonly Approval[];
  readonly lastNotifiedAt: number | null;
  /** Arrivals not yet notified because they came within the coalescing window. */
  readonly unnotified: number;
};

export type PromptContext = { readonly now: number; readonly windowVisible: boolean; readonly windowFocused: boolean };

export type PromptInput =
  | { readonly type: 'snapshot'; readonly approvals: readonly Approval[] }
  | { readonly type: 'event'; readonly event: CordonEvent }
  | { readonly type: 'tick' };

export type PromptEffect =
  | { readonly type: 'show'; readonly focusId: string }
  | { readonly type: 'hide' }
  | { readonly type: 'update' }
  | { readonly type: 'notify'; readonly title: string; readonly body: string };

export const INITIAL_PROMPT: PromptState = { pending: [], lastNotifiedAt: null, unnotified: 0 };

/** A minimal shape check of an approval carried in an event's data (the daemon is trusted, not infallible). */
export function asApproval(data: unknown): Approval | null {
  if (typeof data !== 'object' || data === null) return null;
  const a = data as Partial<Approval>;
  if (typeof a.id !== 'string' || typeof a.status !== 'string' || typeof a.expiresAt !== 'string') return null;
  if (typeof a.subject !== 'object' || a.subject === null) return null;
  return data as Approval;
}

function sortPending(list: readonly Approval[], now: number): Approval[] {
  return list.filter((a) => a.status === 'pending' && Date.parse(a.expiresAt) > now).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Seconds until an approval falls back to its default action (never negative). */
export function secondsLeft(approval: Approval, now: number): number {
  const expires = Date.parse(approval.expiresAt);
  return Number.isNaN(expires) ? 0 : Math.max(0, Math.ceil((expires - now) / 1000));
}

/** Advances the prompt by one input and says what the window and notifications should do. */
export function promptReduce(state: PromptState, input: PromptInput, ctx: PromptContext): { state: PromptState; effects: PromptEffect[] } {
  const before = new Set(state.pending.map((a) => a.id));
  let pending: Approval[];
  switch (input.type) {
    case 'snapshot':
      pending = sortPending(input.approvals, ctx.now);
      break;
    case 'event': {
      const approval = asApproval(input.event.data);
      if (!approval || (input.event.type !== 'approval.requested' && input.event.type !== 'approval.answered')) return { state, effects: [] };
      const others = state.pending.filter((a) => a.id !== approval.id);
      pending = sortPending(input.event.type === 'approval.requested' ? [...others, approval] : others, ctx.now);
      break;
    }
    case 'tick':
      pending = sortPending(state.pending, ctx.now);
      break;
  }
  const arrivals = pending.filter((a) => !before.has(a.id));
  const effects: PromptEffect[] = [];
  let { lastNotifiedAt, unnotified } = state;

  if (pending.length === 0) {
    if (state.pending.length > 0 || ctx.windowVisible) effects.push({ type: 'hide' });
    return { state: { pending, lastNotifiedAt, unnotified: 0 }, effects };
  }
  const first = pending[0];
  if (arrivals.length > 0 && !ctx.windowVisible && first) effects.push({ type: 'show', focusId: first.id });
  else if (arrivals.length > 0 || pending.length !== state.pending.length) effects.push({ type: 'update' });

  if (!ctx.windowFocused) {
    unnotified += arrivals.length;
    const coalescing = lastNotifiedAt !== null && ctx.now - lastNotifiedAt < NOTIFY_COALESCE_MS;
    if (unnotified > 0 && !coalescing) {
      const newest = arrivals.at(-1) ?? pending.at(-1);
      effects.push(notification(unnotified, pending.length, newest, ctx.now));
      lastNotifiedAt = ctx.now;
      unnotified = 0;
    }
  } else {
    unnotified = 0;
  }
  return { state: { pending, lastNotifiedAt, unnotified }, effects };
}

function notification(count: number, total: number, newest: Approval | undefined, now: number): PromptEffect {
  if (count === 1 && newest) {
    const fallback = newest.defaultAction === 'allow' ? 'allowed' : 'denied';
    return { type: 'notify', title: 'Cordon needs your answer', body: `${approvalTitle(newest)}. ${capitalize(fallback)} in ${secondsLeft(newest, now)} s unless you answer.` };
  }
  return { type: 'notify', title: 'Cordon needs your answer', body: `${count} new requests are waiting (${total} in all).` };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

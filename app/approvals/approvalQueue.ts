/**
 * The approval queue. "ask" parks a request here and gets a promise of allow or deny.
 * - Similar requests (same agent, same subject key) coalesce into one pending approval.
 * - Every approval has a timeout and a default action (deny unless configured otherwise).
 * - A prompt budget stops floods: at most `maxPending` open approvals, and at most
 *   `maxPerAgentPerMinute` new ones per agent; past that the default action applies at once,
 *   recorded as refused by budget.
 * - "always" answers are handed to onAlways (which writes a user-layer rule) and settle every
 *   pending approval with the same key.
 * No I/O here: time and ids are injected, so it is tested with a fake clock.
 */
import type { Approval, ApprovalAnswer, ApprovalSubject } from '../api/approvals.ts';
import type { DecisionReason, Principal } from '../api/enforcement.ts';
import { CoreError } from '../api/errors.ts';
import type { DestinationContext } from '../api/sync.ts';

export type ApprovalInput = Readonly<{
  principal: Principal;
  subject: ApprovalSubject;
  reasons: readonly DecisionReason[];
  rule: string;
  /** Opaque data handed back to onAlways (the daemon keeps the decision input there). */
  context?: unknown;
  /** What the rest of the fleet decided about this destination, shown in the prompt. */
  fleet?: DestinationContext;
}>;

export type ApprovalOutcome = Readonly<{
  action: 'allow' | 'deny';
  approvalId: string;
  by: 'user' | 'timeout' | 'budget';
  answer: ApprovalAnswer | 'timeout' | 'budget';
}>;

export type ApprovalQueueOptions = Readonly<{
  timeoutMs: number;
  defaultAction: 'allow' | 'deny';
  maxPending?: number;
  maxPerAgentPerMinute?: number;
  /** How many settled approvals to keep for `list --all`. */
  historySize?: number;
  now?: () => number;
  newId?: () => string;
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
  /** Called for "always" answers (write a user-layer rule). Errors are reported, not thrown. */
  onAlways?: (approval: Approval, answer: 'allow-always' | 'deny-always', context: unknown) => void;
  /** Called whenever an approval is created or settled (control API stream, audit, tray). */
  onChange?: (approval: Approval) => void;
}>;

export type ApprovalQueue = Readonly<{
  request(input: ApprovalInput): Promise<ApprovalOutcome>;
  answer(id: string, answer: ApprovalAnswer): Approval;
  pending(): Approval[];
  history(): Approval[];
  get(id: string): Approval | undefined;
  /** Settles everything with the default action (daemon shutdown). */
  close(): void;
}>;

type Entry = {
  approval: Approval;
  key: string;
  context: unknown;
  waiters: ((outcome: ApprovalOutcome) => void)[];
  timer: { cancel(): void };
};

export function subjectKey(subject: ApprovalSubject): string {
  switch (subject.kind) {
    case 'egress':
      return `egress:${subject.host.toLowerCase()}:${subject.port}`;
    case 'command':
      return `command:${subject.command}`;
    case 'mcp-tool':
      return `mcp:${subject.server}:${subject.tool}`;
    case 'file':
      return `file:${subject.operation}:${subject.path}`;
  }
}

export function createApprovalQueue(options: ApprovalQueueOptions): ApprovalQueue {
  const now = options.now ?? Date.now;
  let counter = 0;
  const newId = options.newId ?? (() => `apr_${now().toString(36)}_${(++counter).toString(36)}`);
  const setTimer = options.setTimer ?? ((fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  });
  const maxPending = options.maxPending ?? 20;
  const maxPerAgentPerMinute = options.maxPerAgentPerMinute ?? 10;
  const historySize = options.historySize ?? 200;
  const open = new Map<string, Entry>();
  const byKey = new Map<string, Entry>();
  const settled: Approval[] = [];
  const recentByAgent = new Map<string, number[]>();

  const changed = (approval: Approval): void => options.onChange?.(approval);

  const settle = (entry: Entry, action: 'allow' | 'deny', by: ApprovalOutcome['by'], answer: ApprovalOutcome['answer']): void => {
    entry.timer.cancel();
    open.delete(entry.approval.id);
    if (byKey.get(entry.key) === entry) byKey.delete(entry.key);
    const status = by === 'timeout' ? 'expired' : action === 'allow' ? 'allowed' : 'denied';
    entry.approval = { ...entry.approval, status, answer: { answer, by, at: new Date(now()).toISOString() } };
    settled.unshift(entry.approval);
    if (settled.length > historySize) settled.length = historySize;
    const outcome: ApprovalOutcome = { action, approvalId: entry.approval.id, by, answer };
    for (const waiter of entry.waiters) waiter(outcome);
    changed(entry.approval);
  };

  const withinBudget = (agentKey: string): boolean => {
    if (open.size >= maxPending) return false;
    const cutoff = now() - 60_000;
    const recent = (recentByAgent.get(agentKey) ?? []).filter((t) => t > cutoff);
    recentByAgent.set(agentKey, recent);
    return recent.length < maxPerAgentPerMinute;
  };

  return {
    request(input) {
      const agentKey = input.principal.agent?.id ?? 'unattributed';
      const key = `${agentKey}|${subjectKey(input.subject)}`;
      const existing = byKey.get(key);
      if (existing) {
        existing.approval = { ...existing.approval, count: existing.approval.count + 1 };
        changed(existing.approval);
        return new Promise((resolve) => existing.waiters.push(resolve));
      }
      const createdAt = now();
      const approval: Approval = {
        id: newId(),
        createdAt: new Date(createdAt).toISOString(),
        expiresAt: new Date(createdAt + options.timeoutMs).toISOString(),
        defaultAction: options.defaultAction,
        agent: input.principal.agent,
        chain: input.principal.chain.map((p) => `${p.exe ?? p.argv[0] ?? '?'} (${p.pid})`),
        project: input.principal.agent ? (input.principal.chain.find((p) => p.pid === input.principal.agent?.pid)?.cwd ?? null) : (input.principal.chain[0]?.cwd ?? null),
        subject: input.subject,
        reasons: input.reasons,
        rule: input.rule,
        count: 1,
        status: 'pending',
        ...(input.fleet ? { fleet: input.fleet } : {}),
      };
      if (!withinBudget(agentKey)) {
        const refused: Approval = { ...approval, status: 'refused', answer: { answer: 'budget', by: 'budget', at: approval.createdAt } };
        settled.unshift(refused);
        if (settled.length > historySize) settled.length = historySize;
        changed(refused);
        return Promise.resolve({ action: options.defaultAction, approvalId: approval.id, by: 'budget', answer: 'budget' });
      }
      recentByAgent.get(agentKey)?.push(createdAt);
      return new Promise((resolve) => {
        const entry: Entry = { approval, key, context: input.context, waiters: [resolve], timer: { cancel: () => undefined } };
        entry.timer = setTimer(() => settle(entry, options.defaultAction, 'timeout', 'timeout'), options.timeoutMs);
        open.set(approval.id, entry);
        byKey.set(key, entry);
        changed(approval);
      });
    },
    answer(id, answer) {
      const entry = open.get(id);
      if (!entry) {
        const done = settled.find((a) => a.id === id);
        throw new CoreError(done ? 'ERR_BAD_REQUEST' : 'ERR_NOT_FOUND', done ? `approval ${id} was already ${done.status}` : `no approval ${id}`);
      }
      const action = answer === 'allow-once' || answer === 'allow-always' ? 'allow' : 'deny';
      if (answer === 'allow-always' || answer === 'deny-always') options.onAlways?.(entry.approval, answer, entry.context);
      settle(entry, action, 'user', answer);
      return entry.approval;
    },
    pending: () => [...open.values()].map((e) => e.approval),
    history: () => [...settled],
    get: (id) => open.get(id)?.approval ?? settled.find((a) => a.id === id),
    close() {
      for (const entry of [...open.values()]) settle(entry, options.defaultAction, 'timeout', 'timeout');
    },
  };
}

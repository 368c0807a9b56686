/**
 * How the policy layers combine: builtin < user < managed (IT) < fleet. Pure; decide() and
 * decideLocalAction() call combineVerdicts() once per dimension of a request.
 *
 * A request is judged on dimensions: its destination, and each signal raised with it (an anomaly
 * flag, or `secrets`). For each dimension every layer gives at most one verdict:
 *   1. the FIRST matching rule of the layer, in file order (sources of one layer in load order);
 *   2. else the layer's default for that dimension (`defaults.egress`, `defaults.local`, or the
 *      `flags:` map entry for that signal), if the layer sets one;
 *   3. else no verdict.
 * Then, strictness being deny > ask > log > allow:
 *   A. user, managed and fleet are peers for safety: the STRICTEST of their verdicts wins. So a
 *      managed or fleet deny (or ask, or IT's `defaults.egress: deny` allowlist) can never be
 *      loosened by a user rule, and a user may always be stricter than IT.
 *   B. builtin is a fallback the user may override: it is consulted only when no user, managed or
 *      fleet RULE matched. When they gave only defaults, a builtin rule competes with them
 *      (strictest wins), so a user `defaults.egress: allow` does not switch off a builtin deny
 *      of, say, cloud metadata addresses, while an explicit user rule does.
 *   C. ties go to the highest layer (fleet, managed, user, builtin), so the reported rule is the
 *      one with the most authority.
 * The request's action is the strictest over its dimensions; a signal no layer judges adds a
 * reason but no action. Defaults for unattributed connections are a floor: the strictest
 * `defaults.unattributed` of user/managed/fleet, else builtin's.
 */
import type { PolicyAction, PolicyLayerName } from '../api/policy.ts';

/** deny > ask > log > allow. */
export const ACTION_RANK: Readonly<Record<PolicyAction, number>> = { allow: 0, log: 1, ask: 2, deny: 3 };
const RANKED: readonly PolicyAction[] = ['allow', 'log', 'ask', 'deny'];

/** Highest authority first: the order verdicts are listed and ties are broken in. */
export const LAYERS_BY_AUTHORITY: readonly PolicyLayerName[] = ['fleet', 'managed', 'user', 'builtin'];

export type Verdict<R> = Readonly<{
  layer: PolicyLayerName;
  action: PolicyAction;
  /** rule: a rule matched; default: the layer's default (or flags-map entry) for the dimension. */
  source: 'rule' | 'default';
  /** The rule, or the default's key ("defaults.egress", "flags.paste-service"). */
  rule: R | null;
  key: string;
}>;

export type Combined<R> = Readonly<{
  winner: Verdict<R> | null;
  /** The verdicts that took part (after rule B); the others were not consulted. */
  considered: readonly Verdict<R>[];
}>;

/**
 * Combines one dimension's per-layer verdicts (at most one per layer, any order) by the rules in
 * the module comment.
 */
export function combineVerdicts<R>(verdicts: readonly Verdict<R>[]): Combined<R> {
  const ordered = [...verdicts].sort((a, b) => authority(a.layer) - authority(b.layer));
  const upper = ordered.filter((v) => v.layer !== 'builtin');
  const builtin = ordered.find((v) => v.layer === 'builtin') ?? null;
  let considered: Verdict<R>[];
  if (upper.some((v) => v.source === 'rule')) considered = upper;
  else if (upper.length > 0) considered = builtin && builtin.source === 'rule' ? [...upper, builtin] : upper;
  else considered = builtin ? [builtin] : [];
  let winner: Verdict<R> | null = null;
  for (const v of considered) if (winner === null || ACTION_RANK[v.action] > ACTION_RANK[winner.action]) winner = v;
  return { winner, considered };
}

/**
 * The strictest of some actions (allow when none). Used for defaults that are floors
 * (unattributed) and for the final action over dimensions.
 */
export function strictest(actions: readonly PolicyAction[]): PolicyAction {
  let rank = 0;
  for (const a of actions) rank = Math.max(rank, ACTION_RANK[a]);
  return RANKED[rank] ?? 'deny';
}

/** Strictest per rule A/B for a layered default: user/managed/fleet values, else builtin's. */
export function layeredDefault(values: readonly { layer: PolicyLayerName; action: PolicyAction }[]): { layer: PolicyLayerName; action: PolicyAction } | null {
  const upper = values.filter((v) => v.layer !== 'builtin').sort((a, b) => authority(a.layer) - authority(b.layer));
  const pool = upper.length > 0 ? upper : values.filter((v) => v.layer === 'builtin');
  let best: { layer: PolicyLayerName; action: PolicyAction } | null = null;
  for (const v of pool) if (best === null || ACTION_RANK[v.action] > ACTION_RANK[best.action]) best = v;
  return best;
}

function authority(layer: PolicyLayerName): number {
  return LAYERS_BY_AUTHORITY.indexOf(layer);
}

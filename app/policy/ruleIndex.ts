/**
 * The lookup structure behind decide(): rules partitioned by agent key, then by destination
 * (exact-host hash map, wildcard-suffix map walked label by label, binary CIDR tries for IPs, and
 * an "any destination" list). A lookup touches only the buckets that can match, so its cost
 * follows the rules naming this destination, not the size of the policy.
 */
import type { IpBytes, NormalizedHost } from './net.ts';
import { bitAt } from './net.ts';

/** What the index needs from a rule: its position in its layer (first match wins). */
export type Indexed = Readonly<{ order: number }>;

type TrieNode<R> = { zero: TrieNode<R> | null; one: TrieNode<R> | null; rules: R[] | null };

type HostIndex<R> = {
  exact: Map<string, R[]>;
  suffix: Map<string, R[]>;
  any: R[];
  v4: TrieNode<R> | null;
  v6: TrieNode<R> | null;
};

/** Where one rule applies: the agent keys and the destinations it names (none: any destination). */
export type RuleTargets = Readonly<{
  agents: readonly string[];
  exact: readonly string[];
  suffixes: readonly string[];
  networks: readonly { bytes: IpBytes; prefix: number }[];
  anyDestination: boolean;
}>;

export class RuleIndex<R extends Indexed> {
  private readonly partitions = new Map<string, HostIndex<R>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a rule; rules must be added in their layer order. */
  add(rule: R, targets: RuleTargets): void {
    this.count++;
    for (const agent of new Set(targets.agents)) {
      let part = this.partitions.get(agent);
      if (!part) {
        part = { exact: new Map(), suffix: new Map(), any: [], v4: null, v6: null };
        this.partitions.set(agent, part);
      }
      if (targets.anyDestination) part.any.push(rule);
      for (const name of new Set(targets.exact)) push(part.exact, name, rule);
      for (const name of new Set(targets.suffixes)) push(part.suffix, name, rule);
      for (const net of targets.networks) {
        if (net.bytes.length === 4) part.v4 = insert(part.v4, net.bytes, net.prefix, rule);
        else part.v6 = insert(part.v6, net.bytes, net.prefix, rule);
      }
    }
  }

  /**
   * The first rule (lowest order) for this destination and any of `agentKeys` that `accept`
   * accepts, or null. `accept` checks the criteria the index does not (ports, methods, paths...).
   */
  first(agentKeys: readonly string[], host: NormalizedHost, accept: (rule: R) => boolean): R | null {
    let best: R | null = null;
    const scan = (bucket: readonly R[] | undefined | null): void => {
      if (!bucket) return;
      for (const rule of bucket) {
        if (best !== null && rule.order >= best.order) return;
        if (accept(rule)) {
          best = rule;
          return;
        }
      }
    };
    for (const key of agentKeys) {
      const part = this.partitions.get(key);
      if (!part) continue;
      if (host.kind === 'name') {
        const name = host.name;
        scan(part.exact.get(name));
        if (part.suffix.size > 0) {
          for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) scan(part.suffix.get(name.slice(dot + 1)));
        }
      } else {
        let node = host.bytes.length === 4 ? part.v4 : part.v6;
        const bits = host.bytes.length * 8;
        for (let i = 0; node !== null; i++) {
          scan(node.rules);
          if (i >= bits) break;
          node = bitAt(host.bytes, i) === 1 ? node.one : node.zero;
        }
      }
      scan(part.any);
    }
    return best;
  }
}

function push<R>(map: Map<string, R[]>, key: string, rule: R): void {
  const list = map.get(key);
  if (list) {
    if (list[list.length - 1] !== rule) list.push(rule);
  } else {
    map.set(key, [rule]);
  }
}

function insert<R>(root: TrieNode<R> | null, bytes: IpBytes, prefix: number, rule: R): TrieNode<R> {
  const top = root ?? { zero: null, one: null, rules: null };
  let node = top;
  for (let i = 0; i < prefix; i++) {
    const bit = bitAt(bytes, i);
    let next = bit === 1 ? node.one : node.zero;
    if (!next) {
      next = { zero: null, one: null, rules: null };
      if (bit === 1) node.one = next;
      else node.zero = next;
    }
    node = next;
  }
  if (!node.rules) node.rules = [];
  if (node.rules[node.rules.length - 1] !== rule) node.rules.push(rule);
  return top;
}

/**
 * The checks a JSON Schema cannot express: duplicate rule ids, host, IP and CIDR syntax, port
 * range order, criteria that cannot work together. Runs on a schema-valid document; pure.
 */
import type { LocalRule, PolicyRule } from '../api/policy.ts';
import { parseCidr, parseHostPattern, parseIp } from './net.ts';

export type DocPath = readonly (string | number)[];

/** A problem before it is given a file position. */
export type RawProblem = Readonly<{
  path: DocPath;
  /** Point at the key of the last path element rather than its value. */
  atKey?: boolean;
  severity: 'error' | 'warning';
  message: string;
}>;

/**
 * Every semantic problem of a document; `lineOf` names where a path is (for "first at line N").
 * Defensive about shapes (it also runs on documents that failed the schema, so that every problem
 * is reported at once): entries of the wrong type are skipped here, the schema reports them.
 */
export function checkPolicyDocument(input: unknown, lineOf: (path: DocPath) => number): RawProblem[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return [];
  const doc = sanitize(input as Record<string, unknown>);
  const out: RawProblem[] = [];
  const seen = new Map<string, DocPath>();
  const noteId = (id: string, path: DocPath): void => {
    const first = seen.get(id);
    if (first) {
      const line = lineOf(first);
      out.push({ path, severity: 'error', message: `duplicate rule id ${quote(id)}${line > 0 ? ` (first used at line ${line})` : ''}: ids must be unique in a file` });
    } else {
      seen.set(id, path);
    }
  };
  const anyInspect = (doc.rules ?? []).some((r) => r?.inspect === true);

  (doc.rules ?? []).forEach((rule, i) => {
    if (!rule) return;
    const at = (...rest: (string | number)[]): DocPath => ['rules', i, ...rest];
    noteId(rule.id ?? '', at('id'));
    rule.hosts?.forEach((h, j) => {
      const parsed = parseHostPattern(h);
      if (typeof parsed === 'string') out.push({ path: at('hosts', j), severity: 'error', message: `${quote(h)} ${parsed}` });
    });
    rule.ips?.forEach((ip, j) => {
      if (ip.includes('/')) out.push({ path: at('ips', j), severity: 'error', message: `${quote(ip)} is a network: put it in cidrs:` });
      else if (!parseIp(ip)) out.push({ path: at('ips', j), severity: 'error', message: `${quote(ip)} is not a valid IPv4 or IPv6 address` });
    });
    rule.cidrs?.forEach((c, j) => {
      const parsed = parseCidr(c);
      if (typeof parsed === 'string') out.push({ path: at('cidrs', j), severity: 'error', message: `${quote(c)}: ${parsed}` });
    });
    rule.ports?.forEach((p, j) => {
      const message = portProblem(p);
      if (message) out.push({ path: at('ports', j), severity: 'error', message });
    });
    const signals = (rule.flags?.length ?? 0) > 0 || rule.data?.secrets === true;
    if (signals && (rule.inspect !== undefined || rule.dpop !== undefined)) {
      out.push({
        path: at(rule.inspect !== undefined ? 'inspect' : 'dpop'),
        atKey: true,
        severity: 'error',
        message: 'inspect and dpop belong on destination rules: this rule names flags/data, so it judges signals only (split it in two)',
      });
    }
    if (rule.flags && rule.flags.length === 0) out.push({ path: at('flags'), atKey: true, severity: 'error', message: 'flags is empty: list at least one flag code or remove the key' });
    if (rule.data && rule.data.secrets === undefined) out.push({ path: at('data'), atKey: true, severity: 'error', message: 'data names no criterion: use data: {secrets: true} or remove the key' });
    if ((rule.methods || rule.paths) && rule.inspect !== true && !anyInspect) {
      out.push({
        path: at(rule.paths ? 'paths' : 'methods'),
        atKey: true,
        severity: 'warning',
        message: 'methods and paths are only visible on plain HTTP and inspected HTTPS: add inspect: true for these hosts, or this rule never matches HTTPS',
      });
    }
    if (rule.dpop && rule.action === 'deny') out.push({ path: at('dpop'), atKey: true, severity: 'warning', message: 'a deny rule never sends a credential: dpop has no effect here' });
  });

  out.push(...shadowedRules(doc.rules ?? [], lineOf));

  (doc.local ?? []).forEach((rule, i) => {
    if (!rule) return;
    const at = (...rest: (string | number)[]): DocPath => ['local', i, ...rest];
    noteId(rule.id ?? '', at('id'));
    if (!rule.commands && !rule.files && !rule.mcp) {
      out.push({ path: at('id'), severity: 'error', message: 'a local rule needs commands, files or mcp to match anything' });
    }
    if (rule.operations && !rule.files) out.push({ path: at('operations'), atKey: true, severity: 'error', message: 'operations applies to files: add files or remove operations' });
  });
  return out;
}

/** Beyond this many rules the O(n^2) shadowing analysis is skipped (it is advice, not validation). */
const SHADOW_CHECK_LIMIT = 1000;

/** Rules an earlier rule of the same file always matches first (first match wins), so they never apply. */
function shadowedRules(rules: readonly (Loose<PolicyRule> | null)[], lineOf: (path: DocPath) => number): RawProblem[] {
  if (rules.length > SHADOW_CHECK_LIMIT) return [];
  const shapes = rules.map((r) => (r ? shapeOf(r) : null));
  const out: RawProblem[] = [];
  for (let j = 1; j < shapes.length; j++) {
    const later = shapes[j];
    if (!later) continue;
    for (let i = 0; i < j; i++) {
      const earlier = shapes[i];
      if (!earlier || !covers(earlier, later)) continue;
      const line = lineOf(['rules', i]);
      out.push({
        path: ['rules', j, 'id'],
        severity: 'warning',
        message: `never matches: rule "${rules[i]?.id ?? ''}"${line > 0 ? ` (line ${line})` : ''} comes first and matches everything this rule does (the first match in a file wins): move this rule above it or remove it`,
      });
      break;
    }
  }
  return out;
}

type Shape = {
  agents: readonly string[];
  signals: readonly string[] | null;
  anyDestination: boolean;
  hosts: readonly { kind: 'exact' | 'suffix'; name: string }[];
  badHost: boolean;
  ips: readonly string[];
  cidrs: readonly string[];
  ports: readonly (readonly [number, number])[] | null;
  methods: readonly string[] | null;
  paths: readonly string[] | null;
};

function shapeOf(rule: Loose<PolicyRule>): Shape {
  const parsed = (rule.hosts ?? []).map(parseHostPattern);
  const hosts = parsed.filter((p): p is { kind: 'exact' | 'suffix'; name: string } => typeof p !== 'string' && p.kind !== 'any');
  return {
    agents: rule.agents ?? ['*'],
    signals: rule.flags === undefined && rule.data === undefined ? null : [...(rule.flags ?? []), ...(rule.data?.secrets === true ? ['secrets'] : [])],
    anyDestination: (!rule.hosts && !rule.ips && !rule.cidrs) || parsed.some((p) => typeof p !== 'string' && p.kind === 'any'),
    hosts,
    badHost: parsed.some((p) => typeof p === 'string'),
    ips: rule.ips ?? [],
    cidrs: rule.cidrs ?? [],
    ports: rule.ports ? rule.ports.map(portRange) : null,
    methods: rule.methods ? rule.methods.map((m) => m.toUpperCase()) : null,
    paths: rule.paths ?? null,
  };
}

/** True when every request `b` matches is also matched by `a` (conservative: false when unsure). */
function covers(a: Shape, b: Shape): boolean {
  if (!a.agents.includes('*') && !b.agents.every((x) => x !== '*' && a.agents.includes(x))) return false;
  if ((a.signals === null) !== (b.signals === null)) return false;
  if (a.signals && b.signals && !b.signals.every((x) => a.signals?.includes(x))) return false;
  if (!a.anyDestination) {
    if (b.anyDestination || b.badHost) return false;
    if (!b.ips.every((x) => a.ips.includes(x)) || !b.cidrs.every((x) => a.cidrs.includes(x))) return false;
    for (const hb of b.hosts) {
      const covered = a.hosts.some((ha) => (ha.name === hb.name ? ha.kind === hb.kind : ha.kind === 'suffix' && hb.name.endsWith(`.${ha.name}`)));
      if (!covered) return false;
    }
  }
  if (a.ports) {
    const ranges = a.ports;
    if (!b.ports || !b.ports.every(([lo, hi]) => ranges.some(([l, h]) => lo >= l && hi <= h))) return false;
  }
  if (a.methods) {
    const methods = a.methods;
    if (!b.methods || !b.methods.every((m) => methods.includes(m))) return false;
  }
  if (a.paths && (!b.paths || !b.paths.every((p) => a.paths?.includes(p)))) return false;
  return true;
}

type Loose<T> = { -readonly [K in keyof T]?: T[K] };

/** Keeps only well-typed fields (strings in string lists, objects as rules) so the checks never throw. */
function sanitize(doc: Record<string, unknown>): { rules?: (Loose<PolicyRule> | null)[]; local?: (Loose<LocalRule> | null)[] } {
  const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
  const rules = (v: unknown, local: boolean): (Record<string, unknown> | null)[] | undefined =>
    Array.isArray(v)
      ? v.map((r: unknown) => {
          if (r === null || typeof r !== 'object' || Array.isArray(r)) return null;
          const rule = r as Record<string, unknown>;
          if (typeof rule.id !== 'string') return null;
          const out: Record<string, unknown> = { ...rule };
          for (const key of local ? ['commands', 'files', 'operations'] : ['hosts', 'ips', 'cidrs', 'flags', 'methods', 'paths']) {
            if (key in rule) out[key] = strings(rule[key]);
          }
          if ('ports' in rule) out.ports = Array.isArray(rule.ports) ? rule.ports.filter((p) => typeof p === 'number' || (typeof p === 'string' && /^[0-9]{1,5}(-[0-9]{1,5})?$/.test(p))) : undefined;
          if ('data' in rule) out.data = rule.data !== null && typeof rule.data === 'object' ? rule.data : undefined;
          return out;
        })
      : undefined;
  return {
    rules: rules(doc.rules, false) as (Loose<PolicyRule> | null)[] | undefined,
    local: rules(doc.local, true) as (Loose<LocalRule> | null)[] | undefined,
  };
}

/** A policy value quoted for a message, cut short: problems must stay readable whatever the input. */
function quote(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
}

function portProblem(port: number | string): string | null {
  if (typeof port === 'number') return null;
  const [loText, hiText] = port.split('-');
  const lo = Number(loText);
  const hi = hiText === undefined ? lo : Number(hiText);
  if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) return `"${port}": ports are 1-65535`;
  if (lo > hi) return `"${port}": the range is backwards (write "${hi}-${lo}")`;
  return null;
}

/** Parses a port item (already checked) to an inclusive range. */
export function portRange(port: number | string): readonly [number, number] {
  if (typeof port === 'number') return [port, port];
  const [loText, hiText] = port.split('-');
  const lo = Number(loText);
  return [lo, hiText === undefined ? lo : Number(hiText)];
}

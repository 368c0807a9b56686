/**
 * Display helpers: decisions read from audit events, approval subjects as sentences, times and
 * countdowns. Pure functions over the app/api types.
 */
import type { ApprovalSubject } from '../../app/api/approvals.ts';
import type { CordonEvent } from '../../app/api/control.ts';
import type { DestinationContext } from '../../app/api/sync.ts';

export type DecisionAction = 'allow' | 'log' | 'ask' | 'deny';

/** One decision (egress or local action) as the console lists it. */
export type DecisionRow = {
  readonly seq: number;
  readonly time: string;
  readonly kind: 'egress' | 'local';
  readonly action: DecisionAction;
  readonly agent: string;
  readonly destination: string;
  readonly rule: string;
  readonly summary: string;
};

const ACTIONS: readonly string[] = ['allow', 'log', 'ask', 'deny'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The decision an event records, or null for other event types (inventory, daemon, ...). */
export function decisionOf(event: CordonEvent): DecisionRow | null {
  const [prefix, suffix] = event.type.split('.');
  if ((prefix !== 'egress' && prefix !== 'local') || !suffix || !ACTIONS.includes(suffix)) return null;
  const data = isRecord(event.data) ? event.data : {};
  const decision = isRecord(data.decision) ? data.decision : {};
  let agent: string;
  let destination: string;
  if (prefix === 'egress') {
    const principal = isRecord(data.principal) ? data.principal : {};
    const a = isRecord(principal.agent) ? principal.agent : null;
    agent = text(a?.name) ?? text(a?.kind) ?? 'unattributed';
    const request = isRecord(data.request) ? data.request : {};
    const host = text(request.host) ?? '?';
    destination = typeof request.port === 'number' ? `${host}:${request.port}` : host;
  } else {
    const a = isRecord(data.agent) ? data.agent : null;
    agent = text(a?.name) ?? text(a?.kind) ?? 'unattributed';
    const action = isRecord(data.action) ? data.action : {};
    const server = text(action.server);
    destination = text(action.command) ?? text(action.path) ?? (server ? `${server}/${text(action.tool) ?? ''}` : '');
  }
  return {
    seq: event.seq,
    time: event.time,
    kind: prefix,
    action: suffix as DecisionAction,
    agent,
    destination,
    rule: text(decision.rule) ?? '',
    summary: event.summary,
  };
}

/** A subject of an approval as a short phrase ("connect to api.example.com:443"). */
export function describeSubject(subject: ApprovalSubject): string {
  switch (subject.kind) {
    case 'egress':
      return `${subject.method ? `${subject.method} ` : 'connect to '}${subject.host}:${subject.port}${subject.path ?? ''}`;
    case 'command':
      return `run \`${subject.command}\``;
    case 'mcp-tool':
      return `call MCP tool ${subject.tool} on ${subject.server}`;
    case 'file':
      return `${subject.operation} ${subject.path}`;
  }
}

/** "12s", "3m 05s": the time left until `iso`, never negative. */
export function countdown(iso: string, now: number): string {
  const left = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  if (left < 60) return `${left}s`;
  return `${Math.floor(left / 60)}m ${String(left % 60).padStart(2, '0')}s`;
}

export function secondsLeft(iso: string, now: number): number {
  return Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
}

/** Local date-time, short. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** A value from settings as display text. */
export function formatValue(value: unknown): string {
  if (value === '' || value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.length === 0 ? '—' : value.join(', ');
  if (typeof value === 'object') return Object.keys(value).length === 0 ? '—' : JSON.stringify(value);
  return String(value);
}

/** Counts decisions per hour bucket for the last `hours` hours, oldest first. */
export function decisionsPerHour(rows: readonly DecisionRow[], now: number, hours = 12): { label: string; allow: number; log: number; deny: number }[] {
  const hour = 3600_000;
  const start = Math.floor(now / hour) * hour - (hours - 1) * hour;
  const buckets = Array.from({ length: hours }, (_, i) => ({ label: `${new Date(start + i * hour).getHours()}h`, allow: 0, log: 0, deny: 0 }));
  for (const row of rows) {
    const i = Math.floor((Date.parse(row.time) - start) / hour);
    const bucket = buckets[i];
    if (!bucket) continue;
    if (row.action === 'deny') bucket.deny++;
    else if (row.action === 'log') bucket.log++;
    else bucket.allow++;
  }
  return buckets;
}

/** The most frequent destinations, most first. */
export function topDestinations(rows: readonly DecisionRow[], limit = 8): { label: string; value: number }[] {
  const counts = new Map<string, number>();
  for (const row of rows) if (row.destination) counts.set(row.destination, (counts.get(row.destination) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit).map(([label, value]) => ({ label, value }));
}

/** "Allowed on 12 other devices, blocked on 1, in the last 30 days." */
export function describeFleet(f: DestinationContext): string {
  if (f.devicesAllowed === 0 && f.devicesDenied === 0) return `No other device reached ${f.host} in the last ${f.days} days.`;
  const plural = (n: number): string => `${n} other device${n === 1 ? '' : 's'}`;
  const parts = [f.devicesAllowed > 0 ? `allowed on ${plural(f.devicesAllowed)}` : null, f.devicesDenied > 0 ? `blocked on ${plural(f.devicesDenied)}` : null].filter(Boolean);
  const text = parts.join(', ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)} in the last ${f.days} days.`;
}

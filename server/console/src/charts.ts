/** The console's chart series and the mapping from an audit timeline to chart columns. */
import type { AuditTimeline } from '../../../app/api/fleetConsole.ts';
import type { Column, Series } from './components/ColumnChart.tsx';
import { bucketLabel } from './format.ts';

export const BLOCKED_SERIES: readonly Series[] = [{ key: 'deny', label: 'blocked', className: 'fill-bad' }];

export const APPROVAL_SERIES: readonly Series[] = [
  { key: 'allowed', label: 'approved', className: 'fill-ok' },
  { key: 'denied', label: 'denied or expired', className: 'fill-bad' },
  { key: 'open', label: 'not answered yet', className: 'fill-warn' },
];

export const DECISION_SERIES: readonly Series[] = [
  { key: 'allow', label: 'allowed', className: 'fill-ok' },
  { key: 'log', label: 'logged', className: 'fill-info' },
  { key: 'ask', label: 'asked', className: 'fill-warn' },
  { key: 'deny', label: 'denied', className: 'fill-bad' },
];

function title(start: string, bucket: 'hour' | 'day'): string {
  const d = new Date(start);
  return bucket === 'hour' ? d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString();
}

export function timelineColumns(timeline: AuditTimeline): { blocked: Column[]; approvals: Column[]; decisions: Column[] } {
  const blocked: Column[] = [];
  const approvals: Column[] = [];
  const decisions: Column[] = [];
  for (const b of timeline.buckets) {
    const label = bucketLabel(b.start, timeline.bucket);
    const t = title(b.start, timeline.bucket);
    blocked.push({ label, title: t, values: { deny: b.deny } });
    approvals.push({ label, title: t, values: { allowed: b.approvalsAllowed, denied: b.approvalsDenied, open: Math.max(0, b.approvalsRequested - b.approvalsAllowed - b.approvalsDenied) } });
    decisions.push({ label, title: t, values: { allow: b.allow, log: b.log, ask: b.ask, deny: b.deny } });
  }
  return { blocked, approvals, decisions };
}

/** A range ending now: 24 hours by hour, or N days by day. */
export function rangeOf(range: string, now: number): { since: string; until: string; bucket: 'hour' | 'day' } {
  const hour = 3_600_000;
  if (range === '24h') {
    const end = Math.ceil(now / hour) * hour;
    return { since: new Date(end - 24 * hour).toISOString(), until: new Date(end).toISOString(), bucket: 'hour' };
  }
  const days = range === '30d' ? 30 : 7;
  const day = 24 * hour;
  const end = Math.ceil(now / day) * day;
  return { since: new Date(end - days * day).toISOString(), until: new Date(end).toISOString(), bucket: 'day' };
}

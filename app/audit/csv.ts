/**
 * CSV rendering of audit events (RFC 4180, one header line): the query fields, no data payload.
 * Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
 */
import type { AuditEvent } from '../api/audit.ts';

export const CSV_COLUMNS = [
  'seq', 'time', 'type', 'agent', 'agent_kind', 'decision', 'rule', 'host', 'port', 'method', 'path',
  'bytes_up', 'bytes_down', 'key_thumbprint', 'summary', 'id', 'hash',
] as const;

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function toCsvRow(event: AuditEvent): string {
  const d = event.destination;
  const cells: (string | number | null)[] = [
    event.seq, event.time, event.type, event.agent, event.agentKind, event.decision, event.rule, d?.host ?? null, d?.port ?? null,
    d?.method ?? null, d?.path ?? null, event.bytesUp, event.bytesDown, event.keyThumbprint, event.summary, event.id, event.hash,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n']/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Display helpers for the fleet console: times, relative ages, tones for states, short hashes. */
import type { Tone } from '../../../renderer/src/components/ui.tsx';

/** Local date-time, short; a dash for none. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** "5 min ago", "3 d ago"; "never" for none. */
export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  if (ms < 60_000) return 'just now';
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  return `${Math.floor(ms / 86_400_000)} d ago`;
}

export function protectionTone(state: string | null): Tone {
  if (state === 'protected') return 'ok';
  if (state === 'degraded') return 'warn';
  if (state === 'unprotected') return 'bad';
  return 'muted';
}

export function postureTone(posture: string): Tone {
  if (posture === 'literal') return 'bad';
  if (posture === 'reference') return 'info';
  return 'muted';
}

export function changeTone(change: string): Tone {
  if (change === 'added') return 'info';
  if (change === 'removed') return 'muted';
  return 'warn';
}

/** The first characters of a hash or thumbprint, for tables (the full value goes in a title). */
export function short(value: string | null, length = 12): string {
  if (!value) return '—';
  return value.length > length ? `${value.slice(0, length)}…` : value;
}

/** `<input type="datetime-local">` value (local time) as an ISO string, or undefined when empty/invalid. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** An epoch time as a `<input type="datetime-local">` value in local time. */
export function isoToLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A short bucket label: "14h" for hours, "Mar 3" for days. */
export function bucketLabel(iso: string, bucket: 'hour' | 'day'): string {
  const d = new Date(iso);
  if (bucket === 'hour') return `${d.getHours()}h`;
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

/** The message of anything thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The managed-settings part of the device state the daemon reports to the fleet: which keys IT
 * enforces or defaults, where they came from, and a fingerprint of their values, so the console
 * shows which devices run which MDM profile. Secret values (enroll secret) enter the fingerprint
 * only as their SHA-256 and never leave the device otherwise.
 */
import { createHash } from 'node:crypto';
import type { SettingsReport } from '../api/settings.ts';
import type { DeviceManagedState } from '../api/sync.ts';

export function managedStateOf(report: SettingsReport): DeviceManagedState {
  const enforced: string[] = [];
  const defaults: string[] = [];
  const hash = createHash('sha256');
  for (const entry of report.entries) {
    if (entry.source !== 'managed' && entry.source !== 'managed-default') continue;
    (entry.source === 'managed' ? enforced : defaults).push(entry.key);
    const raw = (report.effective as Readonly<Record<string, unknown>>)[entry.key];
    const value = entry.secret ? createHash('sha256').update(JSON.stringify(raw ?? null)).digest('hex') : raw;
    hash.update(JSON.stringify([entry.source, entry.key, value ?? null]));
    hash.update('\n');
  }
  const managed = report.files.managed;
  return {
    enforced,
    defaults,
    source: managed.present ? managed.path : null,
    fingerprint: enforced.length + defaults.length > 0 ? hash.digest('hex') : null,
    problems: report.problems.filter((p) => p.source === 'managed' && p.severity !== 'info').length,
  };
}

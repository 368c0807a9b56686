/**
 * "Pause protection for N minutes" (the UI side): whether pausing is allowed (setting allowPause,
 * which IT may lock), which durations are offered, and the request to the daemon as a value.
 */
import type { SettingsReport } from '../app/api/settings.ts';

/** Durations offered in the tray menu, in minutes. */
export const PAUSE_CHOICES: readonly number[] = [5, 15, 60];

export type PausePermission = {
  readonly allowed: boolean;
  /** True when IT enforces allowPause (the user cannot change it). */
  readonly locked: boolean;
  /** Shown next to a disabled pause item. */
  readonly reason: string | null;
};

/** Reads allowPause from the settings report; unknown settings mean "not allowed" until known. */
export function pausePermission(settings: SettingsReport | null): PausePermission {
  if (!settings) return { allowed: false, locked: false, reason: 'settings not loaded yet' };
  const entry = settings.entries.find((e) => e.key === 'allowPause');
  const value = entry ? entry.value : settings.effective.allowPause;
  const locked = entry?.locked === true;
  if (value === true) return { allowed: true, locked, reason: null };
  return { allowed: false, locked, reason: locked ? 'turned off by your IT administrator' : 'turned off in settings (allowPause)' };
}

/** The daemon side of pausing: `pause {minutes}` and `resume {}` control methods (see the report). */
export type PauseBackend = {
  pause(minutes: number): Promise<void>;
  resume(): Promise<void>;
};

export type PauseOutcome = { readonly ok: true; readonly until: number | null } | { readonly ok: false; readonly reason: string };

/** Asks the daemon to pause for `minutes` if allowed; never throws. */
export async function requestPause(permission: PausePermission, minutes: number, backend: PauseBackend, now: number): Promise<PauseOutcome> {
  if (!permission.allowed) return { ok: false, reason: `Pausing is ${permission.reason ?? 'not allowed'}.` };
  if (!PAUSE_CHOICES.includes(minutes)) return { ok: false, reason: `Pause length must be one of ${PAUSE_CHOICES.join(', ')} minutes.` };
  try {
    await backend.pause(minutes);
    return { ok: true, until: now + minutes * 60_000 };
  } catch (error) {
    return { ok: false, reason: describeFailure(error) };
  }
}

/** Asks the daemon to resume protection now; never throws. */
export async function requestResume(backend: PauseBackend): Promise<PauseOutcome> {
  try {
    await backend.resume();
    return { ok: true, until: null };
  } catch (error) {
    return { ok: false, reason: describeFailure(error) };
  }
}

function describeFailure(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
  if (code === 'ERR_UNKNOWN_METHOD') return 'This version of the Cordon daemon cannot pause protection.';
  if (code === 'ERR_SETTINGS_LOCKED') return 'Pausing is turned off by your IT administrator.';
  if (code === 'ERR_DAEMON_UNREACHABLE') return 'The Cordon daemon is not running.';
  return 'The Cordon daemon refused to pause.';
}

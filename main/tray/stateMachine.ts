/**
 * The tray icon's state machine (pure): what the daemon's status and events mean at a glance.
 * Precedence: daemon-down > needs-attention > paused > not-enrolled > learning > protected.
 */
import type { CordonEvent, DaemonStatus } from '../../app/api/control.ts';

export type TrayState = 'protected' | 'learning' | 'needs-attention' | 'paused' | 'not-enrolled' | 'daemon-down';

/** Fleet enrollment as the UI knows it: standalone means no fleet server is configured (not a fault). */
export type Enrollment = 'enrolled' | 'not-enrolled' | 'standalone' | 'unknown';

/**
 * Enrollment from the daemon's status: standalone when no fleet server is configured (or the
 * keychain-less daemon has no fleet section), not-enrolled while the device waits for a secret or
 * was revoked, enrolled once it has a device id.
 */
export function enrollmentOf(fleet: { readonly phase: string; readonly deviceId: string | null } | null, fleetServerUrl: string): Enrollment {
  if (!fleetServerUrl) return 'standalone';
  if (!fleet) return 'unknown';
  if (fleet.phase === 'disabled') return 'standalone';
  if (fleet.phase === 'not-enrolled' || fleet.phase === 'revoked') return 'not-enrolled';
  return fleet.deviceId ? 'enrolled' : 'unknown';
}

/** Everything the tray's look depends on. */
export type TrayModel = {
  readonly daemonUp: boolean;
  /** "monitor" (learning) or "enforce"; null before the first status. */
  readonly mode: string | null;
  readonly pendingApprovals: number;
  /** Epoch ms until which protection is paused; null when not paused. */
  readonly pausedUntil: number | null;
  readonly enrollment: Enrollment;
  readonly daemonVersion: string | null;
  /** Why the daemon is considered down (shown in the status line). */
  readonly downReason: string | null;
};

export type TrayInput =
  | { readonly type: 'status'; readonly status: DaemonStatus }
  | { readonly type: 'daemon-down'; readonly reason: string }
  | { readonly type: 'event'; readonly event: CordonEvent }
  | { readonly type: 'enrollment'; readonly enrollment: Enrollment }
  | { readonly type: 'paused'; readonly until: number }
  | { readonly type: 'resumed' }
  | { readonly type: 'tick'; readonly now: number };

/** The result of one transition: the new model, and whether the caller should fetch a fresh status. */
export type TrayStep = { readonly model: TrayModel; readonly refresh: boolean };

export const INITIAL_TRAY: TrayModel = {
  daemonUp: false,
  mode: null,
  pendingApprovals: 0,
  pausedUntil: null,
  enrollment: 'unknown',
  daemonVersion: null,
  downReason: 'connecting to the Cordon daemon',
};

/** Event types after which the status (counts, mode) may have changed in ways events do not carry. */
const REFRESH_EVENTS = new Set(['settings.changed', 'policy.changed', 'daemon.started', 'daemon.stopping']);

/** Advances the model by one input. Pure: `now` comes in with `tick`. */
export function trayReduce(model: TrayModel, input: TrayInput): TrayStep {
  switch (input.type) {
    case 'status': {
      const s = input.status;
      return {
        model: { ...model, daemonUp: true, downReason: null, mode: s.mode, pendingApprovals: Math.max(0, s.approvals.pending), daemonVersion: s.version },
        refresh: false,
      };
    }
    case 'daemon-down':
      return { model: { ...model, daemonUp: false, downReason: input.reason, pendingApprovals: 0 }, refresh: false };
    case 'event': {
      const type = input.event.type;
      if (type === 'approval.requested') return { model: { ...model, pendingApprovals: model.pendingApprovals + 1 }, refresh: false };
      if (type === 'approval.answered') return { model: { ...model, pendingApprovals: Math.max(0, model.pendingApprovals - 1) }, refresh: false };
      if (type === 'daemon.stopping') return { model: { ...model, daemonUp: false, downReason: 'the daemon is stopping', pendingApprovals: 0 }, refresh: false };
      return { model, refresh: REFRESH_EVENTS.has(type) };
    }
    case 'enrollment':
      return { model: { ...model, enrollment: input.enrollment }, refresh: false };
    case 'paused':
      return { model: { ...model, pausedUntil: input.until }, refresh: false };
    case 'resumed':
      return { model: { ...model, pausedUntil: null }, refresh: true };
    case 'tick':
      if (model.pausedUntil !== null && input.now >= model.pausedUntil) return { model: { ...model, pausedUntil: null }, refresh: true };
      return { model, refresh: false };
  }
}

/** The state the icon shows, by precedence. */
export function trayState(model: TrayModel, now: number): TrayState {
  if (!model.daemonUp) return 'daemon-down';
  if (model.pendingApprovals > 0) return 'needs-attention';
  if (model.pausedUntil !== null && now < model.pausedUntil) return 'paused';
  if (model.enrollment === 'not-enrolled') return 'not-enrolled';
  if (model.mode !== 'enforce') return 'learning';
  return 'protected';
}

/** Icon file stem per state (build/tray/<stem>.png) and the tooltip/status text. */
export function trayPresentation(model: TrayModel, now: number): { readonly state: TrayState; readonly icon: string; readonly statusLine: string } {
  const state = trayState(model, now);
  const icon = `tray-${state}`;
  switch (state) {
    case 'daemon-down':
      return { state, icon, statusLine: `Cordon is not running${model.downReason ? `: ${model.downReason}` : ''}` };
    case 'needs-attention':
      return { state, icon, statusLine: `${model.pendingApprovals} request${model.pendingApprovals === 1 ? '' : 's'} waiting for your answer` };
    case 'paused': {
      const minutes = Math.max(1, Math.ceil(((model.pausedUntil ?? now) - now) / 60_000));
      return { state, icon, statusLine: `Protection paused (${minutes} min left)` };
    }
    case 'not-enrolled':
      return { state, icon, statusLine: 'Protected locally; not enrolled with your organization' };
    case 'learning':
      return { state, icon, statusLine: 'Learning: recording agent activity, not blocking' };
    case 'protected':
      return { state, icon, statusLine: 'Protected: enforcing your policy' };
  }
}

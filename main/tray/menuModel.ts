/**
 * The tray menu as data (pure): status line, pending approvals, open Cordon, pause, quit. A thin
 * adapter in main/index.ts turns it into an Electron Menu and routes each action.
 */
import type { Approval } from '../../app/api/approvals.ts';
import { PAUSE_CHOICES, type PausePermission } from '../pause.ts';
import { trayPresentation, type TrayModel } from './stateMachine.ts';

export type TrayAction =
  | { readonly type: 'open-console' }
  | { readonly type: 'open-approval'; readonly id: string }
  | { readonly type: 'pause'; readonly minutes: number }
  | { readonly type: 'resume' }
  | { readonly type: 'start-daemon' }
  | { readonly type: 'quit' };

export type MenuItemModel =
  | { readonly kind: 'label'; readonly id: string; readonly label: string }
  | { readonly kind: 'action'; readonly id: string; readonly label: string; readonly enabled: boolean; readonly action: TrayAction }
  | { readonly kind: 'submenu'; readonly id: string; readonly label: string; readonly enabled: boolean; readonly items: readonly MenuItemModel[] }
  | { readonly kind: 'separator'; readonly id: string };

export type MenuInput = {
  readonly tray: TrayModel;
  readonly now: number;
  /** Pending approvals, oldest first (only the first few are listed). */
  readonly pending: readonly Approval[];
  readonly pause: PausePermission;
};

/** How many pending approvals the menu lists by name. */
export const MENU_APPROVAL_LIMIT = 5;
const LABEL_MAX = 60;

/** A one-line description of what an approval is about, for menus and notifications. */
export function approvalTitle(approval: Approval): string {
  const who = approval.agent?.name ?? 'An unknown process';
  const s = approval.subject;
  let what: string;
  switch (s.kind) {
    case 'egress':
      what = `connect to ${s.host}:${s.port}`;
      break;
    case 'command':
      what = `run ${s.command}`;
      break;
    case 'mcp-tool':
      what = `call ${s.server}/${s.tool}`;
      break;
    case 'file':
      what = `${s.operation} ${s.path}`;
      break;
  }
  return truncate(`${who} wants to ${what}`, LABEL_MAX);
}

function truncate(text: string, max: number): string {
  const clean = text.replace(/[\r\n\t]+/g, ' ');
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}

/** Builds the whole menu for the current state. */
export function buildTrayMenu(input: MenuInput): readonly MenuItemModel[] {
  const view = trayPresentation(input.tray, input.now);
  const items: MenuItemModel[] = [{ kind: 'label', id: 'status', label: view.statusLine }];
  if (view.state === 'daemon-down') {
    items.push({ kind: 'action', id: 'start-daemon', label: 'Start Cordon daemon', enabled: true, action: { type: 'start-daemon' } });
  }
  if (input.pending.length > 0) {
    items.push({ kind: 'separator', id: 'sep-approvals' });
    items.push({ kind: 'label', id: 'approvals-heading', label: `Waiting for you (${input.pending.length})` });
    for (const approval of input.pending.slice(0, MENU_APPROVAL_LIMIT)) {
      items.push({ kind: 'action', id: `approval:${approval.id}`, label: approvalTitle(approval), enabled: true, action: { type: 'open-approval', id: approval.id } });
    }
    const more = input.pending.length - MENU_APPROVAL_LIMIT;
    if (more > 0) items.push({ kind: 'action', id: 'approvals-more', label: `${more} more…`, enabled: true, action: { type: 'open-console' } });
  }
  items.push({ kind: 'separator', id: 'sep-main' });
  items.push({ kind: 'action', id: 'open', label: 'Open Cordon', enabled: true, action: { type: 'open-console' } });
  const paused = view.state === 'paused' || (input.tray.pausedUntil !== null && input.now < input.tray.pausedUntil);
  if (paused) {
    items.push({ kind: 'action', id: 'resume', label: 'Resume protection', enabled: input.tray.daemonUp, action: { type: 'resume' } });
  } else if (input.pause.allowed) {
    items.push({
      kind: 'submenu',
      id: 'pause',
      label: 'Pause protection',
      enabled: input.tray.daemonUp,
      items: PAUSE_CHOICES.map((minutes) => ({ kind: 'action', id: `pause:${minutes}`, label: minutes < 60 ? `for ${minutes} minutes` : `for ${minutes / 60} hour${minutes === 60 ? '' : 's'}`, enabled: input.tray.daemonUp, action: { type: 'pause', minutes } })),
    });
  } else if (input.pause.locked) {
    items.push({ kind: 'label', id: 'pause-locked', label: 'Pausing is turned off by your IT administrator' });
  }
  items.push({ kind: 'separator', id: 'sep-quit' });
  items.push({ kind: 'action', id: 'quit', label: 'Quit Cordon (protection keeps running)', enabled: true, action: { type: 'quit' } });
  return items;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pausePermission } from '../../main/pause.ts';
import { approvalTitle, buildTrayMenu, MENU_APPROVAL_LIMIT, type MenuItemModel } from '../../main/tray/menuModel.ts';
import { INITIAL_TRAY, trayReduce, type TrayModel } from '../../main/tray/stateMachine.ts';
import { approval, settingsReport, status } from './fixtures.ts';

const NOW = Date.parse('2026-01-01T00:00:10.000Z');
const up: TrayModel = trayReduce(INITIAL_TRAY, { type: 'status', status: status() }).model;
const allowed = pausePermission(settingsReport(true, false));

const ids = (items: readonly MenuItemModel[]): string[] => items.map((i) => i.id);
const find = (items: readonly MenuItemModel[], id: string): MenuItemModel | undefined => items.find((i) => i.id === id);

test('the menu has a status line first, Open Cordon, pause and quit', () => {
  const items = buildTrayMenu({ tray: up, now: NOW, pending: [], pause: allowed });
  const first = items[0];
  assert.equal(first?.kind, 'label');
  assert.match(first?.kind === 'label' ? first.label : '', /Protected/);
  assert.ok(ids(items).includes('open'));
  const quit = find(items, 'quit');
  assert.ok(quit?.kind === 'action' && quit.action.type === 'quit');
  const pause = find(items, 'pause');
  assert.ok(pause?.kind === 'submenu');
  assert.deepEqual(pause.items.map((i) => (i.kind === 'action' && i.action.type === 'pause' ? i.action.minutes : null)), [5, 15, 60]);
});

test('pending approvals are listed (bounded) with an overflow item that opens the console', () => {
  const pending = Array.from({ length: MENU_APPROVAL_LIMIT + 2 }, (_, i) => approval(`a${i}`, { host: `h${i}.example` }));
  const items = buildTrayMenu({ tray: { ...up, pendingApprovals: pending.length }, now: NOW, pending, pause: allowed });
  const listed = items.filter((i) => i.kind === 'action' && i.action.type === 'open-approval');
  assert.equal(listed.length, MENU_APPROVAL_LIMIT);
  const more = find(items, 'approvals-more');
  assert.ok(more?.kind === 'action' && more.action.type === 'open-console');
  assert.match(more.label, /2 more/);
  assert.match(items[0]?.kind === 'label' ? items[0].label : '', /7 requests waiting/);
});

test('pause is hidden and explained when IT locked allowPause off; absent when the user turned it off', () => {
  const locked = buildTrayMenu({ tray: up, now: NOW, pending: [], pause: pausePermission(settingsReport(false, true)) });
  assert.equal(find(locked, 'pause'), undefined);
  const note = find(locked, 'pause-locked');
  assert.ok(note?.kind === 'label' && /IT administrator/.test(note.label));
  const userOff = buildTrayMenu({ tray: up, now: NOW, pending: [], pause: pausePermission(settingsReport(false, false)) });
  assert.equal(find(userOff, 'pause'), undefined);
  assert.equal(find(userOff, 'pause-locked'), undefined);
});

test('while paused the menu offers resume instead of pause', () => {
  const items = buildTrayMenu({ tray: { ...up, pausedUntil: NOW + 60_000 }, now: NOW, pending: [], pause: allowed });
  assert.equal(find(items, 'pause'), undefined);
  const resume = find(items, 'resume');
  assert.ok(resume?.kind === 'action' && resume.action.type === 'resume' && resume.enabled);
});

test('when the daemon is down the menu offers to start it and disables pause', () => {
  const items = buildTrayMenu({ tray: INITIAL_TRAY, now: NOW, pending: [], pause: allowed });
  assert.ok(ids(items).includes('start-daemon'));
  const pause = find(items, 'pause');
  assert.ok(pause?.kind === 'submenu' && pause.enabled === false);
});

test('approval titles are single-line and bounded, whatever the subject carries', () => {
  const a = { ...approval('x'), subject: { kind: 'command' as const, command: `rm -rf /\n${'x'.repeat(200)}`, cwd: null } };
  const title = approvalTitle(a);
  assert.ok(!title.includes('\n'));
  assert.ok(title.length <= 60);
  assert.match(approvalTitle(approval('y', { agent: null })), /^An unknown process wants to connect to api\.example\.com:443$/);
});

/**
 * The Electron main process: wires the tray, the prompt and console windows, IPC and the daemon
 * link together. Thin on purpose: every decision lives in a pure module (tray/, prompt.ts, ipc/, pause.ts).
 */
import { app, BrowserWindow, Menu, Notification, nativeImage, session, Tray, webContents, type MenuItemConstructorOptions } from 'electron';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Approval } from '../app/api/approvals.ts';
import type { CordonEvent } from '../app/api/control.ts';
import { CoreError } from '../app/api/errors.ts';
import type { SettingsReport } from '../app/api/settings.ts';
import { connectControl, type ControlClient } from '../app/client/controlClient.ts';
import { controlSocketPath, daemonCommand, linkDaemon, spawnDaemon } from './daemonLink.ts';
import { registerIpc } from './ipc/handle.ts';
import { pausePermission, requestPause, requestResume, type PauseBackend } from './pause.ts';
import { INITIAL_PROMPT, promptReduce, type PromptEffect, type PromptInput, type PromptState } from './prompt.ts';
import { buildTrayMenu, type MenuItemModel, type TrayAction } from './tray/menuModel.ts';
import { INITIAL_TRAY, enrollmentOf, trayPresentation, trayReduce, type TrayInput, type TrayModel } from './tray/stateMachine.ts';
import { hardenSession, hardenWebContents, windowOptions, type WindowKind } from './windows.ts';

// Built layout: dist/electron/main/index.js next to dist/electron/main/preload/index.cjs; the renderer in dist/renderer/.
const here = dirname(fileURLToPath(import.meta.url));
const appRoot = join(here, '..', '..', '..');
const rendererDir = join(appRoot, 'dist', 'renderer');
const rendererRoot = pathToFileURL(`${rendererDir}/`).href;
const rendererIndex = join(rendererDir, 'index.html');
const preloadPath = join(here, 'preload', 'index.cjs');
const iconDir = join(app.isPackaged ? process.resourcesPath : join(appRoot, 'build'), 'tray');

let client: ControlClient | null = null;
let tray: Tray | null = null;
let trayModel: TrayModel = INITIAL_TRAY;
let promptState: PromptState = INITIAL_PROMPT;
let settings: SettingsReport | null = null;
const windows = new Map<WindowKind, BrowserWindow>();
const subscribers = new Set<number>();
const log = (message: string): void => void process.stderr.write(`cordon-ui: ${message}\n`);

function requireClient(): ControlClient {
  if (!client) throw new CoreError('ERR_DAEMON_UNREACHABLE', 'the Cordon daemon is not running');
  return client;
}

/** Pausing is the daemon's `pause`/`resume` control methods (refused with ERR_SETTINGS_LOCKED when IT forbids it). */
const pauseBackend: PauseBackend = {
  async pause(minutes) {
    await requireClient().call('pause', { minutes });
  },
  async resume() {
    await requireClient().call('resume', {});
  },
};

function openWindow(kind: WindowKind, hash: string): BrowserWindow {
  const existing = windows.get(kind);
  if (existing && !existing.isDestroyed()) {
    existing.show();
    existing.focus();
    return existing;
  }
  // hardenWebContents runs for every webContents from the web-contents-created hook in main().
  const win = new BrowserWindow(windowOptions(kind, preloadPath));
  windows.set(kind, win);
  win.on('closed', () => {
    windows.delete(kind);
    subscribers.delete(win.webContents.id);
  });
  win.once('ready-to-show', () => win.show());
  if (existsSync(rendererIndex)) void win.loadFile(rendererIndex, { hash });
  else log(`the renderer is not built (${rendererIndex} is missing)`);
  return win;
}

function notify(title: string, body: string): void {
  if (!Notification.isSupported()) return;
  const n = new Notification({ title, body, silent: false });
  n.on('click', () => openWindow('prompt', '/prompt'));
  n.show();
}

function renderTray(): void {
  if (!tray) return;
  const now = Date.now();
  const view = trayPresentation(trayModel, now);
  const icon = nativeImage.createFromPath(join(iconDir, `${view.icon}.png`));
  if (!icon.isEmpty()) tray.setImage(icon);
  tray.setToolTip(`Cordon: ${view.statusLine}`);
  const items = buildTrayMenu({ tray: trayModel, now, pending: promptState.pending, pause: pausePermission(settings) });
  tray.setContextMenu(Menu.buildFromTemplate(items.map(toElectronItem)));
}

function toElectronItem(item: MenuItemModel): MenuItemConstructorOptions {
  switch (item.kind) {
    case 'separator':
      return { type: 'separator', id: item.id };
    case 'label':
      return { id: item.id, label: item.label, enabled: false };
    case 'action':
      return { id: item.id, label: item.label, enabled: item.enabled, click: () => void runAction(item.action) };
    case 'submenu':
      return { id: item.id, label: item.label, enabled: item.enabled, submenu: item.items.map(toElectronItem) };
  }
}

async function runAction(action: TrayAction): Promise<void> {
  switch (action.type) {
    case 'open-console':
      openWindow('console', '/');
      return;
    case 'open-approval':
      openWindow('prompt', `/prompt/${encodeURIComponent(action.id)}`);
      return;
    case 'pause': {
      const outcome = await requestPause(pausePermission(settings), action.minutes, pauseBackend, Date.now());
      if (outcome.ok && outcome.until !== null) stepTray({ type: 'paused', until: outcome.until });
      else if (!outcome.ok) notify('Cordon could not pause', outcome.reason);
      return;
    }
    case 'resume': {
      const outcome = await requestResume(pauseBackend);
      if (outcome.ok) stepTray({ type: 'resumed' });
      else notify('Cordon could not resume', outcome.reason);
      return;
    }
    case 'start-daemon':
      await attach(true);
      return;
    case 'quit':
      // Only the UI quits: the daemon was started detached and keeps enforcing.
      app.quit();
      return;
  }
}

function stepTray(input: TrayInput): void {
  const step = trayReduce(trayModel, input);
  trayModel = step.model;
  renderTray();
  if (step.refresh) void refresh();
}

function stepPrompt(input: PromptInput): void {
  const win = windows.get('prompt');
  const visible = Boolean(win && !win.isDestroyed() && win.isVisible());
  const focused = Boolean(visible && win?.isFocused());
  const result = promptReduce(promptState, input, { now: Date.now(), windowVisible: visible, windowFocused: focused });
  promptState = result.state;
  for (const effect of result.effects) applyPromptEffect(effect);
  renderTray();
}

function applyPromptEffect(effect: PromptEffect): void {
  switch (effect.type) {
    case 'show': {
      const win = openWindow('prompt', `/prompt/${encodeURIComponent(effect.focusId)}`);
      win.showInactive();
      return;
    }
    case 'hide':
      windows.get('prompt')?.hide();
      return;
    case 'update':
      return; // The prompt view re-reads approvals from its own event subscription.
    case 'notify':
      notify(effect.title, effect.body);
      return;
  }
}

function onDaemonEvent(event: CordonEvent): void {
  stepTray({ type: 'event', event });
  stepPrompt({ type: 'event', event });
  for (const id of subscribers) {
    const contents = webContents.fromId(id);
    if (contents && !contents.isDestroyed()) contents.send('cordon:event', event);
    else subscribers.delete(id);
  }
}

async function refresh(): Promise<void> {
  if (!client) return;
  try {
    const [status, approvals, report] = await Promise.all([client.call('status'), client.call('approvals', {}), client.call('settings')]);
    settings = report;
    stepTray({ type: 'enrollment', enrollment: enrollmentOf(status.fleet, report.effective.fleetServerUrl) });
    stepTray({ type: 'status', status });
    stepPrompt({ type: 'snapshot', approvals: approvals as readonly Approval[] });
  } catch (error) {
    lostDaemon(error instanceof Error ? error.message : 'unreachable');
  }
}

function lostDaemon(reason: string): void {
  client?.close();
  client = null;
  stepTray({ type: 'daemon-down', reason });
}

async function attach(allowStart: boolean): Promise<void> {
  const socketPath = controlSocketPath();
  const result = await linkDaemon(
    {
      socketPath,
      connect: (path) => connectControl(path),
      start: () => spawnDaemon(daemonCommand({ packaged: app.isPackaged, repoRoot: appRoot, platform: process.platform })),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
    allowStart,
  );
  if (!result.ok) {
    stepTray({ type: 'daemon-down', reason: result.reason });
    return;
  }
  client = result.client;
  client.onEvent(onDaemonEvent);
  try {
    await client.call('subscribe', {});
  } catch (error) {
    lostDaemon(error instanceof Error ? error.message : 'subscribe failed');
    return;
  }
  await refresh();
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => openWindow('console', '/'));
  app.on('window-all-closed', () => undefined); // The tray keeps the app alive.
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  await app.whenReady();
  hardenSession(session.defaultSession, rendererRoot);
  if (app.isPackaged) app.setLoginItemSettings({ openAtLogin: true });
  registerIpc(
    rendererRoot,
    {
      call: ([method, params]) => requireClient().call(method, params as never),
      subscribe: (senderId) => void subscribers.add(senderId),
      promptAnswer: async ({ id, answer }) => {
        await requireClient().call('answerApproval', { id, answer });
      },
      promptHide: () => windows.get('prompt')?.hide(),
      openConsole: () => void openWindow('console', '/'),
    },
    (refusal) => log(`refused IPC on ${refusal.channel}: ${refusal.reason}`),
  );
  tray = new Tray(nativeImage.createFromPath(join(iconDir, 'tray-daemon-down.png')));
  renderTray();
  await attach(true);
  setInterval(() => {
    stepTray({ type: 'tick', now: Date.now() });
    stepPrompt({ type: 'tick' });
    if (client) void refresh();
    else void attach(false);
  }, 5000).unref();
}

void main();

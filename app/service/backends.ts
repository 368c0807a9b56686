/**
 * The three service managers behind `cordon service`: systemd (user manager), launchd (the
 * user's GUI domain) and Task Scheduler. Each knows where its file goes for one user, what it
 * holds, and the exact commands that register, unregister and query it.
 */
import { homedir } from 'node:os';
import { join, win32 } from 'node:path';
import { launchAgentPlist, LAUNCH_AGENT_LABEL, scheduledTaskXml, SYSTEMD_UNIT_NAME, systemdUserUnit, TASK_NAME, type ServiceTarget } from './definitions.ts';
import type { CommandResult, ServiceHost, ServiceLocation } from './types.ts';
import { utf16leWithBom } from './xml.ts';

/** Runs one command and records it; `readOnly` commands also run in a dry run. */
export type Stepper = (command: readonly string[], options?: { readOnly?: boolean }) => Promise<CommandResult>;

/** What registering or unregistering gave: `unavailable` when the service manager cannot be reached. */
export type ManagerResult = Readonly<{ ok: boolean; unavailable: boolean; message?: string }>;

export type Backend = Readonly<{
  location: ServiceLocation;
  /** The bytes install writes. */
  render(target: ServiceTarget): Uint8Array;
  /** After the file is written: register and start. */
  activate(step: Stepper): Promise<ManagerResult>;
  /** Before the file is removed: stop and unregister. */
  deactivate(step: Stepper): Promise<ManagerResult>;
  /** After the file is removed (systemd reloads its unit list). */
  afterRemove(step: Stepper): Promise<void>;
  /** Registered and running, as far as the manager says; null when it cannot be asked. */
  query(step: Stepper): Promise<{ registered: boolean | null; active: boolean | null }>;
}>;

const LAUNCHCTL = '/bin/launchctl';
// What systemctl says when there is no user manager to talk to (containers, CI, su without a session).
const NO_USER_MANAGER = /failed to connect to (the )?bus|no medium found|DBUS_SESSION_BUS_ADDRESS|XDG_RUNTIME_DIR|has not been booted with systemd|user scope bus/i;

/** The backend for this host's platform. */
export function serviceBackend(host: ServiceHost): Backend {
  switch (host.platform) {
    case 'linux':
      return systemdBackend(host);
    case 'darwin':
      return launchdBackend(host);
    case 'win32':
      return taskSchedulerBackend(host);
  }
}

/** The user's home from the environment (HOME, then USERPROFILE), falling back to the OS account. */
export function homeDirectory(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || homedir();
}

/** The first line of a failed command's output, or why it could not run. */
export function failureText(result: CommandResult): string {
  if (result.spawnError) return result.spawnError;
  const line = (result.stderr.trim() || result.stdout.trim()).split(/\r?\n/)[0] ?? '';
  return (line || `exit code ${result.exitCode ?? 'unknown'}`).slice(0, 300);
}

function systemdBackend(host: ServiceHost): Backend {
  const configHome = host.env.XDG_CONFIG_HOME || join(homeDirectory(host.env), '.config');
  const file = join(configHome, 'systemd', 'user', SYSTEMD_UNIT_NAME);
  const systemctl = (...args: string[]): string[] => ['systemctl', '--user', ...args];
  const unreachable = (r: CommandResult): boolean => r.spawnError !== undefined || NO_USER_MANAGER.test(r.stderr);
  return {
    location: { platform: 'linux', manager: 'systemd', name: SYSTEMD_UNIT_NAME, file },
    render: (target) => new TextEncoder().encode(systemdUserUnit(target)),
    async activate(step) {
      const reload = await step(systemctl('daemon-reload'));
      if (reload.exitCode !== 0) return { ok: false, unavailable: unreachable(reload), message: failureText(reload) };
      const enable = await step(systemctl('enable', '--now', SYSTEMD_UNIT_NAME));
      return enable.exitCode === 0 ? { ok: true, unavailable: false } : { ok: false, unavailable: unreachable(enable), message: failureText(enable) };
    },
    async deactivate(step) {
      const disable = await step(systemctl('disable', '--now', SYSTEMD_UNIT_NAME));
      if (disable.exitCode === 0) return { ok: true, unavailable: false };
      return { ok: false, unavailable: unreachable(disable), message: failureText(disable) };
    },
    async afterRemove(step) {
      await step(systemctl('daemon-reload'));
    },
    async query(step) {
      const enabled = await step(systemctl('is-enabled', SYSTEMD_UNIT_NAME), { readOnly: true });
      const active = await step(systemctl('is-active', SYSTEMD_UNIT_NAME), { readOnly: true });
      const word = (r: CommandResult): string => (unreachable(r) ? '' : (r.stdout.trim().split(/\s+/)[0] ?? ''));
      const enabledWord = word(enabled);
      const activeWord = word(active);
      return {
        registered: enabledWord === '' ? null : ['enabled', 'enabled-runtime', 'linked', 'linked-runtime', 'alias'].includes(enabledWord),
        active: activeWord === '' ? null : activeWord === 'active' || activeWord === 'reloading',
      };
    },
  };
}

function launchdBackend(host: ServiceHost): Backend {
  const home = homeDirectory(host.env);
  const file = join(home, 'Library', 'LaunchAgents', `${LAUNCH_AGENT_LABEL}.plist`);
  const domain = `gui/${host.uid}`;
  const service = `${domain}/${LAUNCH_AGENT_LABEL}`;
  const loaded = async (step: Stepper): Promise<CommandResult> => step([LAUNCHCTL, 'print', service], { readOnly: true });
  return {
    location: { platform: 'darwin', manager: 'launchd', name: LAUNCH_AGENT_LABEL, file },
    render: (target) => new TextEncoder().encode(launchAgentPlist(target, { logPath: join(home, 'Library', 'Logs', 'cordon-daemon.log') })),
    async activate(step) {
      const print = await loaded(step);
      if (print.spawnError) return { ok: false, unavailable: true, message: print.spawnError };
      // bootstrap refuses a label that is already loaded: unload the old definition first.
      if (print.exitCode === 0) await step([LAUNCHCTL, 'bootout', service]);
      const boot = await step([LAUNCHCTL, 'bootstrap', domain, file]);
      return boot.exitCode === 0 ? { ok: true, unavailable: false } : { ok: false, unavailable: boot.spawnError !== undefined, message: failureText(boot) };
    },
    async deactivate(step) {
      const print = await loaded(step);
      if (print.spawnError) return { ok: false, unavailable: true, message: print.spawnError };
      if (print.exitCode !== 0) return { ok: true, unavailable: false };
      const out = await step([LAUNCHCTL, 'bootout', service]);
      return out.exitCode === 0 ? { ok: true, unavailable: false } : { ok: false, unavailable: false, message: failureText(out) };
    },
    async afterRemove() {},
    async query(step) {
      const print = await loaded(step);
      if (print.spawnError) return { registered: null, active: null };
      if (print.exitCode !== 0) return { registered: false, active: false };
      return { registered: true, active: /^\s*state = running\s*$/m.test(print.stdout) };
    },
  };
}

function taskSchedulerBackend(host: ServiceHost): Backend {
  const localAppData = host.env.LOCALAPPDATA || join(homeDirectory(host.env), 'AppData', 'Local');
  const file = join(localAppData, 'Cordon', 'service', 'cordon-daemon.task.xml');
  const schtasks = win32.join(host.env.SystemRoot || 'C:\\Windows', 'System32', 'schtasks.exe');
  // One task per account, so two users of one machine do not replace each other's task.
  const name = `${TASK_NAME}-${host.username.replace(/[^A-Za-z0-9._-]/g, '_') || 'user'}`;
  const userId = host.env.USERDOMAIN ? `${host.env.USERDOMAIN}\\${host.username}` : host.username;
  const exists = async (step: Stepper): Promise<CommandResult> => step([schtasks, '/Query', '/TN', name], { readOnly: true });
  return {
    location: { platform: 'win32', manager: 'task-scheduler', name, file },
    render: (target) => utf16leWithBom(scheduledTaskXml(target, { kind: 'user', userId })),
    async activate(step) {
      const create = await step([schtasks, '/Create', '/TN', name, '/XML', file, '/F']);
      if (create.exitCode !== 0) return { ok: false, unavailable: create.spawnError !== undefined, message: failureText(create) };
      const run = await step([schtasks, '/Run', '/TN', name]);
      return run.exitCode === 0 ? { ok: true, unavailable: false } : { ok: false, unavailable: false, message: failureText(run) };
    },
    async deactivate(step) {
      const query = await exists(step);
      if (query.spawnError) return { ok: false, unavailable: true, message: query.spawnError };
      if (query.exitCode !== 0) return { ok: true, unavailable: false };
      // /End fails when the task is not running; that is fine, /Delete is what counts.
      await step([schtasks, '/End', '/TN', name]);
      const remove = await step([schtasks, '/Delete', '/TN', name, '/F']);
      return remove.exitCode === 0 ? { ok: true, unavailable: false } : { ok: false, unavailable: false, message: failureText(remove) };
    },
    async afterRemove() {},
    async query(step) {
      const query = await step([schtasks, '/Query', '/TN', name, '/FO', 'CSV', '/NH'], { readOnly: true });
      if (query.spawnError) return { registered: null, active: null };
      if (query.exitCode !== 0) return { registered: false, active: false };
      // "\CordonDaemon-x","N/A","Running": the last field is the state, in English on English systems only.
      const state = /"([^"]*)"\s*$/m.exec(query.stdout)?.[1]?.trim().toLowerCase();
      return { registered: true, active: state === 'running' ? true : state === 'ready' || state === 'disabled' ? false : null };
    },
  };
}

/**
 * Tamper evidence for the daemon's own lifecycle. While it runs, a marker in the data dir says
 * "running" (with a heartbeat); a clean stop rewrites it with how the daemon stopped (`cordon
 * stop`, a signal) and whether its service manager was the one stopping it. At the next start the
 * marker tells what happened in between: still "running" means the previous daemon was killed or
 * crashed (`daemon.unclean-stop`); a stop outside the service manager while a service is
 * installed is `daemon.stopped-outside-service`. Both are high-severity audit events, synced to
 * the fleet like any other.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CordonEvent } from '../api/control.ts';
import type { CommandRunner } from '../service/types.ts';
import type { EventStore } from '../store/eventStore.ts';
import type { CordonPaths } from '../util/paths.ts';
import type { Logger } from '../util/log.ts';

export const UNCLEAN_STOP_EVENT = 'daemon.unclean-stop';
export const STOPPED_OUTSIDE_SERVICE_EVENT = 'daemon.stopped-outside-service';
/** The reason `stop()` gets from the control API's shutdown method. */
export const CONTROL_API_STOP_REASON = 'shutdown requested over the control API';

const MARKER_FILE = 'daemon-lifecycle.json';
const HEARTBEAT_MS = 60_000;

export type ServiceManagerName = 'systemd' | 'launchd' | 'task-scheduler';

/** How the daemon stopped, as far as it can know. */
export type StopInfo = Readonly<{
  how: 'control-api' | 'signal' | 'other';
  signal: string | null;
  reason: string;
  /** The service manager that started this daemon, when that can be told (systemd: INVOCATION_ID; launchd: XPC_SERVICE_NAME). */
  serviceManager: ServiceManagerName | null;
  /** True: the service manager was stopping it; false: something else did; null: cannot be known. */
  byServiceManager: boolean | null;
  /** One sentence on how that was decided. */
  detail: string;
  /** A per-user service definition exists (the file `cordon service install` writes); null when not looked up (the manager stopped it) or it cannot be told. */
  serviceInstalled: boolean | null;
}>;

type Marker =
  | { version: 1; state: 'running'; pid: number; startedAt: string; aliveAt: string; serviceManager: ServiceManagerName | null }
  | { version: 1; state: 'stopped'; pid: number; startedAt: string; aliveAt: string; serviceManager: ServiceManagerName | null; stoppedAt: string; stop: StopInfo };

export type LifecycleOptions = Readonly<{
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  log: Logger;
  store: Pick<EventStore, 'append' | 'query'>;
  publish: (events: readonly CordonEvent[]) => void;
  now?: () => Date;
  heartbeatMs?: number;
  platform?: NodeJS.Platform;
  /** Runs systemctl (tests inject); default: the real runner, loaded when a stop needs it. */
  run?: CommandRunner;
  /** Whether a per-user service is installed (tests inject); default: the service file exists. */
  serviceInstalled?: () => Promise<boolean | null>;
}>;

export type Lifecycle = Readonly<{
  /** At the start of a clean stop: works out how, writes the clean-stop marker, returns the facts for `daemon.stopped`. */
  stopping(reason: string): Promise<StopInfo>;
  /** Stops the heartbeat. Without a stopping() before it (start-up failed), marks the run as stopped. */
  close(): Promise<void>;
}>;

/**
 * Reads what the previous run left, records the tamper events it shows, and marks this run as
 * running. Never throws: a marker that cannot be written is logged.
 */
export function startLifecycle(options: LifecycleOptions): Lifecycle {
  const { paths, log } = options;
  const now = options.now ?? (() => new Date());
  const platform = options.platform ?? process.platform;
  const file = join(paths.dataDir, MARKER_FILE);
  const startedAt = now().toISOString();
  const manager = serviceManagerOf(options.env, platform);

  try {
    const events = previousRunEvents(readMarker(file), options.store, now());
    for (const event of events) options.publish([options.store.append(event.type, event.summary, event.data)]);
  } catch (error) {
    log.warn('could not check how the previous daemon stopped', { error });
  }

  const running = (): Marker => ({ version: 1, state: 'running', pid: process.pid, startedAt, aliveAt: now().toISOString(), serviceManager: manager });
  try {
    writeFileSync(`${file}.${process.pid}.tmp`, `${JSON.stringify(running())}\n`, { mode: 0o600 });
    renameSync(`${file}.${process.pid}.tmp`, file);
  } catch (error) {
    log.warn('could not write the lifecycle marker: an unclean stop of this run will not be noticed', { error, file });
  }

  // Writes are serialized, so a heartbeat in flight can never land after the stop marker.
  let writes: Promise<void> = Promise.resolve();
  let stopped = false;
  const write = (marker: Marker): Promise<void> => {
    writes = writes.then(async () => {
      const temp = `${file}.${process.pid}.tmp`;
      try {
        await writeFile(temp, `${JSON.stringify(marker)}\n`, { mode: 0o600 });
        await rename(temp, file);
      } catch (error) {
        log.warn('could not write the lifecycle marker', { error, file });
      }
    });
    return writes;
  };
  const heartbeat = setInterval(() => {
    if (!stopped) void write(running());
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  const markStopped = async (stop: StopInfo): Promise<void> => {
    stopped = true;
    clearInterval(heartbeat);
    const at = now().toISOString();
    await write({ version: 1, state: 'stopped', pid: process.pid, startedAt, aliveAt: at, serviceManager: manager, stoppedAt: at, stop });
  };

  return {
    async stopping(reason) {
      let stop: StopInfo;
      try {
        stop = await describeStop(reason, { env: options.env, platform, manager, ...(options.run ? { run: options.run } : {}), serviceInstalled: options.serviceInstalled ?? (() => serviceFileExists(options.env, platform)) });
      } catch (error) {
        log.warn('could not work out how the daemon is being stopped', { error });
        stop = { how: 'other', signal: null, reason, serviceManager: manager, byServiceManager: null, detail: 'unknown', serviceInstalled: null };
      }
      await markStopped(stop);
      return stop;
    },
    async close() {
      if (stopped) return;
      await markStopped({ how: 'other', signal: null, reason: 'start-up failed', serviceManager: manager, byServiceManager: null, detail: 'the daemon did not finish starting', serviceInstalled: null });
    },
  };
}

type PendingEvent = { type: string; summary: string; data: Record<string, unknown> };

/** The tamper events the previous run's marker (or its absence) calls for. Pure apart from the trail queries. */
export function previousRunEvents(marker: Marker | 'missing' | 'unreadable', store: Pick<EventStore, 'query'>, at: Date): PendingEvent[] {
  const lastEventTime = store.query({ limit: 1 })[0]?.time ?? null;
  if (marker === 'missing' || marker === 'unreadable') {
    // No marker, yet the trail shows a daemon that started and never recorded its stop: it was
    // killed (or its marker deleted to hide that). A first run has no daemon events at all.
    const last = store.query({ types: ['daemon.started', 'daemon.stopped'], limit: 1 })[0];
    if (last?.type !== 'daemon.started') return [];
    const lastAlive = latest(last.time, lastEventTime);
    return [uncleanEvent({ marker, previousPid: pidOf(last.data), previousStartedAt: last.time, lastAliveAt: lastAlive, serviceManager: null }, at)];
  }
  if (marker.state === 'running') {
    const lastAlive = latest(marker.aliveAt, lastEventTime);
    return [uncleanEvent({ marker: 'running', previousPid: marker.pid, previousStartedAt: marker.startedAt, lastAliveAt: lastAlive, serviceManager: marker.serviceManager }, at)];
  }
  const stop = marker.stop;
  if (stop.serviceInstalled !== true || stop.byServiceManager !== false) return [];
  const downtime = secondsBetween(marker.stoppedAt, at);
  const by = stop.how === 'control-api' ? "over the control API ('cordon stop')" : stop.how === 'signal' ? `by ${stop.signal ?? 'a signal'} not sent by the service manager` : `(${stop.reason})`;
  return [{
    type: STOPPED_OUTSIDE_SERVICE_EVENT,
    summary: `the daemon was stopped outside its service manager ${by} while the service is installed; down for ${formatSeconds(downtime)}`,
    data: { severity: 'high', previousPid: marker.pid, stoppedAt: marker.stoppedAt, downtimeSeconds: downtime, ...stop },
  }];
}

function uncleanEvent(facts: { marker: 'running' | 'missing' | 'unreadable'; previousPid: number | null; previousStartedAt: string; lastAliveAt: string; serviceManager: ServiceManagerName | null }, at: Date): PendingEvent {
  const downtime = secondsBetween(facts.lastAliveAt, at);
  const why = facts.marker === 'running' ? 'it never recorded a clean stop (killed, crashed, or the machine lost power)' : `its lifecycle marker is ${facts.marker}`;
  return {
    type: UNCLEAN_STOP_EVENT,
    summary: `the previous daemon${facts.previousPid ? ` (pid ${facts.previousPid})` : ''} stopped uncleanly: ${why}; last seen alive ${facts.lastAliveAt}, down for at most ${formatSeconds(downtime)}`,
    data: { severity: 'high', ...facts, downtimeSeconds: downtime },
  };
}

type DescribeOptions = Readonly<{
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  manager: ServiceManagerName | null;
  run?: CommandRunner;
  serviceInstalled: () => Promise<boolean | null>;
}>;

/**
 * How a stop with this reason came about, asking the service manager where it can say. Whether a
 * service is installed is looked up only for a stop the manager did not make (the case that
 * matters, and the lookup loads the service definitions).
 */
export async function describeStop(reason: string, options: DescribeOptions): Promise<StopInfo> {
  const signal = /^SIG[A-Z0-9]+$/.test(reason) ? reason : null;
  const how: StopInfo['how'] = reason === CONTROL_API_STOP_REASON ? 'control-api' : signal ? 'signal' : 'other';
  const verdict = await classifyStop(how, options);
  const serviceInstalled = verdict.byServiceManager === false ? await options.serviceInstalled().catch(() => null) : null;
  return { how, signal, reason, serviceManager: options.manager, ...verdict, serviceInstalled };
}

async function classifyStop(how: StopInfo['how'], options: DescribeOptions): Promise<Pick<StopInfo, 'byServiceManager' | 'detail'>> {
  if (how === 'control-api') return { byServiceManager: false, detail: "asked to stop over the control API ('cordon stop'), not by the service manager" };
  if (how === 'other') return { byServiceManager: null, detail: 'stopped from inside the daemon process' };
  switch (options.manager) {
    case 'systemd': {
      const state = await systemdActiveState(options.run);
      if (state === null) return { byServiceManager: null, detail: 'started by systemd, but systemctl could not say whether it was stopping the unit' };
      return state === 'deactivating'
        ? { byServiceManager: true, detail: 'systemd was stopping the unit (ActiveState=deactivating)' }
        : { byServiceManager: false, detail: `started by systemd, but the unit was ${state} when the signal came: someone else sent it` };
    }
    case 'launchd':
      return { byServiceManager: null, detail: 'started by launchd, which stops jobs with SIGTERM like kill does: who sent it cannot be known' };
    default:
      if (options.platform === 'win32') {
        return { byServiceManager: false, detail: 'a console signal (Ctrl+C); Task Scheduler ends the daemon without one, which is recorded as an unclean stop' };
      }
      return { byServiceManager: false, detail: 'the daemon was not started by a service manager' };
  }
}

/** The service manager that started this process, as far as its environment shows. */
export function serviceManagerOf(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): ServiceManagerName | null {
  if (platform === 'linux' && env.INVOCATION_ID) return 'systemd';
  if (platform === 'darwin' && env.XPC_SERVICE_NAME && env.XPC_SERVICE_NAME !== '0') return 'launchd';
  return null;
}

/** `systemctl show -p ActiveState --value` of this process's own unit; null when it cannot be asked. */
async function systemdActiveState(run?: CommandRunner): Promise<string | null> {
  const unit = ownSystemdUnit();
  const runner = run ?? (await import('../service/runner.ts')).runCommand;
  const args = [...(unit.user ? ['--user'] : []), 'show', '-p', 'ActiveState', '--value', unit.name];
  // Bounded: systemd itself kills a daemon that takes too long to stop.
  const timeout = new Promise<null>((resolve) => setTimeout(resolve, 3000, null).unref());
  const result = await Promise.race([runner('systemctl', args).catch(() => null), timeout]);
  const state = result?.exitCode === 0 ? result.stdout.trim() : '';
  return /^[a-z-]+$/.test(state) ? state : null;
}

/** The unit this process runs in, from /proc/self/cgroup (the default unit name when that cannot be read). */
function ownSystemdUnit(): { name: string; user: boolean } {
  try {
    const cgroup = readFileSync('/proc/self/cgroup', 'utf8');
    const path = cgroup.split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? cgroup.split('\n')[0]?.split(':')[2] ?? '';
    const name = path.split('/').reverse().find((part) => part.endsWith('.service') && !part.startsWith('user@'));
    if (name) return { name, user: path.includes('/user@') };
  } catch {
    // Not Linux, or no /proc: fall through.
  }
  return { name: 'cordon-daemon.service', user: true };
}

/** Whether `cordon service install`'s file exists for this user; null where there is no service manager. */
async function serviceFileExists(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Promise<boolean | null> {
  if (platform !== 'linux' && platform !== 'darwin' && platform !== 'win32') return null;
  const [{ serviceBackend }, { currentUid, currentUsername }, { runCommand }] = await Promise.all([import('../service/backends.ts'), import('../service/host.ts'), import('../service/runner.ts')]);
  const { file } = serviceBackend({ platform, env, run: runCommand, uid: currentUid(), username: currentUsername(env, platform) }).location;
  return existsSync(file);
}

function readMarker(file: string): Marker | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const value = JSON.parse(text) as Partial<Marker> & { stop?: Partial<StopInfo> };
    if (value.version !== 1 || typeof value.pid !== 'number' || typeof value.startedAt !== 'string' || typeof value.aliveAt !== 'string') return 'unreadable';
    if (value.state === 'running') return value as Marker;
    if (value.state === 'stopped' && typeof value.stoppedAt === 'string' && value.stop && typeof value.stop.how === 'string') return value as Marker;
    return 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** Reads the marker (for `cordon status`-like callers and tests). */
export async function readLifecycleMarker(paths: CordonPaths): Promise<unknown> {
  const text = await readFile(join(paths.dataDir, MARKER_FILE), 'utf8').catch(() => null);
  return text === null ? null : (JSON.parse(text) as unknown);
}

function pidOf(data: unknown): number | null {
  const pid = (data as { pid?: unknown } | null)?.pid;
  return typeof pid === 'number' ? pid : null;
}

function latest(a: string, b: string | null): string {
  if (b === null) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

function secondsBetween(from: string, to: Date): number {
  const ms = to.getTime() - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms / 1000)) : 0;
}

function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

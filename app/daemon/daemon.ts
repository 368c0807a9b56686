/**
 * `cordon daemon`: the long-running core for one user. It holds the single-instance lock, opens
 * the store, keeps the inventory current, serves the control API on a private socket, and shuts
 * down cleanly on SIGTERM/SIGINT. Runs in the foreground; service managers supervise it.
 */
import { CONTROL_PROTOCOL_VERSION, type ControlMethod, type CordonEvent, type DaemonStatus } from '../api/control.ts';
import { CoreError } from '../api/errors.ts';
import type { ApprovalAnswer } from '../api/approvals.ts';
import type { AgentRecord } from '../api/inventory.ts';
import type { ProtectionState } from '../api/sync.ts';
import { createAuditLog } from '../audit/auditLog.ts';
import { redactSettingsReport } from '../config/settings.ts';
import { removeAgentKeys } from '../identity/agentKeys.ts';
import { openDatabase } from '../store/database.ts';
import { createEventStore } from '../store/eventStore.ts';
import { ensurePrivateDir, type CordonPaths } from '../util/paths.ts';
import type { Logger } from '../util/log.ts';
import { acquireDaemonLock } from './lock.ts';
import { startControlServer, type Connection, type ControlHandlers } from './controlServer.ts';
import { startLocalConsole } from '../console/server.ts';
import { removeConsoleSession, writeConsoleSession } from '../console/sessionFile.ts';
import { DEFAULT_STATIC_DIR } from '../console/staticFiles.ts';
import { startInventoryWatcher } from './inventoryWatcher.ts';
import { watchSettings } from './daemonSettings.ts';
import { startEnforcement, type Enforcement } from './enforcement.ts';
import { startProtectionWatch } from './protectionWatch.ts';
import { releaseStartupTiering } from './startupTiering.ts';
import { CONTROL_API_STOP_REASON, startLifecycle } from './lifecycle.ts';
import { managedStateOf } from '../sync/managedState.ts';
import { createSyncClient, type SyncStatus } from '../sync/syncClient.ts';
import { parseEventQuery, parseLocalActionRequest, parseMcpToolsChange } from './requests.ts';
import { cordonVersion } from '../util/version.ts';

const APPROVAL_ANSWERS: readonly ApprovalAnswer[] = ['allow-once', 'allow-always', 'deny', 'deny-always'];
const DAY_MS = 24 * 3600_000;
/**
 * When start-up is over, after the daemon reports it has started (the first protection check and
 * other start-up work still run then): its garbage is collected and the optimizing compilers held
 * off during start-up are turned on (app/daemon/startupTiering.ts).
 */
const STARTUP_GC_DELAY_MS = 3000;
/** How often the daemon looks whether a burst of work has ended (see releaseGarbage). */
const IDLE_GC_CHECK_MS = 5000;

export type DaemonOptions = Readonly<{
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Discovery home override (tests, `cordon daemon --home DIR`). */
  home?: string;
  /** Quiet time after a file event before rescanning. */
  debounceMs?: number;
}>;

export type RunningDaemon = Readonly<{
  stop(reason: string): Promise<void>;
  /** Resolves when the daemon has stopped. */
  stopped: Promise<void>;
}>;

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { paths, log } = options;
  ensurePrivateDir(paths.runtimeDir);
  const lock = await acquireDaemonLock(paths);
  const startedAt = new Date();
  const version = cordonVersion();
  let controlServer: Awaited<ReturnType<typeof startControlServer>> | null = null;
  const cleanups: (() => Promise<void> | void)[] = [() => lock.release()];
  try {
    const db = openDatabase(paths.databaseFile);
    cleanups.unshift(() => {
      db.close();
    });
    const store = createEventStore(db);
    const audit = createAuditLog(db, {
      onError: (error, lost) => log.error('audit write failed', { error, lost }),
      onSyncError: (error) => log.error('audit fsync failed: allowed actions since the last fsync may not survive an OS crash', { error }),
    });
    cleanups.unshift(() => audit.flush());
    const consoleListeners = new Set<(event: CordonEvent) => void>();
    let published = 0;
    const publish = (events: readonly CordonEvent[]): void => {
      published += events.length;
      for (const event of events) {
        controlServer?.publish(event);
        for (const listener of consoleListeners) listener(event);
      }
    };
    let enforcement: Enforcement | null = null;
    let protectionCheck: ((reason: string) => Promise<void>) | null = null;
    let protectionState: () => ProtectionState = () => 'unknown';

    const settings = await watchSettings({ paths, env: options.env, log, onChange: (summary, problems) => {
      publish([store.append('settings.changed', summary, { problems })]);
      enforcement?.applySettings();
      void protectionCheck?.('settings changed');
    } });
    cleanups.unshift(() => settings.close());
    const prune = (): void => {
      try {
        const result = audit.prune({ maxAgeDays: settings.current().settings.auditRetentionDays, maxRows: 1_000_000 });
        log.debug('audit retention applied', { result });
      } catch (error) {
        log.warn('audit pruning failed', { error });
      }
    };
    prune();
    const pruneTimer = setInterval(prune, DAY_MS);
    pruneTimer.unref();
    cleanups.unshift(() => clearInterval(pruneTimer));

    const watcher = await startInventoryWatcher({
      store,
      log,
      watch: settings.current().watchEnabled,
      scanInput: () => ({
        ...(options.home !== undefined ? { home: options.home, env: { PATH: options.env.PATH } } : {}),
        projectRoots: settings.current().projectRoots,
      }),
      onEvents: (events) => {
        publish(events);
        for (const event of events) if (event.type === 'agent.removed') void forgetAgentKeys(event.data);
        if (events.some((e) => e.type.startsWith('agent.'))) void protectionCheck?.('inventory changed');
      },
      ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    });
    cleanups.unshift(() => watcher.close());

    enforcement = await startEnforcement({
      paths,
      env: options.env,
      log,
      settings,
      audit,
      inventory: () => watcher.current(),
      publish: (event) => publish([event]),
    });
    const running = enforcement;
    cleanups.unshift(() => running.close());

    // The fleet: enrollment (silent when IT manages the server URL and secret), lossless sync of
    // audit events and inventory, the fleet policy layer. Needs the keychain for the device key.
    const sync = running.keyManager && running.keyStore
      ? createSyncClient({
          db,
          paths,
          settings: () => settings.current().settings,
          inventory: () => watcher.current(),
          keyManager: running.keyManager,
          keyStore: running.keyStore,
          log: log.child({ component: 'sync' }),
          env: options.env,
          onPolicy: (policy) => running.setFleetPolicy(policy ? { source: `fleet policy v${policy.version}`, text: policy.text } : null),
          protection: () => protectionState(),
          managedState: () => managedStateOf(settings.report()),
        })
      : null;
    if (sync) {
      running.setFleetContext(sync.destinationContext);
      sync.start();
      cleanups.unshift(() => sync.stop());
    }

    const protection = startProtectionWatch({
      paths,
      env: options.env,
      home: options.home ?? options.env.HOME ?? paths.configDir,
      log,
      settings: () => settings.current().settings,
      inventory: () => watcher.current(),
      proxy: () => {
        const s = running.status();
        // caDistribution none: agents are not told to trust Cordon's CA (IT distributes trust its own way).
        const shareCa = s.ca.bundle && settings.current().settings.caDistribution !== 'none';
        return { ...(s.proxy ? { proxyUrl: s.proxy.url } : {}), ...(shareCa ? { caFile: s.ca.bundle } : {}) };
      },
      record: (type, summary, data) => publish([store.append(type, summary, data)]),
    });
    cleanups.unshift(() => protection.close());
    protectionCheck = protection.check;
    protectionState = protection.state;

    /** When discovery sees an agent uninstalled, its DPoP keys go too. */
    const forgetAgentKeys = async (data: unknown): Promise<void> => {
      const before = (data as { before?: AgentRecord } | null)?.before;
      const manager = enforcement?.keyManager;
      if (!before || !manager) return;
      try {
        await removeAgentKeys(manager, { kind: before.kind, path: before.path });
      } catch (error) {
        log.warn('could not remove the keys of an uninstalled agent', { error, agent: before.kind });
      }
    };

    // Tamper evidence: records how the previous run ended (killed, stopped outside the service manager).
    const lifecycle = startLifecycle({ paths, env: options.env, log, store, publish });
    cleanups.unshift(() => lifecycle.close());

    let stopping: Promise<void> | null = null;
    let resolveStopped!: () => void;
    const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
    const stop = (reason: string): Promise<void> => {
      stopping ??= (async () => {
        log.info('daemon stopping', { reason });
        const how = await lifecycle.stopping(reason);
        try {
          store.append('daemon.stopped', `daemon stopped (${reason})`, { pid: process.pid, ...how });
        } catch (error) {
          log.warn('could not record the stop', { error });
        }
        await controlServer?.close();
        for (const cleanup of cleanups) {
          try {
            await cleanup();
          } catch (error) {
            log.warn('cleanup failed', { error });
          }
        }
        log.info('daemon stopped', { reason });
        resolveStopped();
      })();
      return stopping;
    };

    const handlers: ControlHandlers = {
      status: async () => statusOf(),
      inventory: async () => {
        const inventory = watcher.current();
        if (!inventory) throw new CoreError('ERR_NOT_FOUND', 'no inventory yet');
        return inventory;
      },
      rescan: async () => watcher.rescan('requested'),
      events: async (params) => store.query(parseEventQuery(params)),
      subscribe: async (params, connection) => {
        const afterSeq = (params as { afterSeq?: unknown }).afterSeq;
        if (afterSeq !== undefined && (typeof afterSeq !== 'number' || !Number.isSafeInteger(afterSeq))) {
          throw new CoreError('ERR_BAD_REQUEST', 'afterSeq must be an integer');
        }
        connection.subscribe(afterSeq);
        return { subscribed: true };
      },
      approvals: async (params) => {
        const all = (params as { all?: unknown }).all === true;
        return all ? [...running.approvals.pending(), ...running.approvals.history()] : running.approvals.pending();
      },
      answerApproval: async (params) => {
        const { id, answer } = params as { id?: unknown; answer?: unknown };
        if (typeof id !== 'string' || id.length === 0 || id.length > 200) throw new CoreError('ERR_BAD_REQUEST', 'id must be an approval id');
        if (typeof answer !== 'string' || !APPROVAL_ANSWERS.includes(answer as ApprovalAnswer)) {
          throw new CoreError('ERR_BAD_REQUEST', `answer must be one of ${APPROVAL_ANSWERS.join(', ')}`);
        }
        return running.approvals.answer(id, answer as ApprovalAnswer);
      },
      localAction: async (params) => running.decideLocal(parseLocalActionRequest(params)),
      mcpToolsChanged: async (params) => running.recordToolsChange(parseMcpToolsChange(params)),
      policy: async () => ({ view: running.policyView(), problems: running.policyProblems() }),
      settings: async () => redactSettingsReport(settings.report()),
      keys: async () => {
        if (!running.keyManager) throw new CoreError('ERR_KEYCHAIN_UNAVAILABLE', 'the OS keychain is unavailable to the daemon');
        return (await running.keyManager.list()).map((k) => ({
          keyId: k.keyId,
          purpose: k.purpose,
          ownerId: k.ownerId,
          agentKind: k.agent?.kind ?? null,
          thumbprint: k.thumbprint,
          alg: k.alg,
          created: k.created,
          lastUsed: k.lastUsed,
        }));
      },
      pause: async (params) => {
        const minutes = (params as { minutes?: unknown }).minutes;
        if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > 1440) throw new CoreError('ERR_BAD_REQUEST', 'minutes must be an integer from 1 to 1440');
        return running.pause(minutes);
      },
      resume: async () => {
        running.resume();
        return { resumed: true };
      },
      shutdown: async () => {
        setImmediate(() => void stop(CONTROL_API_STOP_REASON));
        return { stopping: true };
      },
    };

    let consoleUrl: string | null = null;
    const statusOf = (): DaemonStatus => {
      const inventory = watcher.current();
      const stats = watcher.stats();
      const last = store.query({ limit: 1 })[0];
      return {
        protocolVersion: CONTROL_PROTOCOL_VERSION,
        version,
        pid: process.pid,
        startedAt: startedAt.toISOString(),
        uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        mode: running.pausedUntil() ? 'monitor' : settings.current().mode,
        socketPath: paths.socketPath,
        databaseFile: paths.databaseFile,
        inventory: {
          scannedAt: inventory?.scannedAt ?? null,
          agents: inventory?.agents.length ?? 0,
          mcpServers: inventory?.mcpServers.length ?? 0,
          errors: inventory?.errors.length ?? 0,
          lastScanMs: stats.lastScanMs,
        },
        watcher: { enabled: settings.current().watchEnabled, paths: stats.watchedPaths, lastChangeAt: stats.lastChangeAt, scans: stats.scans },
        settings: { problems: settings.current().problems, managedPath: settings.current().managedPath },
        events: { total: store.count(), lastSeq: last?.seq ?? null },
        ...running.status(),
        console: consoleUrl ? { url: consoleUrl } : null,
        fleet: sync ? fleetStatus(sync.status()) : null,
      };
    };

    controlServer = await startControlServer(paths.socketPath, handlers, log, (afterSeq) => store.query({ afterSeq, limit: 10_000 }));
    consoleUrl = await startConsole(handlers, consoleListeners, paths, log, cleanups);
    publish([store.append('daemon.started', `daemon started (pid ${process.pid}, version ${version})`, { pid: process.pid, version })]);
    log.info('daemon started', { pid: process.pid, socket: paths.socketPath, database: paths.databaseFile, agents: watcher.current()?.agents.length ?? 0, mcpServers: watcher.current()?.mcpServers.length ?? 0 });
    cleanups.push(endStartupTiering(log), releaseGarbage(() => published));
    return { stop, stopped };
  } catch (error) {
    for (const cleanup of cleanups) await Promise.resolve().then(cleanup).catch(() => undefined);
    throw error;
  }
}

function fleetStatus(s: SyncStatus): NonNullable<DaemonStatus['fleet']> {
  return { phase: s.phase, serverUrl: s.serverUrl ?? s.configuredServerUrl, deviceId: s.deviceId, lastSuccessAt: s.lastSuccessAt, lastError: s.lastError, pendingEvents: s.outbox.pending, policyVersion: s.policyAppliedVersion };
}

/**
 * The local web console (React UI over HTTP on loopback, behind a per-session secret). Its
 * session file lets `cordon ui` open it. A console that cannot start never stops the daemon.
 */
async function startConsole(
  handlers: ControlHandlers,
  listeners: Set<(event: CordonEvent) => void>,
  paths: CordonPaths,
  log: Logger,
  cleanups: (() => Promise<void> | void)[],
): Promise<string | null> {
  try {
    const noSubscription: Connection = { subscribe() {} };
    const webConsole = await startLocalConsole({
      call: (method, params) => (handlers[method as ControlMethod] as (p: unknown, c: Connection) => Promise<unknown>)(params ?? {}, noSubscription),
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      staticDir: DEFAULT_STATIC_DIR,
      log: log.child({ component: 'console' }),
    });
    writeConsoleSession(paths.runtimeDir, webConsole);
    cleanups.unshift(async () => {
      removeConsoleSession(paths.runtimeDir);
      await webConsole.close();
    });
    return webConsole.url;
  } catch (error) {
    log.error('the local web console could not start; everything else keeps running', { error });
    return null;
  }
}

/** Turns the optimizing compilers on once start-up is over, when bin/cordon.js held them off. */
function endStartupTiering(log: Logger): () => void {
  const timer = setTimeout(() => {
    if (releaseStartupTiering()) log.debug('start-up over: optimizing compilers on');
  }, STARTUP_GC_DELAY_MS);
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * Start-up (module loading, schema compilation, the first scan) leaves garbage that V8's own
 * memory reducer collects only minutes later. With --expose-gc (bin/cordon.js gives it to the
 * daemon), one memory-reducing collection shortly after start-up returns it, and another one after
 * each burst of work (proxied requests, hook and MCP decisions: each publishes an event) once a
 * check interval passes with no new event (bench/memory.bench.ts). Returns what stops the checks.
 */
function releaseGarbage(activity: () => number): () => void {
  const gc = (globalThis as { gc?: (options: { type: 'major'; execution: 'async'; flavor: 'last-resort' }) => Promise<void> | void }).gc;
  if (typeof gc !== 'function') return () => undefined;
  const collect = (): void => {
    try {
      void Promise.resolve(gc({ type: 'major', execution: 'async', flavor: 'last-resort' })).catch(() => undefined);
    } catch {
      // Only memory is at stake: never a reason to stop the daemon.
    }
  };
  const startup = setTimeout(collect, STARTUP_GC_DELAY_MS);
  startup.unref();
  let seen = activity();
  let busy = false;
  const idleCheck = setInterval(() => {
    const now = activity();
    if (now !== seen) {
      seen = now;
      busy = true;
    } else if (busy) {
      busy = false;
      collect();
    }
  }, IDLE_GC_CHECK_MS);
  idleCheck.unref();
  return () => {
    clearTimeout(startup);
    clearInterval(idleCheck);
  };
}

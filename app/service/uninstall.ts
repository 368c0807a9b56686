/**
 * `cordon uninstall` without the CLI: leaves the machine as it was before Cordon. In order: an
 * audit event `cordon.uninstalled` (and a best-effort last sync so it reaches the fleet), the
 * service unregistered (which stops the daemon it supervises), any daemon still running stopped,
 * every protected agent restored from its backups, the CA removed from every trust store Cordon
 * added it to, on request every Cordon key and credential deleted from the keychain, and on
 * request Cordon's own directories removed. Each step reports on its own; a failed step does not
 * stop the others, but the data dir (which holds the records later steps need) is never purged
 * after a failure.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { connectControl } from '../client/controlClient.ts';
import { loadSettings } from '../config/settings.ts';
import { runningDaemonPid } from '../daemon/lock.ts';
import { createAgentKeyManager } from '../identity/agentKeys.ts';
import { caDir } from '../identity/ca/rootCa.ts';
import { untrustAll, type TrustHost } from '../identity/ca/trustStore.ts';
import { createCredentialStore } from '../identity/credentials.ts';
import { readJsonFile } from '../identity/jsonFile.ts';
import { keychainAccount, readKeysFile } from '../identity/keyRecords.ts';
import type { KeyStore } from '../identity/keyStore.ts';
import { protectContext, protectionState, unprotectAgent } from '../protect/protect.ts';
import { PROTECT_AGENTS, type ProtectAgent, type ProtectScope } from '../protect/types.ts';
import { openDatabase, openDatabaseReadOnly } from '../store/database.ts';
import { createEventStore } from '../store/eventStore.ts';
import { isEnrolled, readSyncState, TOKEN_ACCOUNT } from '../sync/state.ts';
import type { CordonPaths } from '../util/paths.ts';
import { silentLogger } from '../util/log.ts';
import { uninstallService } from './manager.ts';
import type { ServiceHost } from './types.ts';

export const UNINSTALLED_EVENT = 'cordon.uninstalled';

export type UninstallOptions = Readonly<{
  /** Delete every Cordon key and credential from the OS keychain. */
  removeKeys?: boolean;
  /** Remove Cordon's config, data and runtime directories. */
  purge?: boolean;
  dryRun?: boolean;
  /** Go ahead although IT manages Cordon's settings. */
  force?: boolean;
}>;

/** The machine and user to uninstall from; tests point every path at temp dirs. */
export type UninstallContext = Readonly<{
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** The home whose agents' settings are restored. */
  home: string;
  /** The per-user service manager; null where Cordon has none. */
  service: ServiceHost | null;
  trust: TrustHost;
  /** Opens the keychain (only when a step needs it). */
  keyStore: () => KeyStore;
  version: string;
  /** How long to wait for a daemon to exit after it was asked to (default 30 s). */
  stopTimeoutMs?: number;
  /** How long the last sync may take (default 20 s). */
  syncTimeoutMs?: number;
}>;

export type UninstallStepName = 'record' | 'sync' | 'service' | 'daemon' | 'agents' | 'ca' | 'keys' | 'purge';

export type UninstallStep = Readonly<{
  step: UninstallStepName;
  /** done; failed (counts against the exit code); skipped; warning (best effort, does not count); dry-run (what would be done). */
  status: 'done' | 'failed' | 'skipped' | 'warning' | 'dry-run';
  message: string;
  details: readonly string[];
}>;

export type UninstallReport = Readonly<{
  ok: boolean;
  dryRun: boolean;
  /** Refused because IT manages Cordon (no step ran). */
  refused: boolean;
  /** Where the managed settings come from, when IT manages them. */
  managedSettings: string | null;
  steps: readonly UninstallStep[];
  message: string;
  hint?: string;
}>;

const SCOPES: readonly ProtectScope[] = ['user', 'managed'];

export async function uninstallCordon(ctx: UninstallContext, options: UninstallOptions = {}): Promise<UninstallReport> {
  const dryRun = options.dryRun === true;
  const settings = await loadSettings({ paths: ctx.paths, env: ctx.env, platform: ctx.platform });
  const managed = settings.files.managed.present ? settings.files.managed.path : null;
  if (managed !== null && options.force !== true) {
    return {
      ok: false, dryRun, refused: true, managedSettings: managed, steps: [],
      message: `IT manages Cordon on this machine (${managed}): refusing to uninstall`,
      hint: 'Cordon deployed by MDM is removed by MDM: ask IT to remove the configuration profile / policy and the package (the MDM would otherwise put it back). Pass --force to uninstall anyway.',
    };
  }
  const steps: UninstallStep[] = [];
  const add = (step: UninstallStep): void => void steps.push(step);

  const { record, enrolled } = await recordUninstall(ctx, options, managed);
  add(record);
  add(enrolled ? await finalSync(ctx, dryRun) : { step: 'sync', status: 'skipped', message: 'not enrolled with a fleet server', details: [] });
  add(await removeService(ctx, dryRun));
  add(await stopDaemon(ctx, dryRun));
  const daemonGone = steps.at(-1)?.status !== 'failed';
  add(daemonGone ? await restoreAgents(ctx, dryRun) : { step: 'agents', status: 'failed', message: 'not restored: the daemon is still running and would put the protection back', details: [] });
  add(await untrustCa(ctx, dryRun));
  add(options.removeKeys === true ? await removeKeys(ctx, dryRun) : { step: 'keys', status: 'skipped', message: 'kept in the keychain (pass --remove-keys to delete them)', details: [] });
  add(options.purge === true ? await purge(ctx, dryRun, steps, options.removeKeys === true) : { step: 'purge', status: 'skipped', message: `kept ${ctx.paths.configDir} and ${ctx.paths.dataDir} (pass --purge to remove them)`, details: [] });

  const failed = steps.filter((s) => s.status === 'failed');
  return {
    ok: failed.length === 0,
    dryRun,
    refused: false,
    managedSettings: managed,
    steps,
    message: dryRun
      ? 'dry run: nothing was changed; the steps show what would be done'
      : failed.length === 0
        ? `Cordon is uninstalled${options.removeKeys === true ? '' : '; its keys stay in the keychain'}${options.purge === true ? '' : '; its settings and data stay on disk'}`
        : `uninstall incomplete: ${failed.map((s) => s.step).join(', ')} failed (the other steps ran)`,
    ...(failed.length > 0 && !dryRun ? { hint: 'fix what the failed steps say and run cordon uninstall again: steps already done are no-ops' } : {}),
  };
}

/** 1. The audit event, appended to the daemon's trail from outside (the chain is multi-process safe). */
async function recordUninstall(ctx: UninstallContext, options: UninstallOptions, managed: string | null): Promise<{ record: UninstallStep; enrolled: boolean }> {
  if (!existsSync(ctx.paths.databaseFile)) {
    return { record: { step: 'record', status: 'skipped', message: `no audit trail on this machine (${ctx.paths.databaseFile})`, details: [] }, enrolled: false };
  }
  let db: ReturnType<typeof openDatabase> | null = null;
  try {
    // A dry run changes nothing, not even a schema migration.
    db = options.dryRun === true ? openDatabaseReadOnly(ctx.paths.databaseFile) : openDatabase(ctx.paths.databaseFile);
    const enrolled = enrolledIn(db);
    if (options.dryRun === true) return { record: { step: 'record', status: 'dry-run', message: `would record ${UNINSTALLED_EVENT} in the audit trail`, details: [] }, enrolled };
    const data = {
      severity: 'medium',
      user: safeUser(),
      host: hostname(),
      version: ctx.version,
      removeKeys: options.removeKeys === true,
      purge: options.purge === true,
      forced: options.force === true,
      managedSettings: managed,
    };
    const event = createEventStore(db).append(UNINSTALLED_EVENT, `Cordon is being uninstalled by ${data.user}${managed ? ' (IT-managed; --force)' : ''}`, data);
    return { record: { step: 'record', status: 'done', message: `recorded ${UNINSTALLED_EVENT} in the audit trail (seq ${event.seq})`, details: [] }, enrolled };
  } catch (error) {
    return { record: { step: 'record', status: 'failed', message: `could not record ${UNINSTALLED_EVENT}: ${messageOf(error)}`, details: [] }, enrolled: false };
  } finally {
    db?.close();
  }
}

/** 2. One last sync so the fleet sees the uninstall (best effort: a failure is a warning). */
async function finalSync(ctx: UninstallContext, dryRun: boolean): Promise<UninstallStep> {
  if (dryRun) return { step: 'sync', status: 'dry-run', message: 'would sync with the fleet server once (best effort)', details: [] };
  const best = 'best effort: the event stays in the local audit trail';
  let db: ReturnType<typeof openDatabase> | null = null;
  try {
    const [{ createSyncClient }, settings] = await Promise.all([import('../sync/syncClient.ts'), loadSettings({ paths: ctx.paths, env: ctx.env, platform: ctx.platform })]);
    db = openDatabase(ctx.paths.databaseFile);
    const keyStore = ctx.keyStore();
    const keyManager = createAgentKeyManager({ keyStore, dataDir: ctx.paths.dataDir });
    const store = createEventStore(db);
    const client = createSyncClient({ db, paths: ctx.paths, settings: () => settings.effective, inventory: () => store.latestInventory(), keyManager, keyStore, log: silentLogger, env: ctx.env, agentVersion: ctx.version });
    try {
      const timeoutMs = ctx.syncTimeoutMs ?? 20_000;
      const result = await Promise.race([client.syncNow(), new Promise<null>((r) => setTimeout(r, timeoutMs, null).unref())]);
      if (result === null) return { step: 'sync', status: 'warning', message: `the fleet server did not answer within ${timeoutMs / 1000} s (${best})`, details: [] };
      if (!result.ok) return { step: 'sync', status: 'warning', message: `sync failed (${result.phase}): ${result.error ?? 'unknown error'} (${best})`, details: [] };
      if (result.phase === 'disabled') return { step: 'sync', status: 'warning', message: `enrolled, but no fleet server is configured any more (${best})`, details: [] };
      return { step: 'sync', status: 'done', message: `synced with the fleet server: ${result.sent} event(s) sent, ${result.pending} pending`, details: [] };
    } finally {
      await client.stop();
      await keyManager.flush().catch(() => undefined);
    }
  } catch (error) {
    return { step: 'sync', status: 'warning', message: `could not sync: ${messageOf(error)} (${best})`, details: [] };
  } finally {
    db?.close();
  }
}

/** 3. The per-user service: stopped and unregistered through its manager, its file removed. */
async function removeService(ctx: UninstallContext, dryRun: boolean): Promise<UninstallStep> {
  if (!ctx.service) return { step: 'service', status: 'skipped', message: `no service manager support on ${ctx.platform}`, details: [] };
  try {
    const outcome = await uninstallService(ctx.service, { dryRun });
    // When all is well, a query that failed (no such unit, no user manager) is no news.
    const shown = outcome.ok ? outcome.steps.filter((s) => s.ok) : outcome.steps;
    const details = shown.map((s) => `${s.ok ? (s.exitCode === null ? '-' : 'ok') : 'FAILED'} ${s.command.join(' ')}${s.message ? `: ${s.message}` : ''}`);
    if (outcome.hint) details.push(`hint: ${outcome.hint}`);
    return { step: 'service', status: dryRun ? 'dry-run' : outcome.ok ? 'done' : 'failed', message: outcome.message, details };
  } catch (error) {
    return { step: 'service', status: 'failed', message: `could not uninstall the service: ${messageOf(error)}`, details: [] };
  }
}

/** 4. A daemon still running (started by hand, or its service manager could not be reached): asked to stop, then waited for. */
async function stopDaemon(ctx: UninstallContext, dryRun: boolean): Promise<UninstallStep> {
  const pid = runningDaemonPid(ctx.paths);
  let client;
  try {
    client = await connectControl(ctx.paths.socketPath, 1000);
  } catch {
    if (pid === null) return { step: 'daemon', status: 'done', message: 'no daemon is running', details: [] };
    return { step: 'daemon', status: 'failed', message: `a daemon (pid ${pid}) holds the lock but does not answer on ${ctx.paths.socketPath}`, details: [`stop it with: kill ${pid}`] };
  }
  try {
    if (dryRun) return { step: 'daemon', status: 'dry-run', message: `would stop the running daemon${pid ? ` (pid ${pid})` : ''} over the control API`, details: [] };
    await client.call('shutdown', {}, 5000);
  } catch (error) {
    return { step: 'daemon', status: 'failed', message: `the daemon refused to stop: ${messageOf(error)}`, details: [] };
  } finally {
    client.close();
  }
  const deadline = Date.now() + (ctx.stopTimeoutMs ?? 30_000);
  while (runningDaemonPid(ctx.paths) !== null) {
    if (Date.now() > deadline) return { step: 'daemon', status: 'failed', message: `the daemon (pid ${pid ?? '?'}) was asked to stop but is still running`, details: [] };
    await new Promise((r) => setTimeout(r, 50));
  }
  return { step: 'daemon', status: 'done', message: `stopped the daemon${pid ? ` (pid ${pid})` : ''}`, details: [] };
}

/** 5. Every agent Cordon protected, at every scope: original files back from the backups. */
async function restoreAgents(ctx: UninstallContext, dryRun: boolean): Promise<UninstallStep> {
  const pctx = protectContext(ctx.paths, ctx.env, ctx.home, ctx.platform);
  const details: string[] = [];
  let failed = 0;
  let restored = 0;
  for (const scope of SCOPES) {
    for (const agent of PROTECT_AGENTS) {
      let target: boolean;
      try {
        target = await hasProtection(agent, scope, pctx);
      } catch (error) {
        failed++;
        details.push(`${agent} (${scope}): cannot read its settings: ${messageOf(error)}`);
        continue;
      }
      if (!target) continue;
      if (dryRun) {
        details.push(`${agent} (${scope}): would remove Cordon's hook and restore the original files`);
        continue;
      }
      const outcome = await unprotectAgent(agent, scope, pctx);
      const ok = outcome.status !== 'failed' && outcome.status !== 'conflict';
      if (ok) restored++;
      else failed++;
      details.push(`${agent} (${scope}): ${outcome.status}${outcome.files.length > 0 ? ` (${outcome.files.join(', ')})` : ''}${outcome.notes.length > 0 ? `; ${outcome.notes.join('; ')}` : ''}`);
    }
  }
  if (dryRun) return { step: 'agents', status: 'dry-run', message: details.length === 0 ? 'no agent is protected' : `would restore ${details.length} agent setting(s)`, details };
  if (failed > 0) return { step: 'agents', status: 'failed', message: `${failed} agent setting(s) could not be restored`, details };
  return { step: 'agents', status: 'done', message: restored === 0 ? 'no agent was protected' : `restored ${restored} agent setting(s)`, details };
}

/** Cordon recorded protecting it, or its hook is there without a record. */
async function hasProtection(agent: ProtectAgent, scope: ProtectScope, pctx: ReturnType<typeof protectContext>): Promise<boolean> {
  const state = await protectionState(agent, scope, pctx);
  return state.recorded || state.files.some((f) => f.hook === 'ok' || f.hook === 'altered');
}

/** 6. The CA out of every trust store `cordon ca trust` recorded. */
async function untrustCa(ctx: UninstallContext, dryRun: boolean): Promise<UninstallStep> {
  try {
    const report = await untrustAll(ctx.trust, ctx.paths.dataDir, { dryRun });
    const details = report.actions.flatMap((a) => [`${a.store} ${a.fingerprint256.slice(0, 16)}…: ${a.message}`, ...a.steps.map((s) => `  ${s.ok ? 'ok' : 'FAILED'} ${s.step}${s.message ? `: ${s.message}` : ''}`)]);
    if (report.hint) details.push(`hint: ${report.hint}`);
    return { step: 'ca', status: dryRun && report.actions.length > 0 ? 'dry-run' : report.ok ? 'done' : 'failed', message: report.message, details };
  } catch (error) {
    return { step: 'ca', status: 'failed', message: `could not remove the CA from the trust stores: ${messageOf(error)}`, details: [] };
  }
}

/** 7. Every keychain entry Cordon made: agent and device keys, upstream credentials, CA keys, the fleet token. */
async function removeKeys(ctx: UninstallContext, dryRun: boolean): Promise<UninstallStep> {
  const dataDir = ctx.paths.dataDir;
  try {
    const keys = (await readKeysFile(dataDir)).keys;
    const credentials = await createCredentialStore(nullKeyStore, dataDir).list();
    const caSerials = await caKeySerials(dataDir);
    const accounts = [...keys.map(keychainAccount), ...credentials.map((c) => `credential:${c.name}`), ...caSerials.map((s) => `ca:${s}`), TOKEN_ACCOUNT];
    if (dryRun) {
      return { step: 'keys', status: 'dry-run', message: `would delete ${accounts.length} keychain entr${accounts.length === 1 ? 'y' : 'ies'} (where present)`, details: accounts };
    }
    const keyStore = ctx.keyStore();
    // Through the key manager, so keys.json and the keychain stay consistent.
    await createAgentKeyManager({ keyStore, dataDir }).removeWhere(() => true);
    const credentialStore = createCredentialStore(keyStore, dataDir);
    const details: string[] = [];
    for (const account of accounts) {
      const deleted = await keyStore.delete(account);
      const gone = (await keyStore.get(account)) === null;
      if (!gone) throw new Error(`${account} is still in the keychain after deletion`);
      if (deleted || keys.some((k) => keychainAccount(k) === account)) details.push(`deleted ${account}`);
    }
    for (const c of credentials) await credentialStore.remove(c.name);
    return { step: 'keys', status: 'done', message: `deleted every Cordon entry from the keychain (${keyStore.service})`, details };
  } catch (error) {
    return { step: 'keys', status: 'failed', message: `could not delete the keys: ${messageOf(error)}`, details: [] };
  }
}

/** 8. Cordon's own directories, unless an earlier step failed (their records would be lost with them). */
async function purge(ctx: UninstallContext, dryRun: boolean, steps: readonly UninstallStep[], keysRemoved: boolean): Promise<UninstallStep> {
  const dirs = [...new Set([ctx.paths.configDir, ctx.paths.dataDir, ctx.paths.runtimeDir, compileCacheDir(ctx.env, ctx.home)])];
  const unsafe = dirs.find((d) => !safeToPurge(d, ctx.home));
  if (unsafe) return { step: 'purge', status: 'failed', message: `refusing to remove ${unsafe}: it is not a Cordon directory`, details: [] };
  const blocking = steps.filter((s) => s.status === 'failed' && ['daemon', 'agents', 'ca', 'keys'].includes(s.step));
  if (blocking.length > 0) {
    return { step: 'purge', status: 'failed', message: `kept ${ctx.paths.dataDir}: ${blocking.map((s) => s.step).join(', ')} failed, and the records needed to finish ${blocking.length === 1 ? 'it' : 'them'} are there`, details: [] };
  }
  const left = keysRemoved || !(await hasKeychainRecords(ctx.paths.dataDir)) ? [] : ['the keychain entries stay, and without the records in the data dir Cordon can no longer find them: run with --remove-keys to delete them first'];
  if (dryRun) return { step: 'purge', status: 'dry-run', message: `would remove ${dirs.join(', ')}`, details: left };
  const details: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    try {
      await rm(dir, { recursive: true, force: true });
      details.push(`removed ${dir}`);
    } catch (error) {
      return { step: 'purge', status: 'failed', message: `could not remove ${dir}: ${messageOf(error)}`, details };
    }
  }
  return { step: 'purge', status: left.length > 0 ? 'warning' : 'done', message: `removed Cordon's directories`, details: [...details, ...left] };
}

function enrolledIn(db: ReturnType<typeof openDatabase>): boolean {
  try {
    return isEnrolled(readSyncState(db));
  } catch {
    return false; // a database from before fleet sync
  }
}

/** Serials whose CA keys may be in the keychain, from ca.json (current and retired roots). */
async function caKeySerials(dataDir: string): Promise<string[]> {
  const raw = (await readJsonFile(join(caDir(dataDir), 'ca.json'))) as { current?: { serial?: unknown }; previous?: { serial?: unknown }[] } | null;
  const serials = [raw?.current?.serial, ...(Array.isArray(raw?.previous) ? raw.previous.map((p) => p?.serial) : [])];
  return serials.filter((s): s is string => typeof s === 'string' && /^[0-9a-f]{2,40}$/.test(s));
}

async function hasKeychainRecords(dataDir: string): Promise<boolean> {
  try {
    return (await readKeysFile(dataDir)).keys.length > 0 || (await caKeySerials(dataDir)).length > 0 || (await createCredentialStore(nullKeyStore, dataDir).list()).length > 0;
  } catch {
    return true;
  }
}

/** Where bin/cordon.js keeps Node's compile cache for Cordon. */
function compileCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  return env.CORDON_HOME ? join(env.CORDON_HOME, 'cache') : join(env.XDG_CACHE_HOME || join(env.HOME || home, '.cache'), 'cordon');
}

/** A directory purge may remove: never /, the home or one of its ancestors. */
function safeToPurge(dir: string, home: string): boolean {
  const full = resolve(dir);
  const homeFull = resolve(home);
  if (full === resolve(sep) || full === homeFull || `${homeFull}${sep}`.startsWith(`${full}${sep}`)) return false;
  return full.split(sep).length >= 3;
}

/** For reading credentials.json only: it never touches the keychain. */
const nullKeyStore: KeyStore = {
  service: 'none',
  get: async () => null,
  set: async () => {
    throw new Error('read-only');
  },
  delete: async () => false,
};

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

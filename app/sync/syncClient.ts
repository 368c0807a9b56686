/**
 * The daemon's fleet sync client: enrolls from managed settings when needed, then on every run
 * pulls the policy (ETag), uploads audit events from the outbox (at-least-once; the server
 * de-duplicates by event id), and the inventory (delta or snapshot). Failures back off
 * exponentially with jitter; everything that must survive a restart is in the daemon database.
 */
import type Database from 'better-sqlite3';
import type { Inventory } from '../api/inventory.ts';
import type { Settings } from '../api/settings.ts';
import type { DestinationContext, DeviceManagedState, DeviceState, EventBatchAck, FleetPolicy, InventoryAck, PolicyResponse, ProtectionState, ServerTime } from '../api/sync.ts';
import { REKEY_HEADER } from '../api/sync.ts';
import type { AgentKeyManager } from '../identity/agentKeys.ts';
import type { FetchLike } from '../identity/dpop/nonceRetry.ts';
import type { KeyStore } from '../identity/keyStore.ts';
import type { Signer } from '../identity/signer.ts';
import type { Logger } from '../util/log.ts';
import type { CordonPaths } from '../util/paths.ts';
import { backoffDelay, DEFAULT_BACKOFF, jitteredInterval, type BackoffOptions } from './backoff.ts';
import { checkServerUrl, enrollDevice, enrollSecretFrom } from './enroll.ts';
import { createHttpFetch } from './httpFetch.ts';
import { buildUpload, prepareInventory, type SentInventory } from './inventorySync.ts';
import { BUFFER_POLICY, createOutbox, DEFAULT_OUTBOX_LIMITS, type OutboxLimits, type OutboxStats } from './outbox.ts';
import { rekeyDevice } from './rekey.ts';
import { isEnrolled, loadToken, readSyncState, TOKEN_ACCOUNT, updateSyncState, type SyncStateRow } from './state.ts';
import { createFleetTransport, SyncCallError, type FleetTransport } from './transport.ts';
import { cordonVersion } from '../util/version.ts';

export type SyncSettings = Pick<Settings, 'fleetServerUrl' | 'enrollSecret' | 'enrollSecretFile' | 'syncIntervalSeconds' | 'mode'>;

export type SyncClientOptions = Readonly<{
  /** The daemon's database connection (migration 0003 applied). */
  db: Database.Database;
  paths: CordonPaths;
  /** Current settings (re-read on every run). */
  settings: () => SyncSettings;
  /** The daemon's current inventory. */
  inventory: () => Inventory | null;
  keyManager: AgentKeyManager;
  /** Where the access token is kept (the same OS keychain service as the keys). */
  keyStore: KeyStore;
  log: Logger;
  /** HTTP (default: node:http/https through the proxy from `env`). */
  fetch?: FetchLike;
  /** Proxy environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Protection state to report (default "unknown"). */
  protection?: () => ProtectionState;
  /**
   * Applies the fleet policy (null: none). Called at the first run after start and whenever the
   * policy changes (also when another process, e.g. `cordon sync now`, fetched it); the version
   * counts as applied, and is reported to the server, when this resolves.
   */
  onPolicy?: (policy: FleetPolicyText | null) => void | Promise<void>;
  limits?: OutboxLimits;
  backoff?: BackoffOptions;
  /** Most event batches per run before yielding (default 50). */
  maxBatchesPerRun?: number;
  /** Events per batch (default 500). */
  batchSize?: number;
  clock?: () => number;
  random?: () => number;
  agentVersion?: string;
  /** What IT manages on this device (reported with the inventory). */
  managedState?: () => DeviceManagedState;
}>;

export type FleetPolicyText = Pick<FleetPolicy, 'version' | 'text' | 'sha256'>;

export type SyncPhase = 'disabled' | 'not-enrolled' | 'idle' | 'syncing' | 'backing-off' | 'revoked';

export type SyncStatus = Readonly<{
  phase: SyncPhase;
  serverUrl: string | null;
  configuredServerUrl: string | null;
  deviceId: string | null;
  keyThumbprint: string | null;
  enrolledAt: string | null;
  outbox: OutboxStats;
  bufferPolicy: string;
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  consecutiveFailures: number;
  nextAttemptAt: string | null;
  policyVersion: number | null;
  policyAppliedVersion: number | null;
  inventorySentAt: string | null;
  proxy: string | null;
}>;

export type SyncRunResult = Readonly<{ ok: boolean; phase: SyncPhase; sent: number; duplicates: number; pending: number; error?: string }>;

export type SyncClient = Readonly<{
  start(): void;
  stop(): Promise<void>;
  /** Runs one sync now (after any run in progress), regardless of backoff. */
  syncNow(): Promise<SyncRunResult>;
  status(): SyncStatus;
  /** The fleet policy layer for loadEffectivePolicy({fleet}), or null. */
  fleetPolicy(): { source: string; text: string; version: number } | null;
  /**
   * What the rest of the fleet decided about host (for approval prompts), or null when not
   * enrolled, offline or slower than CONTEXT_TIMEOUT_MS. Answers are cached for 10 minutes.
   */
  destinationContext(host: string): Promise<DestinationContext | null>;
}>;

export const CONTEXT_TIMEOUT_MS = 1500;
const CONTEXT_CACHE_MS = 10 * 60_000;
const CONTEXT_CACHE_MAX = 500;

const TIME_SYNC_MS = 60 * 60_000;

export function createSyncClient(options: SyncClientOptions): SyncClient {
  const { db, log } = options;
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const httpFetch = options.fetch ? null : createHttpFetch({ env: options.env ?? process.env });
  const fetchFn: FetchLike = options.fetch ?? (httpFetch as FetchLike);
  const outbox = createOutbox(db, options.limits ?? DEFAULT_OUTBOX_LIMITS);
  const agentVersion = options.agentVersion ?? cordonVersion();
  let transport: FleetTransport | null = null;
  let lastTimeSync = 0;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<SyncRunResult> | null = null;
  let started = false;
  let phase: SyncPhase = 'idle';
  /** The old key of a re-key the server has not confirmed yet (kept in memory only, for retries). */
  let rekeyOldSigner: Signer | null = null;
  /** The policy ETag this process handed to onPolicy last. */
  let appliedEtag: string | null = null;
  const contexts = new Map<string, { at: number; value: Promise<DestinationContext | null> }>();

  const destinationContext = (host: string): Promise<DestinationContext | null> => {
    const settings = options.settings();
    const state = readSyncState(db);
    if (!settings.fleetServerUrl || !isEnrolled(state) || state.revoked_at !== null || state.server_url === null) return Promise.resolve(null);
    const key = host.toLowerCase();
    const cached = contexts.get(key);
    if (cached && clock() - cached.at < CONTEXT_CACHE_MS) return cached.value;
    const serverUrl = state.server_url;
    const value = (async (): Promise<DestinationContext | null> => {
      const token = await loadToken(options.keyStore);
      if (token === null) return null;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), CONTEXT_TIMEOUT_MS);
        timer.unref();
      });
      try {
        const result = await Promise.race([transportFor(serverUrl).call<DestinationContext>('GET', `/v1/context/destination?host=${encodeURIComponent(key)}`, token), timeout]);
        const body = result?.body;
        return body && Number.isSafeInteger(body.devicesAllowed) && Number.isSafeInteger(body.devicesDenied) ? body : null;
      } finally {
        clearTimeout(timer);
      }
    })().catch((error: unknown) => {
      log.debug('fleet context unavailable', { host: key, error });
      contexts.delete(key);
      return null;
    });
    if (contexts.size >= CONTEXT_CACHE_MAX) contexts.delete(contexts.keys().next().value ?? '');
    contexts.set(key, { at: clock(), value });
    return value;
  };

  const transportFor = (baseUrl: string): FleetTransport => {
    if (transport?.baseUrl !== baseUrl) {
      // Until the server confirms a re-key, the token is still bound to the old key.
      transport = createFleetTransport({ baseUrl, fetch: fetchFn, signer: () => (rekeyOldSigner ? Promise.resolve(rekeyOldSigner) : options.keyManager.deviceSigner()), clock });
      lastTimeSync = 0;
    }
    return transport;
  };

  const runOnce = async (): Promise<SyncRunResult> => {
    const now = clock();
    const settings = options.settings();
    if (!settings.fleetServerUrl) return finish({ ok: true, phase: 'disabled', sent: 0, duplicates: 0, pending: outbox.stats().pending });
    let state = readSyncState(db);
    const configured = checkServerUrl(settings.fleetServerUrl);
    let token = isEnrolled(state) && state.server_url === configured ? await loadToken(options.keyStore) : null;
    if (state.revoked_at !== null && state.server_url === configured) return finish({ ok: false, phase: 'revoked', sent: 0, duplicates: 0, pending: outbox.stats().pending, error: 'this device was revoked by the fleet server; enroll again with cordon enroll' });
    if (token === null) {
      const secret = await enrollSecretFrom(settings);
      if (secret === null) return finish({ ok: true, phase: 'not-enrolled', sent: 0, duplicates: 0, pending: outbox.stats().pending });
      const enrolled = await enrollDevice({ db, keyManager: options.keyManager, keyStore: options.keyStore, serverUrl: configured, secret, fetch: fetchFn, agentVersion });
      log.info('enrolled with the fleet server', { deviceId: enrolled.deviceId, server: enrolled.serverUrl });
      state = readSyncState(db);
      token = await loadToken(options.keyStore);
      if (token === null) throw new SyncCallError('unauthorized', 'the access token did not reach the keychain');
    }
    const t = transportFor(configured);
    updateSyncState(db, { last_attempt_at: new Date(now).toISOString() });
    let rekeyRequested = rekeyOldSigner !== null;
    const note = (headers: Headers): void => {
      if (headers.get(REKEY_HEADER) === 'requested') rekeyRequested = true;
    };

    if (now - lastTimeSync > TIME_SYNC_MS) {
      const started = clock();
      const time = await t.plain<ServerTime>('GET', '/v1/time');
      const ended = clock();
      if (time.body && Number.isFinite(time.body.epochMs)) t.setClockOffset(time.body.epochMs - (started + ended) / 2);
      lastTimeSync = now;
      updateSyncState(db, { clock_offset_ms: t.clockOffset() });
    }

    // Policy first: a new deny rule matters more than anything we upload.
    const policy = await t.call<PolicyResponse>('GET', '/v1/policy', token, { headers: state.policy_etag ? { 'if-none-match': state.policy_etag } : {} });
    note(policy.headers);
    if (policy.status === 200 && policy.body) storePolicy(policy.body, state);
    await reconcilePolicy();

    outbox.fill(clock());
    let sent = 0;
    let duplicates = 0;
    for (let i = 0; i < (options.maxBatchesPerRun ?? 50); i++) {
      const batch = outbox.nextBatch(options.batchSize ?? 500);
      if (!batch) break;
      try {
        const ack = await t.call<EventBatchAck>('POST', '/v1/events', token, { body: { after: batch.after, events: batch.events } });
        note(ack.headers);
        if (!ack.body || !Number.isSafeInteger(ack.body.cursor) || ack.body.cursor < batch.lastSeq) throw new SyncCallError('network', 'the server acknowledged less than it was sent');
        outbox.acknowledge(batch, ack.body.cursor);
        sent += ack.body.stored;
        duplicates += ack.body.duplicates;
      } catch (error) {
        if (error instanceof SyncCallError && error.kind === 'refused' && error.code === 'invalid_batch' && error.problems.some((p) => p.index !== undefined)) {
          // The server will never take these events as they are: set them aside (recorded), send the rest.
          const bad = [...new Set(error.problems.map((p) => p.index).filter((x): x is number => x !== undefined))].map((x) => batch.events[x]?.seq).filter((s): s is number => s !== undefined);
          log.warn('fleet server refused events; recorded as sync.dropped', { count: bad.length, problems: error.problems.slice(0, 5) });
          outbox.reject(bad, error.problems.slice(0, 3).map((p) => `${p.field} ${p.message}`).join('; '), clock());
          continue;
        }
        outbox.recordFailure(batch, clock() + backoffDelay(state.consecutive_failures + 1, backoff, random), error instanceof Error ? error.message : String(error));
        throw error;
      }
      if (outbox.stats().pending === 0) outbox.fill(clock());
    }

    const warning = await syncInventory(t, token, settings, note);
    if (rekeyRequested) {
      await rekeyDevice({
        transport: t, token, keyManager: options.keyManager, keyStore: options.keyStore, db, log, clock: () => clock() + t.clockOffset(),
        pendingOldSigner: rekeyOldSigner, onRotated: (old) => (rekeyOldSigner = old),
      });
      rekeyOldSigner = null;
    }
    const pending = outbox.stats().pending;
    return finish({ ok: true, phase: 'idle', sent, duplicates, pending }, warning);
  };

  const storePolicy = (response: PolicyResponse, state: SyncStateRow): void => {
    const policy = response.policy;
    updateSyncState(db, { policy_etag: response.etag, policy_version: policy?.version ?? null, policy_text: policy?.text ?? null, policy_sha256: policy?.sha256 ?? null });
    if (policy?.version !== state.policy_version) log.info('fleet policy received', { version: policy?.version ?? null });
  };

  /** Hands the stored policy to the daemon when it differs from what this process applied last. */
  const reconcilePolicy = async (): Promise<void> => {
    if (!options.onPolicy) return;
    const s = readSyncState(db);
    if (s.policy_etag === null || s.policy_etag === appliedEtag) return;
    const policy = s.policy_text !== null && s.policy_version !== null ? { version: s.policy_version, text: s.policy_text, sha256: s.policy_sha256 ?? '' } : null;
    try {
      await options.onPolicy(policy);
      appliedEtag = s.policy_etag;
      updateSyncState(db, { policy_applied_version: policy?.version ?? null });
    } catch (error) {
      log.error('applying the fleet policy failed', { version: policy?.version ?? null, error });
    }
  };

  /** Uploads the inventory when it (or the device state) changed; returns a warning when the server refused it. */
  const syncInventory = async (t: FleetTransport, token: string, settings: SyncSettings, note: (h: Headers) => void): Promise<string | null> => {
    const inventory = options.inventory();
    if (!inventory) return null;
    const state = readSyncState(db);
    const managed = options.managedState?.();
    const deviceState: DeviceState = { agentVersion, mode: settings.mode, protection: options.protection?.() ?? 'unknown', policyVersion: state.policy_applied_version, ...(managed ? { managed } : {}) };
    const prepared = prepareInventory(inventory);
    const stateText = JSON.stringify(deviceState);
    if (prepared.hash === state.inventory_hash && stateText === state.device_state) return null;
    const sent = parseSent(state);
    const post = (upload: unknown) => t.call<InventoryAck>('POST', '/v1/inventory', token, { body: upload, accept: [409, 422] });
    let result = await post(buildUpload(inventory, prepared, deviceState, sent));
    if (result.status === 409) result = await post(buildUpload(inventory, prepared, deviceState, null));
    note(result.headers);
    if (result.status === 422 || !result.body) {
      // Tried again at the next run; events and policy are unaffected.
      log.warn('the fleet server refused the inventory', { status: result.status, body: result.body });
      return `the fleet server refused the inventory (HTTP ${result.status})`;
    }
    updateSyncState(db, {
      inventory_hash: result.body.hash, device_state: stateText, inventory_sent_at: new Date(clock()).toISOString(),
      inventory_sent: JSON.stringify({ hash: result.body.hash, agents: prepared.agents, mcpServers: prepared.mcpServers }),
    });
    return null;
  };

  const finish = (result: SyncRunResult, warning: string | null = null): SyncRunResult => {
    phase = result.phase;
    if (result.ok && result.phase === 'idle') {
      updateSyncState(db, { consecutive_failures: 0, next_attempt_at: 0, last_success_at: new Date(clock()).toISOString(), last_error: warning });
    }
    return result;
  };

  const run = async (): Promise<SyncRunResult> => {
    try {
      return await runOnce();
    } catch (error) {
      const state = readSyncState(db);
      const failures = state.consecutive_failures + 1;
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof SyncCallError && error.kind === 'revoked') {
        updateSyncState(db, { revoked_at: new Date(clock()).toISOString(), last_error: message });
        log.error('the fleet server revoked this device', { deviceId: state.device_id });
        phase = 'revoked';
        return { ok: false, phase, sent: 0, duplicates: 0, pending: outbox.stats().pending, error: message };
      }
      if (error instanceof SyncCallError && error.kind === 'unauthorized' && error.code === 'invalid_token') {
        // The server does not know this token (or it is bound to another key): forget it, so the
        // next run enrolls again when IT provides a secret, or status says enrollment is needed.
        await options.keyStore.delete(TOKEN_ACCOUNT).catch(() => false);
        log.warn('the fleet server no longer accepts this device token; enrollment is needed', { error: message });
      }
      const next = clock() + backoffDelay(failures, backoff, random);
      updateSyncState(db, { consecutive_failures: failures, next_attempt_at: next, last_error: message.slice(0, 500) });
      log.warn('fleet sync failed; backing off', { failures, retryInMs: next - clock(), error: message });
      phase = 'backing-off';
      return { ok: false, phase, sent: 0, duplicates: 0, pending: outbox.stats().pending, error: message };
    }
  };

  const serialized = (): Promise<SyncRunResult> => {
    const previous = running ?? Promise.resolve(null);
    const next = previous.then(() => {
      phase = phase === 'revoked' ? phase : 'syncing';
      return run();
    });
    running = next;
    void next.finally(() => {
      if (running === next) running = null;
    });
    return next;
  };

  const schedule = (delayMs: number): void => {
    if (!started) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void serialized().then((result) => {
        if (!started) return;
        if (result.phase === 'backing-off') schedule(Math.max(0, readSyncState(db).next_attempt_at - clock()));
        else if (result.ok && result.pending > 0) schedule(0);
        else schedule(jitteredInterval(intervalMs(), random));
      });
    }, Math.max(0, delayMs));
    timer.unref?.();
  };

  const intervalMs = (): number => Math.max(1, options.settings().syncIntervalSeconds) * 1000;

  return {
    start() {
      if (started) return;
      started = true;
      // Resume the persisted backoff across restarts (bounded by the longest backoff).
      const wait = Math.min(Math.max(0, readSyncState(db).next_attempt_at - clock()), backoff.maxMs);
      schedule(wait);
    },
    async stop() {
      started = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => undefined);
      httpFetch?.close();
    },
    syncNow: () => serialized(),
    status() {
      const s = readSyncState(db);
      const configured = safeUrl(options.settings().fleetServerUrl);
      const enrolled = isEnrolled(s);
      const current: SyncPhase = !configured ? 'disabled' : s.revoked_at !== null ? 'revoked' : !enrolled ? 'not-enrolled' : phase;
      return {
        phase: current, serverUrl: s.server_url, configuredServerUrl: configured, deviceId: s.device_id, keyThumbprint: s.key_thumbprint,
        enrolledAt: s.enrolled_at, outbox: outbox.stats(), bufferPolicy: BUFFER_POLICY, lastAttemptAt: s.last_attempt_at, lastSuccessAt: s.last_success_at,
        lastError: s.last_error, consecutiveFailures: s.consecutive_failures, nextAttemptAt: s.next_attempt_at > 0 ? new Date(s.next_attempt_at).toISOString() : null,
        policyVersion: s.policy_version, policyAppliedVersion: s.policy_applied_version, inventorySentAt: s.inventory_sent_at,
        proxy: configured && httpFetch ? httpFetch.proxyFor(configured) : null,
      };
    },
    fleetPolicy() {
      const s = readSyncState(db);
      if (s.policy_text === null || s.policy_version === null) return null;
      return { source: `fleet:${s.server_url ?? 'unknown'}#v${s.policy_version}`, text: s.policy_text, version: s.policy_version };
    },
    destinationContext,
  };
}

function parseSent(state: SyncStateRow): SentInventory | null {
  if (state.inventory_sent === null || state.inventory_hash === null) return null;
  try {
    const sent = JSON.parse(state.inventory_sent) as SentInventory;
    return sent.hash === state.inventory_hash && Array.isArray(sent.agents) && Array.isArray(sent.mcpServers) ? sent : null;
  } catch {
    return null;
  }
}

function safeUrl(text: string): string | null {
  if (!text) return null;
  try {
    return checkServerUrl(text);
  } catch {
    return null;
  }
}

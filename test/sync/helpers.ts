/**
 * Shared setup for sync client tests: a temp CORDON_HOME with the daemon database, a real OS
 * keychain under a unique service, mutable settings and inventory, and a sync client wired to
 * them. Backoff is shortened so retries happen within a test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../../app/api/inventory.ts';
import { createAuditLog, type AuditLog } from '../../app/audit/auditLog.ts';
import { createAgentKeyManager, type AgentKeyManager } from '../../app/identity/agentKeys.ts';
import type { FetchLike } from '../../app/identity/dpop/nonceRetry.ts';
import { openDatabase, type Db } from '../../app/store/database.ts';
import type { OutboxLimits } from '../../app/sync/outbox.ts';
import { createSyncClient, type FleetPolicyText, type SyncClient, type SyncSettings } from '../../app/sync/syncClient.ts';
import { silentLogger } from '../../app/util/log.ts';
import { cordonPaths, type CordonPaths } from '../../app/util/paths.ts';
import { testKeyStore } from '../identity/helpers.ts';

export type Harness = {
  home: string;
  paths: CordonPaths;
  db: Db;
  audit: AuditLog;
  keyStore: ReturnType<typeof testKeyStore>;
  keyManager: AgentKeyManager;
  settings: { -readonly [K in keyof SyncSettings]: SyncSettings[K] };
  inventory: Inventory | null;
  policies: (FleetPolicyText | null)[];
  client: SyncClient;
  /** A new client on the same database (a restarted daemon). */
  restart(options?: ClientOptions): Promise<SyncClient>;
  cleanup(): Promise<void>;
};

export type ClientOptions = Readonly<{ fetch?: FetchLike; env?: NodeJS.ProcessEnv; limits?: OutboxLimits; batchSize?: number; maxBatchesPerRun?: number }>;

export async function syncHarness(serverUrl: string, options: ClientOptions = {}): Promise<Harness> {
  const home = mkdtempSync(join(tmpdir(), 'cordon-sync-'));
  const paths = cordonPaths({ CORDON_HOME: home });
  const db = openDatabase(paths.databaseFile);
  const audit = createAuditLog(db);
  const keyStore = testKeyStore();
  const keyManager = createAgentKeyManager({ keyStore, dataDir: paths.dataDir });
  const h: Harness = {
    home, paths, db, audit, keyStore, keyManager,
    settings: { fleetServerUrl: serverUrl, enrollSecret: '', enrollSecretFile: '', syncIntervalSeconds: 300, mode: 'monitor' },
    inventory: null,
    policies: [],
    client: null as unknown as SyncClient,
    async restart(next = options) {
      await h.client.stop();
      h.client = makeClient(next);
      return h.client;
    },
    async cleanup() {
      await h.client.stop();
      await keyManager.flush().catch(() => undefined);
      db.close();
      await keyStore.purge();
      rmSync(home, { recursive: true, force: true });
    },
  };
  const makeClient = (o: ClientOptions): SyncClient =>
    createSyncClient({
      db, paths, settings: () => h.settings, inventory: () => h.inventory, keyManager, keyStore, log: silentLogger,
      onPolicy: (p) => {
        h.policies.push(p);
      },
      backoff: { baseMs: 20, maxMs: 200 }, agentVersion: '0.1.0-test',
      ...(o.fetch ? { fetch: o.fetch } : {}), env: o.env ?? {}, ...(o.limits ? { limits: o.limits } : {}),
      ...(o.batchSize ? { batchSize: o.batchSize } : {}), ...(o.maxBatchesPerRun ? { maxBatchesPerRun: o.maxBatchesPerRun } : {}),
    });
  h.client = makeClient(options);
  return h;
}

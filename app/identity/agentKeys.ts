/**
 * The key manager: one DPoP key pair per agent identity plus the device key, created on first
 * use, private halves in the KeyStore (OS keychain) and in memory while this process runs, public
 * metadata in keys.json. The CLI and the daemon both construct it; keys.json is locked per change.
 */
import { randomBytes } from 'node:crypto';
import { CoreError } from '../api/errors.ts';
import { agentIdentity, agentIdentityId, currentUser, selectorMatches, type AgentIdentity, type AgentSelector } from './agentIdentity.ts';
import type { SigningAlgorithm } from './jws.ts';
import type { KeyStore } from './keyStore.ts';
import { keychainAccount, keysFilePath, readKeysFile, writeKeysFile, type KeyPurpose, type KeyRecord } from './keyRecords.ts';
import { withFileLock } from './jsonFile.ts';
import { createSigner, generatePrivateKey, parsePrivateKey, serializePrivateKey, type Signer } from './signer.ts';

export const DEVICE_OWNER_ID = 'device';
const DEFAULT_LAST_USED_INTERVAL_MS = 60_000;

export type AgentKeyManagerOptions = Readonly<{
  keyStore: KeyStore;
  /** paths.dataDir: where keys.json lives. */
  dataDir: string;
  /** OS user for identities made from a bare kind; default the current user. */
  user?: string;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  /** lastUsed is written at most this often per key (default 60 s), never once per signature. */
  lastUsedWriteIntervalMs?: number;
  /** Receives failures of background lastUsed writes (default: ignored). */
  onBackgroundError?: (error: unknown) => void;
}>;

/** A loaded key: signs in memory, and records its use (throttled) in keys.json. */
export type AgentSigner = Signer & Readonly<{ keyId: string; ownerId: string }>;

export type RotatedKey = Readonly<{ ownerId: string; oldThumbprint: string; newThumbprint: string; alg: SigningAlgorithm }>;

export type AgentKeyManager = Readonly<{
  /** The identity's signer, creating its key on first use (alg only matters then; default ES256). */
  signerFor(identity: AgentIdentity, options?: Readonly<{ alg?: SigningAlgorithm }>): Promise<AgentSigner>;
  /**
   * The signer `--agent ID` names: an existing identity id, or the kind-only identity of a bare
   * kind (created on first use).
   */
  signerForSelector(selector: AgentSelector, options?: Readonly<{ alg?: SigningAlgorithm }>): Promise<AgentSigner>;
  /** The device key the fleet server knows this machine by (created on first use). */
  deviceSigner(options?: Readonly<{ alg?: SigningAlgorithm }>): Promise<AgentSigner>;
  /** Public metadata of every key (lastUsed includes uses not yet written). */
  list(): Promise<readonly KeyRecord[]>;
  /** New key pairs for the selected agents (all agent keys when none is given; the device key only with device:true). */
  rotate(options?: Readonly<{ agent?: AgentSelector; device?: boolean; alg?: SigningAlgorithm }>): Promise<readonly RotatedKey[]>;
  /** Deletes the keys the predicate selects, keychain entries first. Returns what was removed. */
  removeWhere(predicate: (record: KeyRecord) => boolean): Promise<readonly KeyRecord[]>;
  /** Writes pending lastUsed times now (call on shutdown). */
  flush(): Promise<void>;
}>;

type Loaded = { signer: AgentSigner; lastUsed: number; persistedLastUsed: number };

export function createAgentKeyManager(options: AgentKeyManagerOptions): AgentKeyManager {
  const { keyStore, dataDir } = options;
  const user = options.user ?? currentUser();
  const clock = options.clock ?? Date.now;
  const interval = options.lastUsedWriteIntervalMs ?? DEFAULT_LAST_USED_INTERVAL_MS;
  const onBackgroundError = options.onBackgroundError ?? (() => undefined);
  const filePath = keysFilePath(dataDir);
  const loaded = new Map<string, Loaded>();
  let queue: Promise<unknown> = Promise.resolve();
  let flushScheduled = false;

  /** In-process serialization plus the cross-process file lock around every keys.json change. */
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(() => withFileLock(filePath, fn));
    queue = run.catch(() => undefined);
    return run;
  };

  const wrap = (record: KeyRecord, signer: Signer): Loaded => {
    const state: Loaded = {
      lastUsed: record.lastUsed ? Date.parse(record.lastUsed) : 0,
      persistedLastUsed: record.lastUsed ? Date.parse(record.lastUsed) : 0,
      signer: {
        ...signer,
        keyId: record.keyId,
        ownerId: record.ownerId,
        sign: (input: Buffer) => {
          const out = signer.sign(input);
          const now = clock();
          state.lastUsed = now;
          if (now - state.persistedLastUsed >= interval) scheduleFlush();
          return out;
        },
      },
    };
    return state;
  };

  const load = async (record: KeyRecord): Promise<AgentSigner> => {
    const cached = loaded.get(record.keyId);
    if (cached && cached.signer.jkt === record.thumbprint) return cached.signer;
    const stored = await keyStore.get(keychainAccount(record));
    if (stored === null) {
      throw new CoreError('ERR_KEY_NOT_FOUND', `the private key of '${record.ownerId}' is missing from the keychain; run 'cordon keys rotate --agent ${record.ownerId}'`);
    }
    const { privateKey, alg } = parsePrivateKey(stored);
    const signer = createSigner(privateKey, alg);
    if (signer.jkt !== record.thumbprint || alg !== record.alg) {
      throw new CoreError('ERR_KEY_CORRUPT', `the keychain key of '${record.ownerId}' does not match keys.json (thumbprint differs)`);
    }
    const state = wrap(record, signer);
    loaded.set(record.keyId, state);
    return state.signer;
  };

  /** Generates a key, stores its private half, and returns its record (not yet in keys.json). */
  const mint = async (purpose: KeyPurpose, ownerId: string, agent: AgentIdentity | null, alg: SigningAlgorithm): Promise<{ record: KeyRecord; signer: Signer }> => {
    const privateKey = generatePrivateKey(alg);
    const signer = createSigner(privateKey, alg);
    const record: KeyRecord = {
      keyId: randomBytes(12).toString('base64url'),
      purpose,
      ownerId,
      agent,
      thumbprint: signer.jkt,
      alg,
      publicJwk: signer.publicJwk,
      created: new Date(clock()).toISOString(),
      lastUsed: null,
    };
    await keyStore.set(keychainAccount(record), serializePrivateKey(privateKey, alg));
    return { record, signer };
  };

  const getOrCreate = async (purpose: KeyPurpose, ownerId: string, agent: AgentIdentity | null, alg: SigningAlgorithm): Promise<AgentSigner> => {
    const existing = (await readKeysFile(dataDir)).keys.find((r) => r.purpose === purpose && r.ownerId === ownerId);
    if (existing) return load(existing);
    return exclusive(async () => {
      const file = await readKeysFile(dataDir);
      const again = file.keys.find((r) => r.purpose === purpose && r.ownerId === ownerId);
      if (again) return load(again);
      const { record, signer } = await mint(purpose, ownerId, agent, alg);
      try {
        await writeKeysFile(dataDir, [...file.keys, record]);
      } catch (error) {
        await keyStore.delete(keychainAccount(record)).catch(() => false);
        throw error;
      }
      const state = wrap(record, signer);
      loaded.set(record.keyId, state);
      return state.signer;
    });
  };

  const hasPending = (): boolean => [...loaded.values()].some((s) => s.lastUsed > s.persistedLastUsed);

  /** Writes pending lastUsed times. Flushes run one after another, so awaiting one also awaits a background one in progress. */
  let flushing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    const run = flushing.then(async () => {
      if (!hasPending()) return; // nothing to write: do not even take the lock
      await exclusive(async () => {
        const written = new Map([...loaded.values()].filter((s) => s.lastUsed > s.persistedLastUsed).map((s) => [s.signer.keyId, s] as const));
        const times = new Map([...written].map(([id, s]) => [id, s.lastUsed]));
        const file = await readKeysFile(dataDir);
        const keys = file.keys.map((r) => {
          const t = times.get(r.keyId);
          return t === undefined ? r : { ...r, lastUsed: new Date(t).toISOString() };
        });
        await writeKeysFile(dataDir, keys);
        for (const [id, s] of written) s.persistedLastUsed = Math.max(s.persistedLastUsed, times.get(id) ?? 0);
      });
    });
    flushing = run.catch(() => undefined);
    return run;
  };

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      flush().catch(onBackgroundError);
    }).unref();
  }

  const withLastUsed = (record: KeyRecord): KeyRecord => {
    const s = loaded.get(record.keyId);
    if (!s || s.lastUsed <= (record.lastUsed ? Date.parse(record.lastUsed) : 0)) return record;
    return { ...record, lastUsed: new Date(s.lastUsed).toISOString() };
  };

  const signerFor = (identity: AgentIdentity, opts: Readonly<{ alg?: SigningAlgorithm }> = {}): Promise<AgentSigner> =>
    getOrCreate('dpop', agentIdentityId(identity), identity, opts.alg ?? 'ES256');

  return {
    signerFor,
    async signerForSelector(selector, opts = {}) {
      if (!selector.isExactId && selector.identity) return signerFor(selector.identity, opts);
      const record = (await readKeysFile(dataDir)).keys.find((r) => r.purpose === 'dpop' && r.ownerId === selector.text);
      if (record) return load(record);
      const kindOnly = agentIdentity(selector.kind, { user });
      if (agentIdentityId(kindOnly) === selector.text) return signerFor(kindOnly, opts);
      throw new CoreError('ERR_KEY_NOT_FOUND', `no key for agent '${selector.text}'; 'cordon keys list' shows the ids`);
    },
    deviceSigner(opts = {}) {
      return getOrCreate('device', DEVICE_OWNER_ID, null, opts.alg ?? 'ES256');
    },
    async list() {
      return (await readKeysFile(dataDir)).keys.map(withLastUsed);
    },
    rotate(opts = {}) {
      return exclusive(async () => {
        const file = await readKeysFile(dataDir);
        const selected = file.keys.filter((r) => {
          if (r.purpose === 'device') return opts.device === true;
          if (opts.device === true && !opts.agent) return false;
          return !opts.agent || (r.agent !== null && selectorMatches(opts.agent, r.agent, user));
        });
        if (selected.length === 0 && (opts.agent || opts.device)) {
          throw new CoreError('ERR_KEY_NOT_FOUND', opts.agent ? `no key for agent '${opts.agent.text}'` : 'there is no device key yet');
        }
        const replacements = new Map<string, KeyRecord>();
        const rotated: RotatedKey[] = [];
        try {
          for (const old of selected) {
            const { record } = await mint(old.purpose, old.ownerId, old.agent, opts.alg ?? old.alg);
            replacements.set(old.keyId, record);
            rotated.push({ ownerId: old.ownerId, oldThumbprint: old.thumbprint, newThumbprint: record.thumbprint, alg: record.alg });
          }
          await writeKeysFile(dataDir, file.keys.map((r) => replacements.get(r.keyId) ?? r));
        } catch (error) {
          for (const record of replacements.values()) await keyStore.delete(keychainAccount(record)).catch(() => false);
          throw error;
        }
        for (const old of selected) {
          loaded.delete(old.keyId);
          await keyStore.delete(keychainAccount(old)).catch(onBackgroundError);
        }
        return rotated;
      });
    },
    removeWhere(predicate) {
      return exclusive(async () => {
        const file = await readKeysFile(dataDir);
        const doomed = file.keys.filter(predicate);
        if (doomed.length === 0) return [];
        for (const record of doomed) {
          await keyStore.delete(keychainAccount(record));
          loaded.delete(record.keyId);
        }
        const gone = new Set(doomed.map((r) => r.keyId));
        await writeKeysFile(dataDir, file.keys.filter((r) => !gone.has(r.keyId)));
        return doomed;
      });
    },
    flush,
  };
}

/**
 * Removes the DPoP keys of an uninstalled agent: every identity with that kind and executable
 * (all OS users and process instances). The daemon calls this when discovery reports
 * agent.removed, passing the removed AgentRecord. Kind-only identities (made by `--agent KIND`)
 * are kept: another install of the same agent may still use them.
 */
export async function removeAgentKeys(
  manager: AgentKeyManager,
  agent: Readonly<{ kind: string; path: string }>,
): Promise<readonly KeyRecord[]> {
  return manager.removeWhere((r) => r.purpose === 'dpop' && r.agent !== null && r.agent.kind === agent.kind && r.agent.executable === agent.path);
}


/**
 * Enrollment of this device with a fleet server: the device key (OS keychain) proves itself with
 * a DPoP proof, the enroll secret goes in the body once, and the returned DPoP-bound access token
 * is stored in the keychain; the device id and server go in sync_state. Used by `cordon enroll`
 * and by the sync client when IT provides the secret through managed settings.
 */
import { readFile } from 'node:fs/promises';
import { hostname, platform, userInfo } from 'node:os';
import type Database from 'better-sqlite3';
import { CoreError } from '../api/errors.ts';
import type { DeviceInfo, EnrollResponse } from '../api/sync.ts';
import type { AgentKeyManager } from '../identity/agentKeys.ts';
import type { FetchLike } from '../identity/dpop/nonceRetry.ts';
import type { KeyStore } from '../identity/keyStore.ts';
import { createOutbox } from './outbox.ts';
import { saveToken, updateSyncState } from './state.ts';
import { createFleetTransport, SyncCallError } from './transport.ts';

export type EnrollOptions = Readonly<{
  db: Database.Database;
  keyManager: AgentKeyManager;
  keyStore: KeyStore;
  serverUrl: string;
  secret: string;
  fetch: FetchLike;
  agentVersion: string;
  /** Override what the device reports about itself (tests). */
  device?: Partial<DeviceInfo>;
}>;

export type Enrollment = Readonly<{ deviceId: string; serverUrl: string; keyThumbprint: string }>;

const MAX_SECRET_FILE = 4096;

export async function enrollDevice(options: EnrollOptions): Promise<Enrollment> {
  const serverUrl = checkServerUrl(options.serverUrl);
  const secret = options.secret.trim();
  if (secret === '') throw new CoreError('ERR_BAD_REQUEST', 'the enroll secret is empty');
  const signer = await options.keyManager.deviceSigner();
  const transport = createFleetTransport({ baseUrl: serverUrl, fetch: options.fetch, signer: async () => signer });
  const device: DeviceInfo = { hostname: hostname(), platform: platform(), user: safeUser(), agentVersion: options.agentVersion, ...options.device };
  let response: EnrollResponse | null;
  try {
    response = (await transport.enroll<EnrollResponse>({ secret, device }, signer)).body;
  } catch (error) {
    if (error instanceof SyncCallError && error.code === 'enroll_refused') throw new CoreError('ERR_BAD_REQUEST', 'the fleet server refused the enroll secret (unknown, revoked, expired or used up)', { cause: error });
    if (error instanceof SyncCallError) throw new CoreError(error.kind === 'network' ? 'ERR_INTERNAL' : 'ERR_BAD_REQUEST', `enrollment failed: ${error.message}`, { cause: error });
    throw error;
  }
  if (!response || typeof response.deviceId !== 'string' || typeof response.accessToken !== 'string' || response.keyThumbprint !== signer.jkt) {
    throw new CoreError('ERR_INTERNAL', 'the fleet server sent an enrollment response this client does not understand');
  }
  await saveToken(options.keyStore, response.accessToken);
  options.db.transaction(() => {
    // A new enrollment uploads the audit trail as it is now (bounded by the outbox policy).
    createOutbox(options.db).reset(0);
    updateSyncState(options.db, {
      server_url: serverUrl, device_id: response.deviceId, key_thumbprint: signer.jkt, enrolled_at: new Date().toISOString(), revoked_at: null,
      consecutive_failures: 0, next_attempt_at: 0, last_error: null, inventory_hash: null, inventory_sent: null, inventory_sent_at: null,
      policy_etag: null, policy_version: null, policy_text: null, policy_sha256: null, policy_applied_version: null,
    });
  })();
  return { deviceId: response.deviceId, serverUrl, keyThumbprint: signer.jkt };
}

/** https:// required; http:// only for a loopback server (development, tests). */
export function checkServerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CoreError('ERR_BAD_REQUEST', `'${text.slice(0, 100)}' is not a URL`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new CoreError('ERR_BAD_REQUEST', 'the fleet server URL must be https:// (http:// only for localhost)');
  if (url.username || url.password) throw new CoreError('ERR_BAD_REQUEST', 'the fleet server URL must not contain credentials');
  if (url.search || url.hash) throw new CoreError('ERR_BAD_REQUEST', 'the fleet server URL must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}

/** The enroll secret from settings: the inline value, else the (root-owned) secret file. */
export async function enrollSecretFrom(settings: Readonly<{ enrollSecret: string; enrollSecretFile: string }>): Promise<string | null> {
  if (settings.enrollSecret.trim() !== '') return settings.enrollSecret.trim();
  if (settings.enrollSecretFile === '') return null;
  try {
    const text = await readFile(settings.enrollSecretFile, 'utf8');
    if (text.length > MAX_SECRET_FILE) throw new CoreError('ERR_SETTINGS_INVALID', `${settings.enrollSecretFile} is too large to be an enroll secret`);
    return text.trim() || null;
  } catch (error) {
    if (error instanceof CoreError) throw error;
    throw new CoreError('ERR_SETTINGS_INVALID', `cannot read the enroll secret file ${settings.enrollSecretFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Re-keying on the console's request: the device rotates its key in the keychain, then asks the
 * server (proof from the old key, with the request body carrying a proof from the new key) to
 * bind the device to the new key and issue a new token. The old signer stays in memory for the
 * retries; if the process dies in between, the device must enroll again.
 */
import type Database from 'better-sqlite3';
import type { RekeyResponse } from '../api/sync.ts';
import type { AgentKeyManager } from '../identity/agentKeys.ts';
import { createDpopProof } from '../identity/dpop/proof.ts';
import type { KeyStore } from '../identity/keyStore.ts';
import type { Signer } from '../identity/signer.ts';
import type { Logger } from '../util/log.ts';
import { saveToken, updateSyncState } from './state.ts';
import { SyncCallError, type FleetTransport } from './transport.ts';

export type RekeyOptions = Readonly<{
  transport: FleetTransport;
  token: string;
  keyManager: AgentKeyManager;
  keyStore: KeyStore;
  db: Database.Database;
  log: Logger;
  clock: () => number;
  /** The old key of a rotation whose server confirmation failed earlier in this process (no second rotation). */
  pendingOldSigner: Signer | null;
  /** Called right after the local rotation, with the old key to keep for retries. */
  onRotated(oldSigner: Signer): void;
}>;

const ATTEMPTS = 3;

/** Rotates the device key and re-binds the device; returns the new access token. */
export async function rekeyDevice(options: RekeyOptions): Promise<string> {
  const { transport, token, keyManager, log } = options;
  let oldSigner = options.pendingOldSigner;
  if (oldSigner === null) {
    oldSigner = await keyManager.deviceSigner();
    await keyManager.rotate({ device: true });
    options.onRotated(oldSigner);
  }
  const newSigner = await keyManager.deviceSigner();
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const proof = createDpopProof(newSigner, { htm: 'POST', htu: `${transport.baseUrl}/v1/rekey`, accessToken: token, now: options.clock() });
    try {
      const result = await transport.call<RekeyResponse>('POST', '/v1/rekey', token, { signer: oldSigner, body: { proof } });
      const body = result.body;
      if (!body || typeof body.accessToken !== 'string' || body.keyThumbprint !== newSigner.jkt) throw new SyncCallError('refused', 'the server answered the re-key with an unexpected body');
      await saveToken(options.keyStore, body.accessToken);
      updateSyncState(options.db, { key_thumbprint: newSigner.jkt });
      transport.resetNonce();
      log.info('device re-keyed', { keyThumbprint: newSigner.jkt });
      return body.accessToken;
    } catch (error) {
      lastError = error;
      if (error instanceof SyncCallError && error.kind !== 'network') break;
    }
  }
  log.error('re-key failed after rotating the device key; the device must enroll again', { error: lastError });
  updateSyncState(options.db, { last_error: 're-key failed after the device key was rotated; run cordon enroll again' });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

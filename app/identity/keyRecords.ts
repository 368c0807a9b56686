/**
 * keys.json: the public half of every identity key (id, owner, thumbprint, algorithm, public JWK,
 * dates) in the data dir. The private halves are in the keychain under "dpop:<keyId>" and
 * "device:<keyId>"; this file never holds key material beyond public JWKs.
 */
import { join } from 'node:path';
import { CoreError } from '../api/errors.ts';
import type { AgentIdentity } from './agentIdentity.ts';
import type { SigningAlgorithm } from './jws.ts';
import type { PublicJwk } from './jwk.ts';
import { readJsonFile, writeJsonFile } from './jsonFile.ts';

export const KEYS_FILE_NAME = 'keys.json';
const FILE_VERSION = 1;

export type KeyPurpose = 'dpop' | 'device';

/** One key's public metadata as stored in keys.json. */
export type KeyRecord = Readonly<{
  keyId: string;
  purpose: KeyPurpose;
  /** The identity id (agentIdentityId) for a DPoP key; "device" for the device key. */
  ownerId: string;
  /** Null for the device key. */
  agent: AgentIdentity | null;
  /** RFC 7638 thumbprint of publicJwk: the cnf.jkt of tokens bound to this key. */
  thumbprint: string;
  alg: SigningAlgorithm;
  publicJwk: PublicJwk;
  /** ISO 8601. */
  created: string;
  /** ISO 8601, updated at most once per write interval; null before the first signature. */
  lastUsed: string | null;
}>;

export type KeysFile = Readonly<{ version: typeof FILE_VERSION; keys: readonly KeyRecord[] }>;

export function keysFilePath(dataDir: string): string {
  return join(dataDir, KEYS_FILE_NAME);
}

/** The keychain account holding a key's private JWK. */
export function keychainAccount(record: Pick<KeyRecord, 'purpose' | 'keyId'>): string {
  return `${record.purpose}:${record.keyId}`;
}

export async function readKeysFile(dataDir: string): Promise<KeysFile> {
  const path = keysFilePath(dataDir);
  const raw = await readJsonFile(path);
  if (raw === null) return { version: FILE_VERSION, keys: [] };
  if (!isObject(raw) || raw.version !== FILE_VERSION || !Array.isArray(raw.keys)) {
    throw new CoreError('ERR_STORE', `${path} has an unknown format (expected version ${FILE_VERSION})`);
  }
  const keys: KeyRecord[] = [];
  for (const item of raw.keys) {
    if (!isKeyRecord(item)) throw new CoreError('ERR_STORE', `${path} holds a malformed key record`);
    keys.push(item);
  }
  return { version: FILE_VERSION, keys };
}

export async function writeKeysFile(dataDir: string, keys: readonly KeyRecord[]): Promise<void> {
  const file: KeysFile = { version: FILE_VERSION, keys };
  await writeJsonFile(keysFilePath(dataDir), file);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isKeyRecord(value: unknown): value is KeyRecord {
  if (!isObject(value)) return false;
  const v = value;
  const strings = ['keyId', 'ownerId', 'thumbprint', 'created'] as const;
  if (!strings.every((k) => typeof v[k] === 'string')) return false;
  if (v.purpose !== 'dpop' && v.purpose !== 'device') return false;
  if (v.alg !== 'ES256' && v.alg !== 'EdDSA') return false;
  if (v.lastUsed !== null && typeof v.lastUsed !== 'string') return false;
  if (!isObject(v.publicJwk) || typeof v.publicJwk.kty !== 'string') return false;
  if (v.agent !== null) {
    if (!isObject(v.agent)) return false;
    const a = v.agent;
    if (typeof a.kind !== 'string' || typeof a.user !== 'string') return false;
    if (a.executable !== null && typeof a.executable !== 'string') return false;
    if (a.instance !== null && typeof a.instance !== 'string') return false;
  }
  return /^[A-Za-z0-9_-]{1,64}$/.test(v.keyId as string);
}

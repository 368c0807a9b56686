/**
 * Upstream credentials the proxy holds for agents, so no agent config needs the secret: the token
 * lives in the keychain ("credential:<name>"), and credentials.json in the data dir lists each
 * name with the hosts it may be sent to (public metadata only). A credential is only ever attached
 * for one of its hosts, whatever a policy rule names. A local credential (use "mcp-env": a secret
 * `cordon agents protect --mcp` moved out of an MCP server's env) has no hosts, so it is never
 * sent anywhere: only `cordon mcp wrap --server <its server>` reads it, into that server's env.
 */
import { join } from 'node:path';
import { CoreError } from '../api/errors.ts';
import { readJsonFile, withFileLock, writeJsonFile } from './jsonFile.ts';
import type { KeyStore } from './keyStore.ts';

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const HOST_RE = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export type CredentialRecord = Readonly<{
  name: string;
  hosts: readonly string[];
  created: string;
  /** "mcp-env": a local secret for one MCP server's environment (no hosts). */
  use?: 'mcp-env';
  /** The gateway server name a local credential belongs to. */
  server?: string;
}>;

/** Longest local secret (a PEM key fits). */
const MAX_LOCAL_BYTES = 64 * 1024;

export function isCredentialName(name: string): boolean {
  return NAME_RE.test(name);
}

export type CredentialStore = Readonly<{
  list(): Promise<CredentialRecord[]>;
  set(name: string, token: string, hosts: readonly string[]): Promise<CredentialRecord>;
  remove(name: string): Promise<boolean>;
  /** The token for `name` if `host` is one of its hosts; null otherwise (unknown name or wrong host). */
  tokenFor(name: string, host: string): Promise<string | null>;
  /** Stores a local secret for one MCP server's environment (sent to no host). */
  setLocal(name: string, secret: string, server: string): Promise<CredentialRecord>;
  /** A local secret, only for the server it was stored for; null when unknown or not local. */
  localSecret(name: string, server: string): Promise<string | null>;
}>;

export function createCredentialStore(keyStore: KeyStore, dataDir: string): CredentialStore {
  const file = join(dataDir, 'credentials.json');
  const read = async (): Promise<CredentialRecord[]> => {
    const raw = (await readJsonFile(file)) as { credentials?: unknown } | null;
    const list = Array.isArray(raw?.credentials) ? raw.credentials : [];
    return list.filter(isRecord);
  };
  return {
    list: read,
    async set(name, token, hosts) {
      if (!NAME_RE.test(name)) throw new CoreError('ERR_BAD_REQUEST', `credential name must match ${NAME_RE}`);
      const normalized = hosts.map((h) => h.trim().toLowerCase());
      if (normalized.length === 0) throw new CoreError('ERR_BAD_REQUEST', 'a credential needs at least one --host it may be sent to');
      const bad = normalized.find((h) => !HOST_RE.test(h));
      if (bad !== undefined) throw new CoreError('ERR_BAD_REQUEST', `invalid host '${bad}'`);
      if (token.length === 0 || token.length > 16_384 || /[\r\n]/.test(token)) throw new CoreError('ERR_BAD_REQUEST', 'the token must be one non-empty line');
      return withFileLock(`${file}.lock`, async () => {
        await keyStore.set(`credential:${name}`, token);
        const record: CredentialRecord = { name, hosts: normalized, created: new Date().toISOString() };
        const others = (await read()).filter((c) => c.name !== name);
        await writeJsonFile(file, { version: 1, credentials: [...others, record] });
        return record;
      });
    },
    async remove(name) {
      return withFileLock(`${file}.lock`, async () => {
        const all = await read();
        const removed = await keyStore.delete(`credential:${name}`).catch(() => false);
        await writeJsonFile(file, { version: 1, credentials: all.filter((c) => c.name !== name) });
        return removed || all.some((c) => c.name === name);
      });
    },
    async setLocal(name, secret, server) {
      if (!NAME_RE.test(name)) throw new CoreError('ERR_BAD_REQUEST', `credential name must match ${NAME_RE}`);
      if (secret.length === 0 || Buffer.byteLength(secret) > MAX_LOCAL_BYTES || secret.includes('\0')) throw new CoreError('ERR_BAD_REQUEST', 'a local secret is a non-empty string of at most 64 KiB');
      return withFileLock(`${file}.lock`, async () => {
        await keyStore.set(`credential:${name}`, secret);
        const record: CredentialRecord = { name, hosts: [], created: new Date().toISOString(), use: 'mcp-env', server };
        const others = (await read()).filter((c) => c.name !== name);
        await writeJsonFile(file, { version: 1, credentials: [...others, record] });
        return record;
      });
    },
    async localSecret(name, server) {
      const record = (await read()).find((c) => c.name === name);
      if (!record || record.use !== 'mcp-env' || record.server !== server) return null;
      return keyStore.get(`credential:${name}`);
    },
    async tokenFor(name, host) {
      const record = (await read()).find((c) => c.name === name);
      if (!record || record.use !== undefined || !record.hosts.some((h) => hostMatches(h, host.toLowerCase()))) return null;
      return keyStore.get(`credential:${name}`);
    },
  };
}

function hostMatches(pattern: string, host: string): boolean {
  return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern;
}

function isRecord(value: unknown): value is CredentialRecord {
  const v = value as CredentialRecord | null;
  return !!v && typeof v.name === 'string' && Array.isArray(v.hosts) && v.hosts.every((h) => typeof h === 'string') && typeof v.created === 'string';
}

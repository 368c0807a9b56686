/**
 * Shared setup for fleet server tests: a server on a fresh SQLite file or PostgreSQL database
 * (port 0), an admin token, an enroll secret, and an enrolled test device whose key the test
 * holds (so it can craft any proof, valid or hostile). Raw HTTP goes through node:http so headers
 * can be doubled exactly as an attacker would send them.
 */
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnrollResponse } from '../../app/api/sync.ts';
import { fetchWithDpop } from '../../app/identity/dpop/nonceRetry.ts';
import { accessTokenHash } from '../../app/identity/dpop/proof.ts';
import { createSigner, type Signer } from '../../app/identity/signer.ts';
import { silentLogger } from '../../app/util/log.ts';
import { createFleetServer, type FleetServer } from '../../server/app.ts';
import { openFleetStore, type DatabaseLocation, type FleetStore } from '../../server/store/fleetStore.ts';
import type { TrustedProxies } from '../../server/http/clientAddress.ts';
import { craft, craftKey, type CraftKey } from '../identity/dpopCraft.ts';
import { postgresSkipReason, startPostgres, type PostgresHandle } from '../helpers/postgres.ts';

export type Backend = 'sqlite' | 'postgres';

export type TestServer = Readonly<{
  url: string;
  store: FleetStore;
  fleet: FleetServer;
  adminToken: string;
  enrollSecret: string;
  close(): Promise<void>;
}>;

/** A fresh database: a SQLite file in a temp dir, or a new database on the given cluster. */
export async function freshLocation(backend: Backend, createPgDatabase?: () => Promise<string>): Promise<{ location: DatabaseLocation; cleanup(): void }> {
  if (backend === 'postgres') {
    if (!createPgDatabase) throw new Error('postgres backend needs a cluster');
    return { location: { kind: 'postgres', url: await createPgDatabase() }, cleanup: () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'cordon-fleet-'));
  return { location: { kind: 'sqlite', file: join(dir, 'fleet.db') }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startTestServer(
  location: DatabaseLocation,
  options: Readonly<{ clock?: () => number; cleanup?: () => void; consoleDir?: string; trustedProxies?: TrustedProxies }> = {},
): Promise<TestServer> {
  const store = await openFleetStore(location);
  const fleet = createFleetServer({
    store,
    log: silentLogger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
    ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
  });
  const url = await fleet.listen(0);
  const { token: adminToken } = await store.credentials.createAdminToken('test', Date.now());
  const { secret: enrollSecret } = await store.credentials.createEnrollSecret({ label: 'test' }, Date.now());
  return {
    url, store, fleet, adminToken, enrollSecret,
    async close() {
      await fleet.close();
      await store.close();
      options.cleanup?.();
    },
  };
}

export type TestDevice = Readonly<{
  key: CraftKey;
  signer: Signer;
  deviceId: string;
  token: string;
  /** The newest DPoP-Nonce the server gave this device. */
  nonce(): string | undefined;
  setNonce(nonce: string | undefined): void;
  /** A valid proof for method + url (override any claim or header member). */
  proof(method: string, url: string, claims?: Record<string, unknown>, header?: Record<string, unknown>): string;
  /** A fully valid authenticated call (nonce retry included). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}>;

export const DEVICE_INFO = { hostname: 'laptop-1.example.com', platform: 'linux', user: 'dev', agentVersion: '0.1.0' };

export async function enrollTestDevice(server: TestServer, info: Record<string, string> = DEVICE_INFO): Promise<TestDevice> {
  const key = craftKey('ES256');
  const signer = createSigner(key.privateKey, 'ES256');
  const { response, nonce: first } = await fetchWithDpop(fetch, `${server.url}/v1/enroll`, {
    signer, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: server.enrollSecret, device: info }),
  });
  if (response.status !== 201) throw new Error(`enroll failed: ${response.status} ${await response.text()}`);
  const enrolled = (await response.json()) as EnrollResponse;
  let nonce = first;
  const device: TestDevice = {
    key, signer, deviceId: enrolled.deviceId, token: enrolled.accessToken,
    nonce: () => nonce,
    setNonce: (n) => (nonce = n),
    proof(method, url, claims = {}, header = {}) {
      return craft(
        key,
        { typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk, ...header },
        { jti: randomUUID(), htm: method, htu: url, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(enrolled.accessToken), ...(nonce ? { nonce } : {}), ...claims },
      );
    },
    async call(method, path, body, headers = {}) {
      const result = await fetchWithDpop(fetch, `${server.url}${path}`, {
        signer, method, accessToken: enrolled.accessToken, ...(nonce ? { nonce } : {}),
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      nonce = result.nonce;
      return result.response;
    },
  };
  return device;
}

export type RawResponse = Readonly<{ status: number; headers: Record<string, string | string[] | undefined>; body: Record<string, unknown> | null; text: string }>;

/** One HTTP request with exactly these headers (arrays become repeated header lines). */
export function rawRequest(url: string, method: string, headers: Record<string, string | string[]>, body?: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> | null;
        try {
          parsed = text ? (JSON.parse(text) as Record<string, unknown>) : null;
        } catch {
          parsed = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function adminGet(server: TestServer, path: string): Promise<RawResponse> {
  return rawRequest(`${server.url}${path}`, 'GET', { authorization: `Bearer ${server.adminToken}` });
}

export function adminSend(server: TestServer, method: string, path: string, body?: unknown): Promise<RawResponse> {
  return rawRequest(
    `${server.url}${path}`,
    method,
    { authorization: `Bearer ${server.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body === undefined ? undefined : JSON.stringify(body),
  );
}

export type BackendCase = Readonly<{ backend: Backend; skip: string | false; fresh(): Promise<{ location: DatabaseLocation; cleanup(): void }> }>;

/**
 * SQLite and PostgreSQL cases for one test file. Call at the top level of the file: it registers
 * before/after hooks that start one PostgreSQL cluster for the file (when the binaries exist).
 */
export function backendMatrix(): readonly BackendCase[] {
  const skip = postgresSkipReason();
  let cluster: PostgresHandle | null = null;
  before(async () => {
    if (!skip) cluster = await startPostgres();
  });
  after(async () => {
    await cluster?.stop();
  });
  return [
    { backend: 'sqlite', skip: false, fresh: () => freshLocation('sqlite') },
    {
      backend: 'postgres',
      skip,
      fresh: () => {
        if (!cluster) throw new Error('the PostgreSQL cluster is not running');
        const c = cluster;
        return freshLocation('postgres', () => c.createDatabase());
      },
    },
  ];
}

/**
 * Identity benchmark: DPoP proofs signed and verified per second by Cordon (node:crypto) with jose
 * in the same run as the baseline, and leaf-certificate mint time, cold and cached. Keys come
 * from the real OS keychain (a throwaway service and CORDON_HOME), so it must run where a Secret
 * Service is reachable (npm run bench starts a private one; so does running this file directly).
 * Targets: sign p50 <= 50 us, cold leaf <= 20 ms, cached leaf <= 5 us.
 * Usage: node bench/identity.bench.ts (or npm run bench -- identity).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EmbeddedJWK, SignJWT, importJWK, jwtVerify } from 'jose';
import { CoreError } from '../app/api/errors.ts';
import { agentIdentity } from '../app/identity/agentIdentity.ts';
import { createAgentKeyManager } from '../app/identity/agentKeys.ts';
import { createLeafIssuer } from '../app/identity/ca/leafCache.ts';
import { ensureRootCa } from '../app/identity/ca/rootCa.ts';
import { createDpopProof } from '../app/identity/dpop/proof.ts';
import { createDpopVerifier } from '../app/identity/dpop/verify.ts';
import { keychainAccount, readKeysFile } from '../app/identity/keyRecords.ts';
import { createOsKeyStore, type KeyStore } from '../app/identity/keyStore.ts';
import { inKeyringSession } from '../scripts/keyringSession.ts';
import { percentile, printTable } from './report.ts';

const SIGN_OPS = 20_000;
const VERIFY_OPS = 5_000;
const JOSE_OPS = 3_000;
const COLD_LEAVES = 40;
const CACHED_LOOKUPS = 200_000;
const HTU = 'https://api.example.com/v1/resource';

type Stats = { opsPerSec: number; p50us: number; p99us: number };

export async function run(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'cordon-bench-identity-'));
  const keyStore = createOsKeyStore({ service: `dev.cordon.bench.${randomBytes(6).toString('hex')}` });
  const dataDir = join(home, 'data');
  let caSerial: string | null = null;
  try {
    await requireKeychain(keyStore);
    const setup: string[][] = [];

    let t = performance.now();
    const identity = agentIdentity('claude-code', { executable: '/usr/bin/claude', user: 'bench' });
    const manager = createAgentKeyManager({ keyStore, dataDir, user: 'bench' });
    const signer = await manager.signerFor(identity);
    setup.push(['agent key created on first use (keygen + keychain write)', ms(performance.now() - t)]);
    t = performance.now();
    const reloaded = await createAgentKeyManager({ keyStore, dataDir, user: 'bench' }).signerFor(identity);
    setup.push(['agent key loaded by a new process (keychain read)', ms(performance.now() - t)]);

    // Signing: Cordon with the key in memory vs jose SignJWT with the same key.
    const cordonSign = measureSync(SIGN_OPS, () => createDpopProof(reloaded, { htm: 'POST', htu: HTU, accessToken: 'at-bench' }));
    const record = (await readKeysFile(dataDir)).keys[0];
    const stored = record ? await keyStore.get(keychainAccount(record)) : null;
    const { alg: _alg, ...privateJwk } = JSON.parse(stored ?? '{}') as Record<string, string>;
    const josePrivate = await importJWK(privateJwk, 'ES256');
    const joseSign = await measureAsync(JOSE_OPS, () =>
      new SignJWT({ htm: 'POST', htu: HTU, jti: randomBytes(16).toString('base64url'), ath: 'x' })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: signer.publicJwk })
        .setIssuedAt()
        .sign(josePrivate),
    );

    // Verification: every §4.3 check plus the replay cache vs jose jwtVerify with EmbeddedJWK.
    const proofs = Array.from({ length: VERIFY_OPS }, () => createDpopProof(reloaded, { htm: 'POST', htu: HTU }));
    const verifier = createDpopVerifier();
    let i = 0;
    const cordonVerify = await measureAsync(VERIFY_OPS, async () => {
      const r = await verifier.verify({ method: 'POST', url: HTU, headers: { dpop: proofs[i++] ?? '' } });
      if (!r.ok) throw new Error(`bench proof refused: ${r.description}`);
    });
    let j = 0;
    const joseVerify = await measureAsync(Math.min(JOSE_OPS, VERIFY_OPS), () => jwtVerify(proofs[j++] ?? '', EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] }));

    process.stdout.write('DPoP proofs, ES256, key in memory (jose = baseline in this run; cordon verify also checks htm/htu/iat and records the jti)\n');
    printTable(
      ['operation', 'ops/s', 'p50 us', 'p99 us', 'vs jose', 'target'],
      [
        ['sign cordon', rate(cordonSign), us(cordonSign.p50us), us(cordonSign.p99us), ratio(cordonSign, joseSign), `p50 <= 50 us: ${cordonSign.p50us <= 50 ? 'met' : 'MISSED'}`],
        ['sign jose', rate(joseSign), us(joseSign.p50us), us(joseSign.p99us), '1.00x', ''],
        ['verify cordon', rate(cordonVerify), us(cordonVerify.p50us), us(cordonVerify.p99us), ratio(cordonVerify, joseVerify), ''],
        ['verify jose', rate(joseVerify), us(joseVerify.p50us), us(joseVerify.p99us), '1.00x', ''],
      ],
    );

    // Leaf certificates.
    t = performance.now();
    const { ca } = await ensureRootCa({ keyStore, dataDir });
    caSerial = ca.serial;
    setup.push(['root CA created (RSA 2048, forge + keychain write)', ms(performance.now() - t)]);
    t = performance.now();
    const issuer = await createLeafIssuer(ca, { maxEntries: COLD_LEAVES * 2 });
    setup.push(['leaf issuer set up (one shared RSA 2048 leaf key)', ms(performance.now() - t)]);
    const cold: number[] = [];
    for (let n = 0; n < COLD_LEAVES; n++) {
      const s = performance.now();
      issuer.leafFor(`host${n}.bench.example`);
      cold.push(performance.now() - s);
    }
    const coldP50 = percentile(cold, 50);
    const s = performance.now();
    for (let n = 0; n < CACHED_LOOKUPS; n++) issuer.leafFor(`host${n % COLD_LEAVES}.bench.example`);
    const cachedUs = ((performance.now() - s) * 1000) / CACHED_LOOKUPS;

    process.stdout.write('\nleaf certificates (forge builds, node:crypto signs)\n');
    printTable(
      ['measure', 'value', 'target'],
      [
        ['cold mint p50', ms(coldP50), `<= 20 ms: ${coldP50 <= 20 ? 'met' : 'MISSED'}`],
        ['cold mint max', ms(Math.max(...cold)), ''],
        ['cached lookup mean', `${cachedUs.toFixed(3)} us`, `<= 5 us: ${cachedUs <= 5 ? 'met' : 'MISSED'}`],
      ],
    );
    process.stdout.write('\none-time costs\n');
    printTable(['step', 'time'], setup);
  } finally {
    for (const record of await readKeysFile(dataDir).then((f) => f.keys, () => [])) await keyStore.delete(keychainAccount(record)).catch(() => false);
    if (caSerial) await keyStore.delete(`ca:${caSerial}`).catch(() => false);
    await rm(home, { recursive: true, force: true });
  }
}

/** Fails with instructions when no OS keychain is reachable (there is no in-memory stand-in). */
async function requireKeychain(keyStore: KeyStore): Promise<void> {
  try {
    await keyStore.get('probe:bench');
  } catch (error) {
    if (error instanceof CoreError && error.code === 'ERR_KEYCHAIN_UNAVAILABLE') {
      throw new Error(
        'bench/identity.bench.ts needs the OS keychain (on Linux a Secret Service) and found none. ' +
          "Run it with 'npm run bench -- identity' or 'node bench/identity.bench.ts': both start a private D-Bus session with a throwaway unlocked gnome-keyring.",
        { cause: error },
      );
    }
    throw error;
  }
}

function measureSync(ops: number, fn: () => unknown): Stats {
  for (let n = 0; n < Math.min(1000, ops); n++) fn();
  const samples = new Float64Array(ops);
  const start = performance.now();
  for (let n = 0; n < ops; n++) {
    const s = performance.now();
    fn();
    samples[n] = (performance.now() - s) * 1000;
  }
  return stats(samples, performance.now() - start, ops);
}

async function measureAsync(ops: number, fn: () => Promise<unknown>): Promise<Stats> {
  const samples = new Float64Array(ops);
  const start = performance.now();
  for (let n = 0; n < ops; n++) {
    const s = performance.now();
    await fn();
    samples[n] = (performance.now() - s) * 1000;
  }
  return stats(samples, performance.now() - start, ops);
}

function stats(samples: Float64Array, totalMs: number, ops: number): Stats {
  const all = Array.from(samples);
  return { opsPerSec: (ops / totalMs) * 1000, p50us: percentile(all, 50), p99us: percentile(all, 99) };
}

const rate = (s: Stats): string => Math.round(s.opsPerSec).toLocaleString('en-US');
const us = (value: number): string => value.toFixed(1);
const ms = (value: number): string => `${value.toFixed(2)} ms`;
const ratio = (a: Stats, b: Stats): string => `${(a.opsPerSec / b.opsPerSec).toFixed(2)}x`;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.env.CORDON_TEST_KEYRING === '1') {
    await run().catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
  } else {
    // Run directly: re-run inside a private D-Bus session with a throwaway unlocked keyring.
    const self = fileURLToPath(import.meta.url);
    process.exitCode = await inKeyringSession(self, [], process.execPath, [self]);
  }
}

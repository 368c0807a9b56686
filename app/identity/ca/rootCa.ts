/**
 * The local root CA for TLS inspection: made with node-forge on first use, its private key in the
 * keychain (account "ca:<serial>"), its certificate and state (ca.json) in <dataDir>/ca. Rotation
 * makes a new root and keeps the old certificate in the exported bundle for a grace period.
 * Loading an existing root needs only node:crypto; forge is loaded when a certificate is made
 * (the first leaf, or a new root).
 */
import { createPrivateKey, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import type forge from 'node-forge';
import { CoreError } from '../../api/errors.ts';
import type { KeyStore } from '../keyStore.ts';
import { currentUser } from '../agentIdentity.ts';
import { readJsonFile, withFileLock, writeJsonFile, writePrivateFile } from '../jsonFile.ts';
import { buildSignedCertificate, forgeLib, forgePublicKey, randomSerialHex, skiExtension, subjectKeyIdentifier, type NameAttribute } from './certificate.ts';

const DAY_MS = 86_400_000;
const STATE_VERSION = 1;
/** Name of the exported bundle in <dataDir>/ca (what NODE_EXTRA_CA_CERTS and friends point at). */
export const CA_BUNDLE_FILE_NAME = 'cordon-ca.pem';

export type CaOptions = Readonly<{
  keyStore: KeyStore;
  dataDir: string;
  clock?: () => number;
  /** Lifetime of a new root (default 365 days). */
  rootValidityDays?: number;
  /**
   * How long a rotated-out root stays in the bundle (default 30 days, never past its own expiry):
   * covers live tunnels, leaves minted before the rotation (3 days at most) and clients that read
   * the bundle only when they start.
   */
  graceDays?: number;
}>;

/** A loaded root: certificate plus the private key (in memory only) that signs leaves. */
export type RootCa = Readonly<{
  serial: string;
  certPem: string;
  certificate: X509Certificate;
  privateKey: KeyObject;
  subject: readonly NameAttribute[];
  /** subjectKeyIdentifier, for the leaves' authorityKeyIdentifier. */
  keyIdentifier: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint, colon-separated hex (as X509Certificate prints it). */
  fingerprint256: string;
  certFile: string;
}>;

type RootEntry = { serial: string; certFile: string; created: string };
type RetiredEntry = RootEntry & { retiredAt: string; keepUntil: string };
type CaState = { version: typeof STATE_VERSION; current: RootEntry; previous: RetiredEntry[] };

export function caDir(dataDir: string): string {
  return join(dataDir, 'ca');
}

export function defaultBundlePath(dataDir: string): string {
  return join(caDir(dataDir), CA_BUNDLE_FILE_NAME);
}

/** The current root, or null before the first run. */
export async function loadRootCa(options: CaOptions): Promise<RootCa | null> {
  const state = await readState(options.dataDir);
  return state ? openRoot(options, state.current) : null;
}

/** The current root, made on first use (or when the current one has expired). */
export async function ensureRootCa(options: CaOptions): Promise<{ ca: RootCa; created: boolean }> {
  const now = (options.clock ?? Date.now)();
  const existing = await loadRootCa(options);
  if (existing && existing.notAfter.getTime() > now) return { ca: existing, created: false };
  return withFileLock(statePath(options.dataDir), async () => {
    const state = await readState(options.dataDir);
    if (state) {
      const again = await openRoot(options, state.current);
      if (again.notAfter.getTime() > now) return { ca: again, created: false };
    }
    return { ca: await installNewRoot(options, state), created: true };
  });
}

/** Makes a new root; the previous one stays in the bundle for the grace period and its key leaves the keychain. */
export async function rotateRootCa(options: CaOptions): Promise<{ ca: RootCa; retiredSerial: string | null }> {
  return withFileLock(statePath(options.dataDir), async () => {
    const state = await readState(options.dataDir);
    const ca = await installNewRoot(options, state);
    return { ca, retiredSerial: state?.current.serial ?? null };
  });
}

/** The PEM bundle clients should trust: the current root, then retired roots still in their grace period. */
export async function caBundlePem(options: CaOptions): Promise<{ pem: string; serials: string[] }> {
  const { ca } = await ensureRootCa(options);
  return bundleFor(options, ca);
}

/** Writes the bundle (default <dataDir>/ca/cordon-ca.pem) and returns its path. */
export async function exportCaBundle(options: CaOptions, outFile?: string): Promise<{ path: string; serials: string[] }> {
  const { pem, serials } = await caBundlePem(options);
  const path = outFile ?? defaultBundlePath(options.dataDir);
  await writePrivateFile(path, pem, 0o644);
  return { path, serials };
}

async function installNewRoot(options: CaOptions, state: CaState | null): Promise<RootCa> {
  const now = (options.clock ?? Date.now)();
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const serial = randomSerialHex();
  // The typings call it a Class; forge reads it as the string's universal tag (UTF8String).
  const utf8 = forgeLib().asn1.Type.UTF8 as unknown as forge.asn1.Class;
  const subject: NameAttribute[] = [
    { name: 'commonName', value: `Cordon Local Inspection CA ${serial.slice(0, 8)}`, valueTagClass: utf8 },
    { name: 'organizationName', value: 'Cordon', valueTagClass: utf8 },
    { name: 'organizationalUnitName', value: asciiOnly(`${currentUser()}@${hostname()}`), valueTagClass: utf8 },
  ];
  const ski = subjectKeyIdentifier(publicKey);
  const { pem } = buildSignedCertificate(
    {
      serialHex: serial,
      subject,
      issuer: subject,
      publicKey: forgePublicKey(publicKey),
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + (options.rootValidityDays ?? 365) * DAY_MS),
      extensions: [
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
        skiExtension(ski),
      ],
    },
    privateKey,
  );
  const entry: RootEntry = { serial, certFile: `root-${serial}.pem`, created: new Date(now).toISOString() };
  await options.keyStore.set(`ca:${serial}`, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  try {
    await writePrivateFile(join(caDir(options.dataDir), entry.certFile), pem, 0o644);
    const previous = prune(state?.previous ?? [], now);
    const oldPem = state ? await readFile(join(caDir(options.dataDir), state.current.certFile), 'utf8').catch(() => null) : null;
    if (state && oldPem) {
      const oldExpiry = Date.parse(new X509Certificate(oldPem).validTo);
      const keepUntil = Math.min(now + (options.graceDays ?? 30) * DAY_MS, oldExpiry);
      if (keepUntil > now) previous.unshift({ ...state.current, retiredAt: new Date(now).toISOString(), keepUntil: new Date(keepUntil).toISOString() });
    }
    const keptFiles = new Set([entry.certFile, ...previous.map((p) => p.certFile)]);
    const obsolete = [state?.current, ...(state?.previous ?? [])].filter((e): e is RootEntry => e !== undefined && !keptFiles.has(e.certFile));
    await writeJsonFile(statePath(options.dataDir), { version: STATE_VERSION, current: entry, previous } satisfies CaState);
    for (const gone of obsolete) await rm(join(caDir(options.dataDir), gone.certFile), { force: true });
  } catch (error) {
    await options.keyStore.delete(`ca:${serial}`).catch(() => false);
    throw error;
  }
  if (state) await options.keyStore.delete(`ca:${state.current.serial}`).catch(() => false);
  const ca = await openRoot(options, entry);
  await writePrivateFile(defaultBundlePath(options.dataDir), (await bundleFor(options, ca)).pem, 0o644);
  return ca;
}

async function bundleFor(options: CaOptions, ca: RootCa): Promise<{ pem: string; serials: string[] }> {
  const state = await readState(options.dataDir);
  const now = (options.clock ?? Date.now)();
  const pems = [ca.certPem];
  const serials = [ca.serial];
  for (const old of state?.previous ?? []) {
    if (Date.parse(old.keepUntil) <= now) continue;
    const pem = await readFile(join(caDir(options.dataDir), old.certFile), 'utf8').catch(() => null);
    if (pem) {
      pems.push(pem);
      serials.push(old.serial);
    }
  }
  return { pem: pems.join(''), serials };
}

async function openRoot(options: CaOptions, entry: RootEntry): Promise<RootCa> {
  const certFile = join(caDir(options.dataDir), entry.certFile);
  let certPem: string;
  try {
    certPem = await readFile(certFile, 'utf8');
  } catch (error) {
    throw new CoreError('ERR_CA', `the root certificate ${certFile} is missing; run 'cordon ca rotate'`, { cause: error });
  }
  const keyPem = await options.keyStore.get(`ca:${entry.serial}`);
  if (keyPem === null) throw new CoreError('ERR_CA', `the root CA key is missing from the keychain; run 'cordon ca rotate'`);
  let certificate: X509Certificate;
  let privateKey: KeyObject;
  try {
    certificate = new X509Certificate(certPem);
    privateKey = createPrivateKey(keyPem);
  } catch (error) {
    throw new CoreError('ERR_CA', 'the root certificate or its keychain key is damaged; run cordon ca rotate', { cause: error });
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new CoreError('ERR_CA', 'the keychain CA key does not match the root certificate');
  if (!certificate.ca) throw new CoreError('ERR_CA', `${certFile} is not a CA certificate`);
  let subject: NameAttribute[] | null = null;
  let keyIdentifier: Buffer | null = null;
  return {
    serial: entry.serial,
    certPem,
    certificate,
    privateKey,
    // Both are worked out with forge when the first leaf needs them, so loading a root does not load forge.
    // The subject is reused verbatim (type OID, string tag, value) as the leaves' issuer, so the names match byte for byte.
    get subject(): NameAttribute[] {
      subject ??= forgeLib().pki.certificateFromPem(certPem).subject.attributes.map((a) => ({ type: a.type, value: a.value, valueTagClass: a.valueTagClass })) as NameAttribute[];
      return subject;
    },
    // The identifier the root carries in its own subjectKeyIdentifier extension, so the leaves'
    // authorityKeyIdentifier matches it byte for byte (also for roots made by older versions).
    get keyIdentifier(): Buffer {
      keyIdentifier ??= embeddedKeyIdentifier(certPem) ?? subjectKeyIdentifier(certificate.publicKey);
      return keyIdentifier;
    },
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    fingerprint256: certificate.fingerprint256,
    certFile,
  };
}

/** ASCII only: forge hands back UTF8String values as raw bytes, so non-ASCII would not round-trip into leaf issuers. */
function asciiOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

function prune(previous: readonly RetiredEntry[], now: number): RetiredEntry[] {
  return previous.filter((p) => Date.parse(p.keepUntil) > now);
}

function statePath(dataDir: string): string {
  return join(caDir(dataDir), 'ca.json');
}

async function readState(dataDir: string): Promise<CaState | null> {
  const raw = (await readJsonFile(statePath(dataDir))) as Partial<CaState> | null;
  if (raw === null) return null;
  const ok = raw.version === STATE_VERSION && isEntry(raw.current) && Array.isArray(raw.previous) && raw.previous.every(isEntry);
  if (!ok) throw new CoreError('ERR_CA', `${statePath(dataDir)} has an unknown format`);
  return raw as CaState;
}

function isEntry(value: unknown): value is RootEntry {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && typeof v.serial === 'string' && /^[0-9a-f]{2,40}$/.test(v.serial) && typeof v.certFile === 'string' && /^root-[0-9a-f]+\.pem$/.test(v.certFile);
}

function embeddedKeyIdentifier(certPem: string): Buffer | null {
  const extension = forgeLib().pki.certificateFromPem(certPem).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  return extension?.subjectKeyIdentifier ? Buffer.from(extension.subjectKeyIdentifier, 'hex') : null;
}

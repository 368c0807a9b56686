/**
 * Cordon's root CA in the OS trust stores (`cordon ca trust|untrust`, `cordon uninstall`): one
 * interface with a backend per store (the Debian-family and Fedora-family Linux system stores, the
 * macOS login keychain, the Windows per-user Root store), and a record in
 * <dataDir>/ca/trust-stores.json of exactly what was added where, so removal removes that and
 * nothing else. Commands run through an injectable runner; results are values, never throws.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, win32 } from 'node:path';
import { CoreError } from '../../api/errors.ts';
import type { CommandResult, CommandRunner } from '../../service/types.ts';
import { readJsonFile, withFileLock, writeJsonFile } from '../jsonFile.ts';

export type TrustStoreName = 'debian' | 'fedora' | 'macos-login-keychain' | 'windows-user-root';
const STORE_NAMES: readonly TrustStoreName[] = ['debian', 'fedora', 'macos-login-keychain', 'windows-user-root'];

/** What was added to one store, as recorded in trust-stores.json. */
export type TrustRecord = Readonly<{
  store: TrustStoreName;
  /** SHA-256 of the DER certificate, lowercase hex without colons. */
  fingerprint256: string;
  /** SHA-1 thumbprint, uppercase hex (what `security delete-certificate -Z` and certutil name a certificate by). */
  sha1: string;
  subject: string;
  /** The file Cordon wrote into the store's anchors directory (Linux); null where the store keeps its own copy. */
  file: string | null;
  /** macOS: the keychain the certificate was added to. */
  keychain: string | null;
  addedAt: string;
  /** The certificate (public), so removal does not depend on the CA files still being there. */
  pem: string;
}>;

type TrustFile = { version: 1; entries: TrustRecord[] };

/** A Linux system trust store: where anchors go and how the store is rebuilt. Tests point it at a temp tree. */
export type LinuxTrustLayout = Readonly<{
  family: 'debian' | 'fedora';
  anchorsDir: string;
  /** Rebuilds the store after an anchor was added. */
  update: readonly string[];
  /** Rebuilds the store after an anchor was removed (Debian needs --fresh to drop its links). */
  updateAfterRemove: readonly string[];
  /** The PEM bundle the rebuild writes: checked after each change. */
  bundleFile: string;
}>;

/** The machine the trust store belongs to. */
export type TrustHost = Readonly<{
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** The user's home (the macOS login keychain). */
  home: string;
  run: CommandRunner;
  /** Effective user id (0 = root); the Linux system stores need root. */
  uid: number;
  /** Linux: the store layout; undefined = detect the system's, null = none found. */
  linux?: LinuxTrustLayout | null;
}>;

/** One file operation or command, done (or, in a dry run, shown). */
export type TrustStep = Readonly<{ step: string; ok: boolean; message?: string }>;

export type TrustAction = Readonly<{
  action: 'add' | 'remove' | 'keep';
  store: TrustStoreName;
  fingerprint256: string;
  subject: string;
  ok: boolean;
  steps: readonly TrustStep[];
  message: string;
}>;

export type TrustReport = Readonly<{
  ok: boolean;
  dryRun: boolean;
  /** The store `trust` works on (null when this machine has none Cordon supports). */
  store: TrustStoreName | null;
  actions: readonly TrustAction[];
  message: string;
  hint?: string;
}>;

export type TrustOptions = Readonly<{ dryRun?: boolean }>;

/** One store: how a certificate goes in and comes out. */
export type TrustStoreBackend = Readonly<{
  name: TrustStoreName;
  description: string;
  /** Why this process cannot change the store (e.g. not root), or null. */
  permissionProblem: string | null;
  add(cert: CertInfo, steps: Steps): Promise<{ ok: boolean; file: string | null; keychain: string | null }>;
  remove(record: TrustRecord, steps: Steps): Promise<boolean>;
  /** Whether a recorded certificate is still there (null: cannot be told without side effects). */
  present(record: TrustRecord): Promise<boolean | null>;
}>;

/** A certificate to trust, with the names stores know it by. */
export type CertInfo = Readonly<{ pem: string; fingerprint256: string; sha1: string; subject: string }>;

const DEBIAN_TOOL = ['/usr/sbin/update-ca-certificates', '/usr/bin/update-ca-certificates'];
const FEDORA_TOOL = ['/usr/bin/update-ca-trust', '/usr/sbin/update-ca-trust'];
const SECURITY = '/usr/bin/security';
const NOT_FOUND = /could not be found|not found|no such|cannot find|CRYPT_E_NOT_FOUND|0x80092004/i;

/** The Linux system store of this machine: Debian family first, then Fedora family; null when neither tool exists. */
export function detectLinuxLayout(exists: (path: string) => boolean = existsSync): LinuxTrustLayout | null {
  const debian = DEBIAN_TOOL.find(exists);
  if (debian) {
    return { family: 'debian', anchorsDir: '/usr/local/share/ca-certificates', update: [debian], updateAfterRemove: [debian, '--fresh'], bundleFile: '/etc/ssl/certs/ca-certificates.crt' };
  }
  const fedora = FEDORA_TOOL.find(exists);
  if (fedora) {
    return {
      family: 'fedora',
      anchorsDir: '/etc/pki/ca-trust/source/anchors',
      update: [fedora, 'extract'],
      updateAfterRemove: [fedora, 'extract'],
      bundleFile: '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
    };
  }
  return null;
}

/** The store `cordon ca trust` uses on this machine, or null where there is none Cordon supports. */
export function trustStoreFor(host: TrustHost): TrustStoreBackend | null {
  switch (host.platform) {
    case 'linux': {
      const layout = host.linux === undefined ? detectLinuxLayout() : host.linux;
      return layout ? linuxBackend(host, layout) : null;
    }
    case 'darwin':
      return macosBackend(host);
    case 'win32':
      return windowsBackend(host);
    default:
      return null;
  }
}

/** The backend that can remove a record (a Linux record keeps its family; the layout's commands rebuild it). */
function backendForRecord(host: TrustHost, record: TrustRecord): TrustStoreBackend | null {
  if (record.store === 'debian' || record.store === 'fedora') {
    const layout = host.linux === undefined ? detectLinuxLayout() : host.linux;
    if (!layout || layout.family !== record.store || host.platform !== 'linux') return null;
    return linuxBackend(host, layout);
  }
  if (record.store === 'macos-login-keychain') return host.platform === 'darwin' ? macosBackend(host) : null;
  return host.platform === 'win32' ? windowsBackend(host) : null;
}

/** The certificates of a PEM bundle, with their fingerprints. Throws ERR_CA for anything that is not a CA certificate. */
export function certificatesOf(pemBundle: string): CertInfo[] {
  const blocks = pemBundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new CoreError('ERR_CA', 'the CA bundle holds no certificate');
  return blocks.map((block) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (error) {
      throw new CoreError('ERR_CA', 'the CA bundle holds a damaged certificate', { cause: error });
    }
    if (!cert.ca) throw new CoreError('ERR_CA', `${oneLine(cert.subject)} is not a CA certificate`);
    return { pem: `${block}\n`, fingerprint256: hexOf(cert.fingerprint256).toLowerCase(), sha1: hexOf(cert.fingerprint).toUpperCase(), subject: oneLine(cert.subject) };
  });
}

/**
 * Makes this machine's store trust exactly `pemBundle`'s roots as far as Cordon added them: adds
 * the ones not recorded (or recorded but gone), removes recorded ones no longer in the bundle
 * (rotated out), keeps the rest.
 */
export async function trustCaBundle(host: TrustHost, dataDir: string, pemBundle: string, options: TrustOptions = {}): Promise<TrustReport> {
  const dryRun = options.dryRun === true;
  const backend = trustStoreFor(host);
  if (!backend) return { ok: false, dryRun, store: null, actions: [], message: noStoreMessage(host.platform) };
  const certs = certificatesOf(pemBundle);
  if (backend.permissionProblem && !dryRun) return { ok: false, dryRun, store: backend.name, actions: [], message: backend.permissionProblem, hint: rootHint('trust') };
  const report = await withRecords(dataDir, host, dryRun, async (records, save) => {
    const actions: TrustAction[] = [];
    const wanted = new Set(certs.map((c) => c.fingerprint256));
    for (const cert of certs) {
      const recorded = records.find((r) => r.store === backend.name && r.fingerprint256 === cert.fingerprint256);
      if (recorded && (await backend.present(recorded)) !== false) {
        actions.push({ action: 'keep', store: backend.name, fingerprint256: cert.fingerprint256, subject: cert.subject, ok: true, steps: [], message: `already trusted in ${backend.description}` });
        continue;
      }
      const steps = stepper(host, dryRun);
      const added = await backend.add(cert, steps);
      if (added.ok && !dryRun) {
        const record: TrustRecord = { store: backend.name, fingerprint256: cert.fingerprint256, sha1: cert.sha1, subject: cert.subject, file: added.file, keychain: added.keychain, addedAt: new Date().toISOString(), pem: cert.pem };
        await save([...records.filter((r) => !(r.store === record.store && r.fingerprint256 === record.fingerprint256)), record]);
      }
      actions.push({
        action: 'add', store: backend.name, fingerprint256: cert.fingerprint256, subject: cert.subject, ok: added.ok, steps: steps.list,
        message: dryRun ? `would add it to ${backend.description}` : added.ok ? `added to ${backend.description}` : `could not add it to ${backend.description}`,
      });
    }
    for (const stale of records.filter((r) => r.store === backend.name && !wanted.has(r.fingerprint256))) {
      actions.push(await removeOne(host, backend, stale, dryRun, records, save, 'no longer in the CA bundle'));
    }
    return summarize(dryRun, backend.name, actions, 'trust');
  });
  return backend.permissionProblem ? { ...report, hint: `${backend.permissionProblem}: ${rootHint('trust')}` } : report;
}

/** Removes every certificate Cordon recorded adding, from whichever store it went to. */
export async function untrustAll(host: TrustHost, dataDir: string, options: TrustOptions = {}): Promise<TrustReport> {
  const dryRun = options.dryRun === true;
  const store = trustStoreFor(host)?.name ?? null;
  return withRecords(dataDir, host, dryRun, async (records, save) => {
    if (records.length === 0) return { ok: true, dryRun, store, actions: [], message: 'Cordon added its CA to no trust store: nothing to remove' };
    const actions: TrustAction[] = [];
    for (const record of [...records]) {
      const backend = backendForRecord(host, record);
      if (!backend) {
        actions.push({ action: 'remove', store: record.store, fingerprint256: record.fingerprint256, subject: record.subject, ok: false, steps: [], message: `the ${record.store} store cannot be changed from this machine; the record is kept` });
        continue;
      }
      if (backend.permissionProblem && !dryRun) {
        actions.push({ action: 'remove', store: record.store, fingerprint256: record.fingerprint256, subject: record.subject, ok: false, steps: [], message: backend.permissionProblem });
        continue;
      }
      actions.push(await removeOne(host, backend, record, dryRun, records, save, 'untrust'));
    }
    const report = summarize(dryRun, store, actions, 'untrust');
    const needsRoot = actions.some((a) => !a.ok && /needs root/.test(a.message));
    return needsRoot ? { ...report, hint: rootHint('untrust') } : report;
  });
}

/** What Cordon recorded adding (empty when nothing). A damaged file is ERR_STORE. */
export async function readTrustRecords(dataDir: string): Promise<TrustRecord[]> {
  const raw = (await readJsonFile(trustRecordsPath(dataDir))) as Partial<TrustFile> | null;
  if (raw === null) return [];
  if (raw.version !== 1 || !Array.isArray(raw.entries) || !raw.entries.every(isRecord)) {
    throw new CoreError('ERR_STORE', `${trustRecordsPath(dataDir)} has an unknown format`);
  }
  return raw.entries;
}

export function trustRecordsPath(dataDir: string): string {
  return join(dataDir, 'ca', 'trust-stores.json');
}

async function removeOne(
  host: TrustHost,
  backend: TrustStoreBackend,
  record: TrustRecord,
  dryRun: boolean,
  records: TrustRecord[],
  save: (next: TrustRecord[]) => Promise<void>,
  why: string,
): Promise<TrustAction> {
  const steps = stepper(host, dryRun);
  const ok = await backend.remove(record, steps);
  if (ok && !dryRun) await save(records.filter((r) => !(r.store === record.store && r.fingerprint256 === record.fingerprint256)));
  const what = why === 'untrust' ? '' : ` (${why})`;
  return {
    action: 'remove', store: record.store, fingerprint256: record.fingerprint256, subject: record.subject, ok, steps: steps.list,
    message: dryRun ? `would remove it from ${backend.description}${what}` : ok ? `removed from ${backend.description}${what}` : `could not remove it from ${backend.description}; the record is kept`,
  };
}

function summarize(dryRun: boolean, store: TrustStoreName | null, actions: readonly TrustAction[], verb: 'trust' | 'untrust'): TrustReport {
  const failed = actions.filter((a) => !a.ok).length;
  const changed = actions.filter((a) => a.action !== 'keep').length;
  const message = dryRun
    ? `dry run: ${changed} change(s) would be made`
    : failed > 0
      ? `${failed} of ${actions.length} certificate change(s) failed`
      : changed === 0
        ? verb === 'trust' ? 'the CA is already trusted' : 'nothing to remove'
        : `${changed} certificate change(s) made`;
  return { ok: failed === 0, dryRun, store, actions, message };
}

/**
 * Runs fn over the records under the file lock. `save` replaces the records (the array fn holds
 * too) and writes them; in a dry run nothing is written.
 */
async function withRecords<T>(dataDir: string, host: TrustHost, dryRun: boolean, fn: (records: TrustRecord[], save: (next: TrustRecord[]) => Promise<void>) => Promise<T>): Promise<T> {
  const path = trustRecordsPath(dataDir);
  const run = async (): Promise<T> => {
    const records = await readTrustRecords(dataDir);
    const save = async (next: TrustRecord[]): Promise<void> => {
      records.splice(0, records.length, ...next);
      if (dryRun) return;
      await writeJsonFile(path, { version: 1, entries: records } satisfies TrustFile);
      await giveBackToSudoUser(host, path);
    };
    return fn(records, save);
  };
  return dryRun ? run() : withFileLock(path, run);
}

/** Under `sudo -E`, files written into the user's data dir go back to the user (else they could not read their own record). */
async function giveBackToSudoUser(host: TrustHost, path: string): Promise<void> {
  if (host.uid !== 0 || host.platform === 'win32') return;
  const uid = Number(host.env.SUDO_UID);
  const gid = Number(host.env.SUDO_GID);
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || uid <= 0) return;
  await chown(path, uid, gid).catch(() => undefined);
}

type Steps = Readonly<{
  list: TrustStep[];
  dryRun: boolean;
  /** Runs a command (shown, not run, in a dry run). */
  command(argv: readonly string[], okWhen?: (r: CommandResult) => boolean): Promise<CommandResult>;
  /** A file operation (shown, not done, in a dry run). */
  file(description: string, operation: () => Promise<void>): Promise<boolean>;
  /** A read-only check, done in a dry run too. */
  check(description: string, ok: boolean, message?: string): boolean;
}>;

function stepper(host: TrustHost, dryRun: boolean): Steps {
  const list: TrustStep[] = [];
  return {
    list,
    dryRun,
    async command(argv, okWhen = (r) => r.exitCode === 0) {
      const shown = argv.map((w) => (/[\s"']/.test(w) || w === '' ? JSON.stringify(w) : w)).join(' ');
      if (dryRun) {
        list.push({ step: shown, ok: true, message: 'dry run: not run' });
        return { exitCode: 0, stdout: '', stderr: '' };
      }
      const [file, ...args] = argv;
      if (file === undefined) throw new CoreError('ERR_INTERNAL', 'empty command');
      const result = await host.run(file, args);
      const ok = okWhen(result);
      list.push({ step: shown, ok, ...(ok ? {} : { message: failureText(result) }) });
      return ok && result.exitCode !== 0 ? { ...result, exitCode: 0 } : result;
    },
    async file(description, operation) {
      if (dryRun) {
        list.push({ step: description, ok: true, message: 'dry run: not done' });
        return true;
      }
      try {
        await operation();
        list.push({ step: description, ok: true });
        return true;
      } catch (error) {
        list.push({ step: description, ok: false, message: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
        return false;
      }
    },
    check(description, ok, message) {
      list.push({ step: description, ok, ...(message ? { message } : {}) });
      return ok;
    },
  };
}

function linuxBackend(host: TrustHost, layout: LinuxTrustLayout): TrustStoreBackend {
  const name: TrustStoreName = layout.family;
  // update-ca-certificates takes only *.crt from its local directory; ca-trust takes .pem and .crt.
  const fileFor = (cert: Pick<CertInfo, 'fingerprint256'>): string => join(layout.anchorsDir, `cordon-${cert.fingerprint256}.${layout.family === 'debian' ? 'crt' : 'pem'}`);
  const inBundle = async (pem: string): Promise<boolean | null> => {
    const bundle = await readFile(layout.bundleFile, 'utf8').catch(() => null);
    return bundle === null ? null : pemBody(bundle).includes(pemBody(pem));
  };
  return {
    name,
    description: `the ${layout.family === 'debian' ? 'Debian' : 'Fedora'} system trust store (${layout.anchorsDir})`,
    permissionProblem: host.uid === 0 ? null : `changing the Linux system trust store needs root (${layout.anchorsDir} and ${layout.update[0]})`,
    async add(cert, steps) {
      const file = fileFor(cert);
      const wrote = await steps.file(`write ${file}`, async () => {
        await mkdir(layout.anchorsDir, { recursive: true, mode: 0o755 });
        await writeFile(file, cert.pem, { mode: 0o644 });
      });
      if (!wrote) return { ok: false, file, keychain: null };
      const update = await steps.command(layout.update);
      if (steps.dryRun) return { ok: true, file, keychain: null };
      if (update.exitCode !== 0) {
        // Leave the store as it was: the anchor goes again, the store was not rebuilt with it.
        await steps.file(`remove ${file} (the update failed)`, () => rm(file, { force: true }));
        return { ok: false, file, keychain: null };
      }
      const trusted = await inBundle(cert.pem);
      return { ok: steps.check(`check ${layout.bundleFile} holds the certificate`, trusted === true, trusted === null ? 'cannot read the bundle' : trusted ? undefined : 'the rebuilt bundle does not hold it'), file, keychain: null };
    },
    async remove(record, steps) {
      const file = record.file ?? fileFor(record);
      if (!file.startsWith(`${layout.anchorsDir}/`) || !/\/cordon-[0-9a-f]{64}\.(crt|pem)$/.test(file)) {
        steps.check(`refuse to remove ${file}`, false, `not a Cordon anchor in ${layout.anchorsDir}`);
        return false;
      }
      const removed = await steps.file(`remove ${file}`, () => rm(file, { force: true }));
      if (!removed) return false;
      const update = await steps.command(layout.updateAfterRemove);
      if (steps.dryRun) return true;
      if (update.exitCode !== 0) return false;
      const still = await inBundle(record.pem);
      return steps.check(`check ${layout.bundleFile} no longer holds the certificate`, still === false, still === null ? 'cannot read the bundle' : still ? 'the rebuilt bundle still holds it' : undefined);
    },
    async present(record) {
      const file = record.file ?? fileFor(record);
      const text = await readFile(file, 'utf8').catch(() => null);
      return text !== null && pemBody(text) === pemBody(record.pem);
    },
  };
}

function macosBackend(host: TrustHost): TrustStoreBackend {
  const keychain = join(host.home, 'Library', 'Keychains', 'login.keychain-db');
  return {
    name: 'macos-login-keychain',
    description: `the login keychain (${keychain})`,
    permissionProblem: null,
    async add(cert, steps) {
      // The user's trust settings (no -d): macOS asks the user to confirm with their password.
      const ok = await withTempPem(cert, steps, (file) => steps.command([SECURITY, 'add-trusted-cert', '-r', 'trustRoot', '-k', keychain, file]));
      return { ok, file: null, keychain };
    },
    async remove(record, steps) {
      const where = record.keychain ?? keychain;
      const untrusted = await withTempPem(record, steps, (file) => steps.command([SECURITY, 'remove-trusted-cert', file], tolerateNotFound));
      const deleted = await steps.command([SECURITY, 'delete-certificate', '-Z', record.sha1, where], tolerateNotFound);
      return untrusted && deleted.exitCode === 0;
    },
    async present() {
      return null;
    },
  };
}

function windowsBackend(host: TrustHost): TrustStoreBackend {
  const certutil = win32.join(host.env.SystemRoot || 'C:\\Windows', 'System32', 'certutil.exe');
  return {
    name: 'windows-user-root',
    description: 'the Windows Trusted Root store of this user (certutil -user Root)',
    permissionProblem: null,
    async add(cert, steps) {
      // Windows asks the user to confirm a new root in their store.
      const ok = await withTempPem(cert, steps, (file) => steps.command([certutil, '-user', '-addstore', 'Root', file]));
      return { ok, file: null, keychain: null };
    },
    async remove(record, steps) {
      const result = await steps.command([certutil, '-user', '-delstore', 'Root', record.sha1], tolerateNotFound);
      return result.exitCode === 0;
    },
    async present() {
      return null;
    },
  };
}

/** Writes the certificate to a private temp file for a command that takes a file, and removes it afterwards. */
async function withTempPem(cert: Pick<CertInfo, 'pem' | 'fingerprint256'>, steps: Steps, run: (file: string) => Promise<CommandResult>): Promise<boolean> {
  const file = join(tmpdir(), `cordon-ca-${cert.fingerprint256.slice(0, 16)}-${process.pid}.pem`);
  if (steps.dryRun) return (await run(file)).exitCode === 0;
  try {
    await writeFile(file, cert.pem, { mode: 0o600 });
  } catch (error) {
    steps.check(`write ${file}`, false, (error as NodeJS.ErrnoException).code ?? String(error));
    return false;
  }
  try {
    return (await run(file)).exitCode === 0;
  } finally {
    await rm(file, { force: true });
  }
}

/** A removal of something already gone counts as done. */
function tolerateNotFound(result: CommandResult): boolean {
  return result.exitCode === 0 || (result.spawnError === undefined && NOT_FOUND.test(`${result.stderr}\n${result.stdout}`));
}

function failureText(result: CommandResult): string {
  if (result.spawnError) return result.spawnError;
  const line = (result.stderr.trim() || result.stdout.trim()).split(/\r?\n/)[0] ?? '';
  return (line || `exit code ${result.exitCode ?? 'unknown'}`).slice(0, 300);
}

function noStoreMessage(platform: NodeJS.Platform): string {
  return platform === 'linux'
    ? 'no supported system trust store: neither update-ca-certificates (Debian, Ubuntu) nor update-ca-trust (Fedora, RHEL) is installed'
    : `no supported trust store on ${platform}`;
}

function rootHint(verb: 'trust' | 'untrust'): string {
  return `run it as root with your environment, so Cordon finds your CA and its record: sudo -E cordon ca ${verb}`;
}

function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
}

function hexOf(colonHex: string): string {
  return colonHex.replace(/:/g, '');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ', ').slice(0, 300);
}

function isRecord(value: unknown): value is TrustRecord {
  const v = value as Record<string, unknown> | null;
  return (
    typeof v === 'object' && v !== null &&
    STORE_NAMES.includes(v.store as TrustStoreName) &&
    typeof v.fingerprint256 === 'string' && /^[0-9a-f]{64}$/.test(v.fingerprint256) &&
    typeof v.sha1 === 'string' && /^[0-9A-F]{40}$/.test(v.sha1) &&
    typeof v.subject === 'string' && typeof v.addedAt === 'string' && typeof v.pem === 'string' &&
    (v.file === null || typeof v.file === 'string') && (v.keychain === null || typeof v.keychain === 'string')
  );
}

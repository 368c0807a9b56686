// The CA in OS trust stores. Linux for real: update-ca-certificates on a temp tree (its
// --localcertsdir/--etccertsdir/... options), and as root on the system paths through
// `cordon ca trust|untrust`. macOS and Windows: the exact command lines, through a recording runner.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { CoreError } from '../../app/api/errors.ts';
import { main } from '../../app/cli/main.ts';
import { certificatesOf, detectLinuxLayout, readTrustRecords, trustCaBundle, trustRecordsPath, untrustAll, type LinuxTrustLayout, type TrustHost } from '../../app/identity/ca/trustStore.ts';
import { createOsKeyStore } from '../../app/identity/keyStore.ts';
import { runCommand } from '../../app/service/runner.ts';
import { fakeRunner } from '../service/helpers.ts';
import { KEYRING_SKIP } from './helpers.ts';

const DEBIAN_TOOL = ['/usr/sbin/update-ca-certificates', '/usr/bin/update-ca-certificates'].find((p) => existsSync(p));
const IS_ROOT = process.getuid?.() === 0;
const temps: string[] = [];

after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A fresh self-signed CA certificate from the openssl command line. */
function makeCa(name: string): string {
  const dir = tempDir('cordon-trust-ca-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem'), '-days', '2', '-subj', `/CN=${name}/O=Cordon test`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
  return readFileSync(join(dir, 'ca.pem'), 'utf8');
}

/** update-ca-certificates confined to a temp tree: its own config, CA dirs, output dir and no hooks. */
function debianTree(tool: string): { layout: LinuxTrustLayout; root: string } {
  const root = tempDir('cordon-trust-tree-');
  for (const d of ['share', 'local', 'etc', 'hooks']) mkdirSync(join(root, d));
  writeFileSync(join(root, 'ca-certificates.conf'), '');
  const args = ['--certsconf', join(root, 'ca-certificates.conf'), '--certsdir', join(root, 'share'), '--localcertsdir', join(root, 'local'), '--etccertsdir', join(root, 'etc'), '--hooksdir', join(root, 'hooks')];
  return {
    root,
    layout: { family: 'debian', anchorsDir: join(root, 'local'), update: [tool, ...args], updateAfterRemove: [tool, '--fresh', ...args], bundleFile: join(root, 'etc', 'ca-certificates.crt') },
  };
}

function body(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
}

function linuxHost(layout: LinuxTrustLayout, uid = 0): TrustHost {
  // uid 0: the temp tree needs no privileges, but the backend refuses non-root on principle.
  return { platform: 'linux', env: {}, home: '/nonexistent', run: runCommand, uid, linux: layout };
}

describe('certificatesOf', () => {
  it('reads every certificate of a bundle with its fingerprints, and refuses what is not a CA', () => {
    const a = makeCa('Cordon A');
    const b = makeCa('Cordon B');
    const certs = certificatesOf(a + b);
    assert.equal(certs.length, 2);
    assert.match(certs[0]!.fingerprint256, /^[0-9a-f]{64}$/);
    assert.match(certs[0]!.sha1, /^[0-9A-F]{40}$/);
    assert.match(certs[0]!.subject, /CN=Cordon A/);
    assert.notEqual(certs[0]!.fingerprint256, certs[1]!.fingerprint256);
    assert.throws(() => certificatesOf('nothing here'), (e: unknown) => e instanceof CoreError && e.code === 'ERR_CA');
    const dir = tempDir('cordon-trust-leaf-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-days', '1', '-subj', '/CN=leaf', '-addext', 'basicConstraints=critical,CA:FALSE'], { stdio: 'ignore' });
    assert.throws(() => certificatesOf(readFileSync(join(dir, 'c'), 'utf8')), /not a CA certificate/);
  });
});

describe('Debian trust store on a temp tree (update-ca-certificates for real)', { skip: DEBIAN_TOOL ? false : 'update-ca-certificates is not installed' }, () => {
  it('adds the bundle, keeps it on a second run, drops a rotated-out root, and untrust removes exactly what was added', async () => {
    const { layout } = debianTree(DEBIAN_TOOL!);
    const dataDir = tempDir('cordon-trust-data-');
    const host = linuxHost(layout);
    const [a, b] = [makeCa('Cordon root 1'), makeCa('Cordon root 2')];
    // Someone else's anchor in the same directory: Cordon must never touch it.
    writeFileSync(join(layout.anchorsDir, 'corp-root.crt'), makeCa('Corp root'));

    const dry = await trustCaBundle(host, dataDir, a + b, { dryRun: true });
    assert.equal(dry.ok, true);
    assert.deepEqual(dry.actions.map((x) => x.action), ['add', 'add']);
    assert.ok(dry.actions[0]!.steps.every((s) => s.message?.startsWith('dry run')));
    assert.deepEqual(readdirSync(layout.anchorsDir), ['corp-root.crt'], 'a dry run writes nothing');
    assert.equal(existsSync(trustRecordsPath(dataDir)), false);

    const added = await trustCaBundle(host, dataDir, a + b);
    assert.equal(added.ok, true, JSON.stringify(added, null, 2));
    assert.equal(added.store, 'debian');
    const bundle = readFileSync(layout.bundleFile, 'utf8');
    assert.ok(body(bundle).includes(body(a)) && body(bundle).includes(body(b)), 'both roots are in the rebuilt bundle');
    const records = await readTrustRecords(dataDir);
    assert.deepEqual(records.map((r) => r.file).sort(), certificatesOf(a + b).map((c) => join(layout.anchorsDir, `cordon-${c.fingerprint256}.crt`)).sort());
    assert.ok(added.actions[0]!.steps.some((s) => s.step.startsWith(DEBIAN_TOOL!) && s.ok));

    const again = await trustCaBundle(host, dataDir, a + b);
    assert.deepEqual(again.actions.map((x) => x.action), ['keep', 'keep']);
    assert.ok(again.actions.every((x) => x.steps.length === 0), 'nothing runs when the store already trusts them');

    // Root 1 rotated out of the bundle: trust drops it.
    const rotated = await trustCaBundle(host, dataDir, b);
    assert.deepEqual(rotated.actions.map((x) => x.action), ['keep', 'remove']);
    assert.equal(rotated.ok, true, JSON.stringify(rotated, null, 2));
    assert.ok(!body(readFileSync(layout.bundleFile, 'utf8')).includes(body(a)));
    assert.ok(body(readFileSync(layout.bundleFile, 'utf8')).includes(body(b)));

    const removed = await untrustAll(host, dataDir);
    assert.equal(removed.ok, true, JSON.stringify(removed, null, 2));
    assert.deepEqual(removed.actions.map((x) => x.action), ['remove']);
    const after = readFileSync(layout.bundleFile, 'utf8');
    assert.ok(!body(after).includes(body(a)) && !body(after).includes(body(b)));
    assert.deepEqual(readdirSync(layout.anchorsDir), ['corp-root.crt'], "the other anchor stays, Cordon's are gone");
    assert.ok(!readdirSync(join(layout.anchorsDir, '..', 'etc')).some((f) => f.startsWith('cordon-')), 'no link to a Cordon root is left behind');
    assert.deepEqual(await readTrustRecords(dataDir), []);
    assert.equal((await untrustAll(host, dataDir)).message, 'Cordon added its CA to no trust store: nothing to remove');
  });

  it('a failing rebuild leaves no anchor and no record; a non-root user gets a clear refusal', async () => {
    const { layout } = debianTree(DEBIAN_TOOL!);
    const dataDir = tempDir('cordon-trust-data-');
    const ca = makeCa('Cordon failing');
    const failing = await trustCaBundle(linuxHost({ ...layout, update: ['/bin/false'] }), dataDir, ca);
    assert.equal(failing.ok, false);
    assert.ok(failing.actions[0]!.steps.some((s) => s.step === '/bin/false' && !s.ok));
    assert.deepEqual(readdirSync(layout.anchorsDir), []);
    assert.deepEqual(await readTrustRecords(dataDir), []);

    const refused = await trustCaBundle(linuxHost(layout, 1000), dataDir, ca);
    assert.equal(refused.ok, false);
    assert.match(refused.message, /needs root/);
    assert.match(refused.hint ?? '', /sudo -E cordon ca trust/);
    assert.deepEqual(readdirSync(layout.anchorsDir), []);
  });

  it('refuses to remove a recorded file outside the anchors directory, and a damaged record file is an error', async () => {
    const { layout } = debianTree(DEBIAN_TOOL!);
    const dataDir = tempDir('cordon-trust-data-');
    const victim = join(tempDir('cordon-trust-victim-'), 'important.crt');
    writeFileSync(victim, 'keep me');
    const [cert] = certificatesOf(makeCa('Cordon tampered'));
    mkdirSync(join(dataDir, 'ca'), { recursive: true });
    writeFileSync(trustRecordsPath(dataDir), JSON.stringify({ version: 1, entries: [{ store: 'debian', fingerprint256: cert!.fingerprint256, sha1: cert!.sha1, subject: cert!.subject, file: victim, keychain: null, addedAt: new Date().toISOString(), pem: cert!.pem }] }));
    const report = await untrustAll(linuxHost(layout), dataDir);
    assert.equal(report.ok, false);
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
    assert.equal((await readTrustRecords(dataDir)).length, 1, 'the record is kept for a later attempt');

    writeFileSync(trustRecordsPath(dataDir), '{"version": 1, "entries": [{"store": "elsewhere"}]}');
    await assert.rejects(untrustAll(linuxHost(layout), dataDir), (e: unknown) => e instanceof CoreError && e.code === 'ERR_STORE');
  });
});

describe('cordon ca trust|untrust on the real system store', { skip: !IS_ROOT ? 'needs root' : detectLinuxLayout()?.family !== 'debian' ? 'needs update-ca-certificates' : KEYRING_SKIP }, () => {
  const home = IS_ROOT ? tempDir('cordon-trust-cli-') : '';
  const service = `dev.cordon.test.trust.${process.pid}`;
  const env: NodeJS.ProcessEnv = { ...process.env, CORDON_HOME: home, CORDON_KEYCHAIN_SERVICE: service, SUDO_UID: undefined, SUDO_GID: undefined };
  const systemBundle = '/etc/ssl/certs/ca-certificates.crt';

  after(async () => {
    // Whatever happened above, the machine's store ends as it was.
    const records = await readTrustRecords(join(home, 'data')).catch(() => []);
    const leftovers = records.filter((r) => r.file !== null && existsSync(r.file));
    for (const r of leftovers) rmSync(r.file!, { force: true });
    if (leftovers.length > 0) execFileSync(DEBIAN_TOOL!, ['--fresh'], { stdio: 'ignore' });
    const ca = JSON.parse(readFileSync(join(home, 'data', 'ca', 'ca.json'), 'utf8')) as { current: { serial: string } };
    await createOsKeyStore({ service }).delete(`ca:${ca.current.serial}`).catch(() => false);
  });

  async function cordon(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    return cordonWith(env, ...argv);
  }

  async function cordonWith(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d) => (out += d));
    stderr.on('data', (d) => (err += d));
    const code = await main(argv, { stdout, stderr, env, cwd: home });
    return { code, out, err };
  }

  it('adds the CA to /etc/ssl/certs/ca-certificates.crt and removes it again', async () => {
    const dry = await cordon('ca', 'trust', '--dry-run');
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /would add it to the Debian system trust store/);
    const pem = readFileSync(join(home, 'data', 'ca', 'cordon-ca.pem'), 'utf8');
    assert.ok(!body(readFileSync(systemBundle, 'utf8')).includes(body(pem)));

    const trust = await cordon('ca', 'trust', '--json');
    assert.equal(trust.code, 0, trust.out + trust.err);
    const report = JSON.parse(trust.out) as { ok: boolean; actions: { action: string; fingerprint256: string }[] };
    assert.deepEqual(report.actions.map((a) => a.action), ['add']);
    const file = `/usr/local/share/ca-certificates/cordon-${report.actions[0]!.fingerprint256}.crt`;
    assert.ok(existsSync(file));
    assert.ok(body(readFileSync(systemBundle, 'utf8')).includes(body(pem)), 'the system bundle holds the Cordon root');

    const again = await cordon('ca', 'trust');
    assert.equal(again.code, 0);
    assert.match(again.out, /already trusted/);

    const untrust = await cordon('ca', 'untrust');
    assert.equal(untrust.code, 0, untrust.out + untrust.err);
    assert.match(untrust.out, /removed from the Debian system trust store/);
    assert.equal(existsSync(file), false);
    assert.ok(!body(readFileSync(systemBundle, 'utf8')).includes(body(pem)), 'the system bundle no longer holds it');
    assert.ok(!readdirSync('/etc/ssl/certs').some((f) => f.startsWith('cordon-')));
  });

  it('under sudo it only reads the exported bundle: it never makes a CA in the user\'s data dir', async () => {
    const userHome = tempDir('cordon-trust-sudo-');
    const sudo = await cordonWith({ ...env, CORDON_HOME: userHome, SUDO_UID: '1000', SUDO_GID: '1000' }, 'ca', 'trust', '--dry-run');
    assert.equal(sudo.code, 1);
    assert.match(sudo.err, /running under sudo and .*cordon-ca\.pem does not exist: run 'cordon ca show' as yourself first/);
    assert.equal(existsSync(join(userHome, 'data', 'ca')), false);
  });
});

describe('macOS and Windows backends: the commands they run', () => {
  it('macOS: add-trusted-cert on the login keychain; untrust removes the trust setting and the certificate', async () => {
    const dataDir = tempDir('cordon-trust-data-');
    const ca = makeCa('Cordon mac');
    const [cert] = certificatesOf(ca);
    const seen: string[] = [];
    const run = fakeRunner((argv) => {
      const file = argv.at(-1)!;
      if (argv[1] === 'add-trusted-cert' || argv[1] === 'remove-trusted-cert') seen.push(readFileSync(file, 'utf8'));
      return argv[1] === 'delete-certificate' ? { exitCode: 44, stderr: 'security: SecKeychainSearchCopyNext: The specified item could not be found in the keychain.' } : {};
    });
    const host: TrustHost = { platform: 'darwin', env: {}, home: '/Users/alice', run, uid: 501 };
    const keychain = '/Users/alice/Library/Keychains/login.keychain-db';
    const added = await trustCaBundle(host, dataDir, ca);
    assert.equal(added.ok, true, JSON.stringify(added));
    assert.equal(added.store, 'macos-login-keychain');
    assert.deepEqual(run.calls[0]!.slice(0, 6), ['/usr/bin/security', 'add-trusted-cert', '-r', 'trustRoot', '-k', keychain]);
    assert.equal(seen[0], cert!.pem, 'the command got the certificate in a file');
    assert.equal(existsSync(run.calls[0]!.at(-1)!), false, 'the temp file is gone afterwards');
    assert.equal((await readTrustRecords(dataDir))[0]?.keychain, keychain);

    const removed = await untrustAll(host, dataDir);
    assert.equal(removed.ok, true, 'a certificate already gone counts as removed');
    assert.equal(run.calls[1]![1], 'remove-trusted-cert');
    assert.deepEqual(run.calls[2], ['/usr/bin/security', 'delete-certificate', '-Z', cert!.sha1, keychain]);
    assert.deepEqual(await readTrustRecords(dataDir), []);
  });

  it('Windows: certutil -user -addstore Root; -delstore by SHA-1; a refusal keeps the record', async () => {
    const dataDir = tempDir('cordon-trust-data-');
    const ca = makeCa('Cordon win');
    const [cert] = certificatesOf(ca);
    let refuse = false;
    const run = fakeRunner(() => (refuse ? { exitCode: 5, stdout: 'CertUtil: -delstore command FAILED: 0x80070005 (WIN32: 5 ERROR_ACCESS_DENIED)' } : {}));
    const host: TrustHost = { platform: 'win32', env: { SystemRoot: 'D:\\Windows' }, home: 'C:\\Users\\bob', run, uid: 0 };
    assert.equal((await trustCaBundle(host, dataDir, ca)).ok, true);
    const certutil = 'D:\\Windows\\System32\\certutil.exe';
    assert.deepEqual(run.calls[0]!.slice(0, 4), [certutil, '-user', '-addstore', 'Root']);
    assert.match(run.calls[0]![4]!, /cordon-ca-[0-9a-f]{16}-\d+\.pem$/);

    refuse = true;
    const failed = await untrustAll(host, dataDir);
    assert.equal(failed.ok, false);
    assert.deepEqual(run.calls[1], [certutil, '-user', '-delstore', 'Root', cert!.sha1]);
    assert.match(failed.actions[0]!.steps[0]!.message ?? '', /ACCESS_DENIED/);
    assert.equal((await readTrustRecords(dataDir)).length, 1);

    refuse = false;
    assert.equal((await untrustAll(host, dataDir)).ok, true);
    assert.deepEqual(await readTrustRecords(dataDir), []);
  });
});

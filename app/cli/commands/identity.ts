/** `cordon keys ...`, `cordon dpop ...`, `cordon ca ...`: the identity issue's verbs. */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { CoreError } from '../../api/errors.ts';
import { parseAgentSelector, selectorMatches, currentUser } from '../../identity/agentIdentity.ts';
import { createAgentKeyManager, type AgentKeyManager } from '../../identity/agentKeys.ts';
import { defaultBundlePath, ensureRootCa, exportCaBundle, rotateRootCa, caBundlePem, type CaOptions, type RootCa } from '../../identity/ca/rootCa.ts';
import { trustCaBundle, untrustAll, type TrustHost, type TrustReport } from '../../identity/ca/trustStore.ts';
import { createDpopProof } from '../../identity/dpop/proof.ts';
import type { SigningAlgorithm } from '../../identity/jws.ts';
import type { KeyRecord } from '../../identity/keyRecords.ts';
import { createOsKeyStore, DEFAULT_KEYCHAIN_SERVICE, type KeyStore } from '../../identity/keyStore.ts';
import { currentUid } from '../../service/host.ts';
import { runCommand } from '../../service/runner.ts';
import { UsageError, flag, requireOption, stringOption, writeJson, type Command, type CommandContext } from '../command.ts';

const AGENT_HELP = 'ID: an id from `cordon keys list` (kind[:exe][#instance]@user), or an agent kind such as claude-code (every identity of that kind for this OS user; `dpop proof` uses the kind-only identity kind@user, created on first use)';

const keysList: Command = {
  name: 'keys list',
  summary: 'list agent and device keys: agent, RFC 7638 thumbprint, algorithm, created, last used',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx, args) {
    const keys = await keyManager(ctx).list();
    if (flag(args, 'json')) writeJson(ctx.stdout, keys.map(keyJson));
    else ctx.stdout.write(keys.length === 0 ? 'no keys yet (an agent key is created on first use)\n' : renderKeys(keys));
    return 0;
  },
};

const keysRotate: Command = {
  name: 'keys rotate',
  summary: 'replace agent keys with new key pairs (tokens bound to the old keys stop working)',
  usage: `[--agent ID] [--device] [--alg ES256|EdDSA] [--json]   ${AGENT_HELP}; without --agent every agent key rotates; --device rotates the device key`,
  options: { agent: { type: 'string' }, device: { type: 'boolean' }, alg: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const agentText = stringOption(args, 'agent');
    const alg = algOption(stringOption(args, 'alg'));
    const rotated = await keyManager(ctx).rotate({
      ...(agentText !== undefined ? { agent: parseAgentSelector(agentText, currentUser()) } : {}),
      device: flag(args, 'device'),
      ...(alg ? { alg } : {}),
    });
    if (flag(args, 'json')) writeJson(ctx.stdout, rotated);
    else if (rotated.length === 0) ctx.stdout.write('no agent keys to rotate\n');
    else for (const r of rotated) ctx.stdout.write(`${r.ownerId}: ${r.oldThumbprint} -> ${r.newThumbprint} (${r.alg})\n`);
    return 0;
  },
};

const keysRemove: Command = {
  name: 'keys remove',
  summary: "delete an agent's keys from the keychain and keys.json",
  usage: `--agent ID [--json]   ${AGENT_HELP}`,
  options: { agent: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const selector = parseAgentSelector(requireOption(args, 'agent'), currentUser());
    const removed = await keyManager(ctx).removeWhere((r) => r.purpose === 'dpop' && r.agent !== null && selectorMatches(selector, r.agent));
    if (flag(args, 'json')) writeJson(ctx.stdout, removed.map(keyJson));
    else if (removed.length === 0) ctx.stdout.write(`no keys for agent '${selector.text}'\n`);
    else for (const r of removed) ctx.stdout.write(`removed ${r.ownerId} (${r.thumbprint})\n`);
    return removed.length === 0 ? 1 : 0;
  },
};

const dpopProof: Command = {
  name: 'dpop proof',
  summary: 'print one RFC 9449 DPoP proof signed with an agent key (created if needed)',
  usage: `--agent ID --htm METHOD --htu URL [--ath-token TOKEN] [--nonce NONCE] [--alg ES256|EdDSA]   ${AGENT_HELP}; --alg applies when the key is created`,
  options: {
    agent: { type: 'string' },
    htm: { type: 'string' },
    htu: { type: 'string' },
    'ath-token': { type: 'string' },
    nonce: { type: 'string' },
    alg: { type: 'string' },
  },
  async run(ctx, args) {
    const selector = parseAgentSelector(requireOption(args, 'agent'), currentUser());
    const htm = requireOption(args, 'htm');
    const htu = requireOption(args, 'htu');
    const accessToken = stringOption(args, 'ath-token');
    const nonce = stringOption(args, 'nonce');
    const alg = algOption(stringOption(args, 'alg'));
    const manager = keyManager(ctx);
    const signer = await manager.signerForSelector(selector, alg ? { alg } : {});
    const proof = createDpopProof(signer, {
      htm,
      htu,
      ...(accessToken !== undefined ? { accessToken } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
    });
    await manager.flush();
    ctx.stdout.write(`${proof}\n`);
    return 0;
  },
};

const caShow: Command = {
  name: 'ca show',
  summary: 'show the local TLS-inspection root CA (made on first use) and the roots in the trust bundle',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx, args) {
    const options = caOptions(ctx);
    const { ca, created } = await ensureRootCa(options);
    const { serials } = await caBundlePem(options);
    const info = { ...caJson(ca), created, bundle: defaultBundlePath(ctx.paths.dataDir), bundleSerials: serials };
    if (flag(args, 'json')) {
      writeJson(ctx.stdout, info);
      return 0;
    }
    ctx.stdout.write(
      [
        `subject:      ${ca.certificate.subject.replace(/\n/g, ', ')}`,
        `serial:       ${ca.serial}`,
        `sha256:       ${ca.fingerprint256}`,
        `valid:        ${ca.notBefore.toISOString()} .. ${ca.notAfter.toISOString()}`,
        `certificate:  ${ca.certFile}`,
        `bundle:       ${info.bundle} (${serials.length} root${serials.length === 1 ? '' : 's'})`,
        ...(created ? ['(created now; its private key is in the OS keychain)'] : []),
      ].join('\n') + '\n',
    );
    return 0;
  },
};

const caExport: Command = {
  name: 'ca export',
  summary: 'write the trust bundle (current root plus recently rotated ones) and print its path',
  usage: '[--out FILE]   (default <data dir>/ca/cordon-ca.pem; point NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, REQUESTS_CA_BUNDLE at it)',
  options: { out: { type: 'string' } },
  async run(ctx, args) {
    const out = stringOption(args, 'out');
    if (out === '') throw new UsageError('--out needs a file name');
    const { path } = await exportCaBundle(caOptions(ctx), out === undefined ? undefined : resolvePath(ctx, out));
    ctx.stdout.write(`${path}\n`);
    ctx.stderr.write(`trust it with: NODE_EXTRA_CA_CERTS=${path} (Node), REQUESTS_CA_BUNDLE=${path} (Python requests), SSL_CERT_FILE=${path} (OpenSSL clients; that file then replaces the system roots)\n`);
    return 0;
  },
};

const caRotate: Command = {
  name: 'ca rotate',
  summary: 'make a new root CA; the old root stays in the bundle for 30 days so live tunnels and clients keep working',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx, args) {
    const options = caOptions(ctx);
    const { ca, retiredSerial } = await rotateRootCa(options);
    const { serials } = await caBundlePem(options);
    if (flag(args, 'json')) writeJson(ctx.stdout, { ...caJson(ca), retiredSerial, bundle: defaultBundlePath(ctx.paths.dataDir), bundleSerials: serials });
    else ctx.stdout.write(`new root ${ca.serial} (sha256 ${ca.fingerprint256})${retiredSerial ? `; ${retiredSerial} stays in the bundle for its grace period` : ''}\nbundle: ${defaultBundlePath(ctx.paths.dataDir)}\n`);
    return 0;
  },
};

const caTrust: Command = {
  name: 'ca trust',
  summary: "add the CA bundle's roots to the OS trust store (Linux system store as root, macOS login keychain, Windows user Root store); recorded so untrust removes exactly them",
  usage: '[--dry-run] [--json]   (Linux: sudo -E cordon ca trust)',
  options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const report = await trustCaBundle(trustHost(ctx), ctx.paths.dataDir, await bundleForTrust(ctx), { dryRun: flag(args, 'dry-run') });
    printTrust(ctx, report, flag(args, 'json'));
    return report.ok ? 0 : 1;
  },
};

const caUntrust: Command = {
  name: 'ca untrust',
  summary: "remove from the OS trust stores every Cordon root that 'cordon ca trust' added (and nothing else)",
  usage: '[--dry-run] [--json]   (Linux: sudo -E cordon ca untrust)',
  options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const report = await untrustAll(trustHost(ctx), ctx.paths.dataDir, { dryRun: flag(args, 'dry-run') });
    printTrust(ctx, report, flag(args, 'json'));
    return report.ok ? 0 : 1;
  },
};

export const identityCommands: readonly Command[] = [keysList, keysRotate, keysRemove, dpopProof, caShow, caExport, caRotate, caTrust, caUntrust];

/** The machine's trust stores as this command sees them (the real command runner, this user's home). */
export function trustHost(ctx: CommandContext): TrustHost {
  return { platform: process.platform, env: ctx.env, home: ctx.env.HOME || homedir(), run: runCommand, uid: currentUid() };
}

/** Prints a trust report: one line per certificate, then its steps. */
export function printTrust(ctx: CommandContext, report: TrustReport, json: boolean): void {
  if (json) {
    writeJson(ctx.stdout, report);
    return;
  }
  const out = report.ok ? ctx.stdout : ctx.stderr;
  out.write(`${report.message}\n`);
  for (const action of report.actions) {
    out.write(`  ${action.action} ${action.fingerprint256.slice(0, 16)}… (${action.subject}): ${action.message}\n`);
    for (const step of action.steps) out.write(`    [${step.ok ? (step.message?.startsWith('dry run') ? '-' : 'ok') : 'FAILED'}] ${step.step}${step.message ? `: ${step.message}` : ''}\n`);
  }
  if (report.hint) out.write(`hint: ${report.hint}\n`);
}

/**
 * The roots to trust: the bundle of the keychain-backed CA (made on first use). Under sudo, and
 * wherever the keychain cannot be reached, the bundle file the CA last exported instead: root
 * must not make a CA (root-owned files) in the user's data dir.
 */
async function bundleForTrust(ctx: CommandContext): Promise<string> {
  const file = defaultBundlePath(ctx.paths.dataDir);
  const fromFile = async (why: string): Promise<string> => {
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) throw new CoreError('ERR_CA', `${why} and ${file} does not exist: run 'cordon ca show' as yourself first`);
    return text;
  };
  if (currentUid() === 0 && ctx.env.SUDO_UID) return fromFile('running under sudo');
  try {
    return (await caBundlePem(caOptions(ctx))).pem;
  } catch (error) {
    if (!(error instanceof CoreError) || error.code !== 'ERR_KEYCHAIN_UNAVAILABLE') throw error;
    return fromFile(`the keychain cannot be reached (${error.message})`);
  }
}

/** The keychain service: CORDON_KEYCHAIN_SERVICE lets tests keep their keys apart from the user's. */
export function keyStoreFor(ctx: CommandContext): KeyStore {
  return createOsKeyStore({ service: ctx.env.CORDON_KEYCHAIN_SERVICE || DEFAULT_KEYCHAIN_SERVICE });
}

function keyManager(ctx: CommandContext): AgentKeyManager {
  return createAgentKeyManager({ keyStore: keyStoreFor(ctx), dataDir: ctx.paths.dataDir });
}

function caOptions(ctx: CommandContext): CaOptions {
  return { keyStore: keyStoreFor(ctx), dataDir: ctx.paths.dataDir };
}

function algOption(value: string | undefined): SigningAlgorithm | undefined {
  if (value === undefined) return undefined;
  if (value !== 'ES256' && value !== 'EdDSA') throw new UsageError('--alg must be ES256 or EdDSA');
  return value;
}

function resolvePath(ctx: CommandContext, file: string): string {
  return file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file) ? file : `${ctx.cwd}/${file}`;
}

function keyJson(r: KeyRecord): Record<string, unknown> {
  return {
    agent: r.ownerId,
    purpose: r.purpose,
    kind: r.agent?.kind ?? null,
    executable: r.agent?.executable ?? null,
    user: r.agent?.user ?? null,
    instance: r.agent?.instance ?? null,
    thumbprint: r.thumbprint,
    alg: r.alg,
    created: r.created,
    lastUsed: r.lastUsed,
    keyId: r.keyId,
    publicJwk: r.publicJwk,
  };
}

function renderKeys(keys: readonly KeyRecord[]): string {
  const rows = [['AGENT', 'ALG', 'THUMBPRINT (RFC 7638)', 'CREATED', 'LAST USED'], ...keys.map((r) => [r.purpose === 'device' ? '(device)' : r.ownerId, r.alg, r.thumbprint, shortTime(r.created), r.lastUsed ? shortTime(r.lastUsed) : 'never'])];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function caJson(ca: RootCa): Record<string, unknown> {
  return {
    serial: ca.serial,
    subject: ca.certificate.subject,
    sha256: ca.fingerprint256,
    notBefore: ca.notBefore.toISOString(),
    notAfter: ca.notAfter.toISOString(),
    certificate: ca.certFile,
  };
}

/** `cordon keys ...`, `cordon dpop ...`, `cordon ca ...`: the identity issue's verbs. */
import { parseAgentSelector, selectorMatches, currentUser } from '../../identity/agentIdentity.ts';
import { createAgentKeyManager, type AgentKeyManager } from '../../identity/agentKeys.ts';
import { defaultBundlePath, ensureRootCa, exportCaBundle, rotateRootCa, caBundlePem, type CaOptions, type RootCa } from '../../identity/ca/rootCa.ts';
import { createDpopProof } from '../../identity/dpop/proof.ts';
import type { SigningAlgorithm } from '../../identity/jws.ts';
import type { KeyRecord } from '../../identity/keyRecords.ts';
import { createOsKeyStore, DEFAULT_KEYCHAIN_SERVICE, type KeyStore } from '../../identity/keyStore.ts';
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

export const identityCommands: readonly Command[] = [keysList, keysRotate, keysRemove, dpopProof, caShow, caExport, caRotate];

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

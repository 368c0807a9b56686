/**
 * `cordon credentials set|list|remove`: upstream tokens the proxy attaches as DPoP-bound
 * credentials, kept in the OS keychain and bound to the hosts they may be sent to.
 */
import { createCredentialStore } from '../../identity/credentials.ts';
import { flag, requireOption, UsageError, writeJson, type Command, type CommandContext } from '../command.ts';
import { keyStoreFor } from './identity.ts';

const set: Command = {
  name: 'credentials set',
  summary: 'store an upstream token (read from stdin) that the proxy sends, DPoP-bound, to the given hosts',
  usage: '--name NAME --host HOST [--host HOST]...   (token on stdin)',
  options: { name: { type: 'string' }, host: { type: 'string', multiple: true } },
  async run(ctx, args) {
    const name = requireOption(args, 'name');
    const hosts = (args.values.host as string[] | undefined) ?? [];
    if (hosts.length === 0) throw new UsageError('give at least one --host the credential may be sent to');
    const token = (await readStdin()).trim();
    if (!token) throw new UsageError('pipe the token on stdin, e.g. printf %s "$TOKEN" | cordon credentials set ...');
    const record = await store(ctx).set(name, token, hosts);
    ctx.stdout.write(`stored credential '${record.name}' for ${record.hosts.join(', ')} in the OS keychain\n`);
    return 0;
  },
};

const list: Command = {
  name: 'credentials list',
  summary: 'list stored upstream credentials (names and hosts, never the tokens)',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx, args) {
    const records = await store(ctx).list();
    if (flag(args, 'json')) writeJson(ctx.stdout, records);
    else if (records.length === 0) ctx.stdout.write('no credentials stored\n');
    else for (const r of records) ctx.stdout.write(`${r.name}  ${r.hosts.join(', ')}  (stored ${r.created})\n`);
    return 0;
  },
};

const remove: Command = {
  name: 'credentials remove',
  summary: 'delete a stored upstream credential from the keychain',
  usage: '--name NAME',
  options: { name: { type: 'string' } },
  async run(ctx, args) {
    const name = requireOption(args, 'name');
    const removed = await store(ctx).remove(name);
    ctx.stdout.write(removed ? `removed credential '${name}'\n` : `no credential '${name}'\n`);
    return removed ? 0 : 1;
  },
};

export const credentialCommands: readonly Command[] = [set, list, remove];

function store(ctx: CommandContext) {
  return createCredentialStore(keyStoreFor(ctx), ctx.paths.dataDir);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('the token is read from stdin; pipe it in');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new UsageError('the token is longer than 16 KiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

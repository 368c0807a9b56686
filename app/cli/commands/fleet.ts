/**
 * Fleet verbs: `cordon enroll` (in-process: device key and token in the OS keychain, device id in
 * the database, the server URL in the user settings) and `cordon sync status|now`. A sync run
 * from the CLI is safe next to a running daemon: uploads are idempotent.
 */
import { readFile } from 'node:fs/promises';
import { CoreError } from '../../api/errors.ts';
import type { Settings } from '../../api/settings.ts';
import { loadSettings, setUserSetting } from '../../config/settings.ts';
import { createAgentKeyManager } from '../../identity/agentKeys.ts';
import { createOsKeyStore, DEFAULT_KEYCHAIN_SERVICE, type KeyStore } from '../../identity/keyStore.ts';
import { openDatabase } from '../../store/database.ts';
import { createEventStore } from '../../store/eventStore.ts';
import { checkServerUrl, enrollDevice, enrollSecretFrom } from '../../sync/enroll.ts';
import { createHttpFetch } from '../../sync/httpFetch.ts';
import { createSyncClient, type SyncClient, type SyncStatus } from '../../sync/syncClient.ts';
import { silentLogger } from '../../util/log.ts';
import { flag, stringOption, UsageError, writeJson, type Command, type CommandContext } from '../command.ts';
import { cordonVersion } from '../../util/version.ts';

const enroll: Command = {
  name: 'enroll',
  summary: 'enroll this device with a fleet server (once); the access token goes to the OS keychain',
  usage: '--server URL (--secret S | --secret-file FILE) [--json]   (defaults: fleetServerUrl and enrollSecret[File] from settings)',
  options: { server: { type: 'string' }, secret: { type: 'string' }, 'secret-file': { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const report = await loadSettings({ paths: ctx.paths, env: ctx.env, platform: process.platform });
    const settings = report.effective;
    const server = checkServerUrl(stringOption(args, 'server') || settings.fleetServerUrl || missing('--server'));
    const secret = await secretFrom(ctx, stringOption(args, 'secret'), stringOption(args, 'secret-file'), settings);
    const configured = settings.fleetServerUrl ? checkServerUrl(settings.fleetServerUrl) : '';
    if (configured !== server) {
      // The daemon syncs with the configured server: make it this one (refused when IT locked another).
      await setUserSetting({ paths: ctx.paths, env: ctx.env, platform: process.platform }, 'fleetServerUrl', server);
    }
    const keyStore = keyStoreFor(ctx);
    const db = openDatabase(ctx.paths.databaseFile);
    const fetch = createHttpFetch({ env: ctx.env });
    try {
      const keyManager = createAgentKeyManager({ keyStore, dataDir: ctx.paths.dataDir });
      const enrolled = await enrollDevice({ db, keyManager, keyStore, serverUrl: server, secret, fetch, agentVersion: cordonVersion() });
      await keyManager.flush();
      if (flag(args, 'json')) writeJson(ctx.stdout, enrolled);
      else ctx.stdout.write(`enrolled with ${enrolled.serverUrl} as device ${enrolled.deviceId} (key ${enrolled.keyThumbprint})\n`);
      return 0;
    } finally {
      fetch.close();
      db.close();
    }
  },
};

const syncStatus: Command = {
  name: 'sync status',
  summary: 'fleet sync state: enrollment, outbox, last success and error, policy version',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx, args) {
    return withClient(ctx, async (client) => {
      const status = client.status();
      if (flag(args, 'json')) writeJson(ctx.stdout, status);
      else ctx.stdout.write(formatStatus(status));
      return 0;
    });
  },
};

const syncNow: Command = {
  name: 'sync now',
  summary: 'sync with the fleet server now (policy, audit events, inventory)',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx, args) {
    return withClient(ctx, async (client) => {
      const result = await client.syncNow();
      if (flag(args, 'json')) writeJson(ctx.stdout, { ...result, status: client.status() });
      else if (result.ok) ctx.stdout.write(`${result.phase}: ${result.sent} event(s) sent${result.duplicates ? `, ${result.duplicates} already on the server` : ''}, ${result.pending} pending\n`);
      else ctx.stderr.write(`sync failed (${result.phase}): ${result.error ?? 'unknown error'}\n`);
      return result.ok ? 0 : 1;
    });
  },
};

export const fleetCommands: readonly Command[] = [enroll, syncStatus, syncNow];

async function withClient(ctx: CommandContext, fn: (client: SyncClient) => Promise<number>): Promise<number> {
  const report = await loadSettings({ paths: ctx.paths, env: ctx.env, platform: process.platform });
  const keyStore = keyStoreFor(ctx);
  const db = openDatabase(ctx.paths.databaseFile);
  const store = createEventStore(db);
  const keyManager = createAgentKeyManager({ keyStore, dataDir: ctx.paths.dataDir });
  const client = createSyncClient({
    db, paths: ctx.paths, settings: () => report.effective, inventory: () => store.latestInventory(), keyManager, keyStore, log: silentLogger, env: ctx.env,
    agentVersion: cordonVersion(),
  });
  try {
    return await fn(client);
  } finally {
    await client.stop();
    await keyManager.flush().catch(() => undefined);
    db.close();
  }
}

async function secretFrom(ctx: CommandContext, inline: string | undefined, file: string | undefined, settings: Settings): Promise<string> {
  if (inline !== undefined && file !== undefined) throw new UsageError('give --secret or --secret-file, not both');
  if (inline !== undefined) return inline;
  if (file !== undefined) {
    const path = file.startsWith('/') ? file : `${ctx.cwd}/${file}`;
    try {
      const text = (await readFile(path, 'utf8')).trim();
      if (text.length === 0 || text.length > 4096) throw new UsageError(`${file} does not hold an enroll secret`);
      return text;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new CoreError('ERR_NOT_FOUND', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return (await enrollSecretFrom(settings)) ?? missing('--secret or --secret-file (or the enrollSecret setting)');
}

function formatStatus(s: SyncStatus): string {
  const lines = [
    `phase:          ${s.phase}`,
    `server:         ${s.serverUrl ?? '-'}${s.configuredServerUrl && s.configuredServerUrl !== s.serverUrl ? ` (settings say ${s.configuredServerUrl})` : ''}`,
    `device:         ${s.deviceId ?? 'not enrolled'}${s.keyThumbprint ? ` (key ${s.keyThumbprint})` : ''}`,
    `outbox:         ${s.outbox.pending} event(s) pending (${s.outbox.decisions} decisions, ${s.outbox.bytes} bytes)${s.outbox.backpressure ? ', FULL: waiting for the server' : ''}`,
    `acknowledged:   through seq ${s.outbox.ackedCursor}; dropped so far: ${s.outbox.droppedTotal}`,
    `last success:   ${s.lastSuccessAt ?? 'never'}`,
    `last attempt:   ${s.lastAttemptAt ?? 'never'}${s.consecutiveFailures ? ` (${s.consecutiveFailures} failure(s) in a row, next at ${s.nextAttemptAt ?? '-'})` : ''}`,
    `last error:     ${s.lastError ?? '-'}`,
    `policy:         ${s.policyVersion === null ? 'none' : `version ${s.policyVersion}`}${s.policyAppliedVersion !== null ? ` (applied ${s.policyAppliedVersion})` : ''}`,
    `proxy:          ${s.proxy ?? 'direct'}`,
    `buffer policy:  ${s.bufferPolicy}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The keychain service: CORDON_KEYCHAIN_SERVICE keeps tests apart from the user's keys. */
function keyStoreFor(ctx: CommandContext): KeyStore {
  return createOsKeyStore({ service: ctx.env.CORDON_KEYCHAIN_SERVICE || DEFAULT_KEYCHAIN_SERVICE });
}

function missing(what: string): never {
  throw new UsageError(`${what} is required`);
}

/**
 * `npm run server -- <verb>`: the fleet server's command line. `serve` runs the HTTP server on
 * SQLite (default) or PostgreSQL; `enroll-secret create|list|revoke` and `admin-token create`
 * manage credentials directly in the database. Logs are one JSON object per line.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { CONSOLE_ROLES, type ConsoleRole } from '../app/api/fleetConsole.ts';
import { AccountError } from './store/accounts.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { CoreError } from '../app/api/errors.ts';
import { createLogger, type Logger, type LogLevel } from '../app/util/log.ts';
import { createFleetServer } from './app.ts';
import { parseTrustedProxies, type TrustedProxies } from './http/clientAddress.ts';
import { openFleetStore, parseDatabaseLocation, type DatabaseLocation, type FleetStore } from './store/fleetStore.ts';

export type CliIo = Readonly<{ stdout: Writable; stderr: Writable; env: NodeJS.ProcessEnv; /** Where `user create|password` read the password when no --password-file is given. */ stdin?: Readable & { isTTY?: boolean } }>;

const DEFAULT_DB = 'sqlite:cordon-fleet.db';
const DEFAULT_PORT = 8790;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

const USAGE = `usage: npm run server -- <command> [options]

  serve [--db DB] [--port N] [--host ADDR] [--workers N] [--public-url URL] [--tls-cert FILE --tls-key FILE]
        [--trusted-proxies LIST] [--log-level LEVEL]
  enroll-secret create [--db DB] [--label TEXT] [--expires-days N] [--max-uses N] [--json]
  enroll-secret list [--db DB] [--json]
  enroll-secret revoke ID [--db DB]
  admin-token create [--db DB] [--label TEXT]
  user create --username NAME [--role viewer|admin] [--password-file FILE] [--db DB]
  user password NAME [--password-file FILE] [--db DB]
  user list [--db DB] [--json]
  user disable NAME | user enable NAME [--db DB]

Console users sign in to the web console. Without --password-file, the password is read from the
first line of standard input (pipe it in; it never goes on the command line).

DB is sqlite:PATH (default ${DEFAULT_DB}) or postgres://USER:PASSWORD@HOST:PORT/NAME;
CORDON_FLEET_DB sets it without putting a password on the command line. --workers N runs N server
processes on one port (one per core); they share everything through the database.
--trusted-proxies (or CORDON_FLEET_TRUSTED_PROXIES) lists the reverse proxies in front of the
server, as IP addresses or CIDR ranges separated by commas: for requests from them, the sign-in
rate limit and the logs use the client address in X-Forwarded-For.
`;

const DB_OPTION = { db: { type: 'string' } } as const;

/** Runs one command; resolves with the exit code (serve resolves when the server stops). */
export async function runServerCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [verb, sub] = argv;
  try {
    if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
      io.stdout.write(USAGE);
      return verb === undefined ? 2 : 0;
    }
    if (verb === 'serve') return await serve(parse(argv.slice(1), { ...DB_OPTION, port: { type: 'string' }, host: { type: 'string' }, 'public-url': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'log-level': { type: 'string' }, workers: { type: 'string' }, 'trusted-proxies': { type: 'string' } }), io);
    if (verb === 'enroll-secret' && sub === 'create') {
      const a = parse(argv.slice(2), { ...DB_OPTION, label: { type: 'string' }, 'expires-days': { type: 'string' }, 'max-uses': { type: 'string' }, json: { type: 'boolean' } });
      return await withStore(a, io, async (store) => {
        const days = intOption(a.values['expires-days'], 'expires-days', 1, 3650);
        const maxUses = intOption(a.values['max-uses'], 'max-uses', 1, 10_000_000);
        const label = str(a.values.label);
        const { info, secret } = await store.credentials.createEnrollSecret({ ...(label ? { label } : {}), ...(days ? { expiresAt: Date.now() + days * 86_400_000 } : {}), ...(maxUses ? { maxUses } : {}) }, Date.now());
        if (a.values.json === true) io.stdout.write(`${JSON.stringify({ ...info, secret })}\n`);
        else io.stdout.write(`${secret}\n`);
        io.stderr.write(`enroll secret ${info.id} created; it is shown only once. Distribute it with MDM as the enrollSecret (or enrollSecretFile) setting.\n`);
        return 0;
      });
    }
    if (verb === 'enroll-secret' && sub === 'list') {
      const a = parse(argv.slice(2), { ...DB_OPTION, json: { type: 'boolean' } });
      return await withStore(a, io, async (store) => {
        const secrets = await store.credentials.listEnrollSecrets();
        if (a.values.json === true) io.stdout.write(`${JSON.stringify(secrets, null, 2)}\n`);
        else for (const s of secrets) io.stdout.write(`${s.id}\t${s.revokedAt ? 'revoked' : 'active'}\tuses ${s.uses}${s.maxUses !== null ? `/${s.maxUses}` : ''}\t${s.expiresAt ? `expires ${s.expiresAt}` : 'no expiry'}\t${s.label ?? ''}\n`);
        return 0;
      });
    }
    if (verb === 'enroll-secret' && sub === 'revoke') {
      const a = parse(argv.slice(2), DB_OPTION, true);
      const id = a.positionals[0];
      if (!id || a.positionals.length > 1) throw new UsageError('enroll-secret revoke takes one secret id');
      return await withStore(a, io, async (store) => {
        if (!(await store.credentials.revokeEnrollSecret(id, Date.now()))) {
          io.stderr.write(`no active enroll secret ${id}\n`);
          return 1;
        }
        io.stdout.write(`revoked ${id}\n`);
        return 0;
      });
    }
    if (verb === 'admin-token' && sub === 'create') {
      const a = parse(argv.slice(2), { ...DB_OPTION, label: { type: 'string' } });
      return await withStore(a, io, async (store) => {
        const { id, token } = await store.credentials.createAdminToken(str(a.values.label) ?? null, Date.now());
        io.stdout.write(`${token}\n`);
        io.stderr.write(`admin token ${id} created; it is shown only once. Send it as "Authorization: Bearer <token>" to /admin/v1/ (for scripts; people sign in to the web console).\n`);
        return 0;
      });
    }
    if (verb === 'user') return await userCommand(sub, argv.slice(2), io);
    throw new UsageError(`unknown command '${[verb, sub].filter(Boolean).join(' ')}'`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`cordon-server: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof CoreError) {
      io.stderr.write(`cordon-server: ${error.message} (${error.code})\n`);
      return 1;
    }
    if (error instanceof AccountError) {
      io.stderr.write(`cordon-server: ${error.message}\n`);
      return 1;
    }
    io.stderr.write(`cordon-server: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

class UsageError extends Error {}

function parse(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>, positionals = false): Parsed {
  const parsed = parseArgs({ args: [...args], options, allowPositionals: positionals, strict: true });
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function intOption(value: string | boolean | undefined, name: string, min: number, max: number): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return Number(text);
}

/** `user create|password|list|disable|enable`: console accounts, straight in the database. */
async function userCommand(sub: string | undefined, args: readonly string[], io: CliIo): Promise<number> {
  const now = Date.now();
  if (sub === 'create') {
    const a = parse(args, { ...DB_OPTION, username: { type: 'string' }, role: { type: 'string' }, 'password-file': { type: 'string' } });
    const username = str(a.values.username);
    if (!username) throw new UsageError('user create needs --username');
    const role = str(a.values.role) ?? 'viewer';
    if (!(CONSOLE_ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${CONSOLE_ROLES.join(', ')}`);
    const password = await readPassword(a, io);
    return await withStore(a, io, async (store) => {
      const user = await store.accounts.createUser({ username, password, role: role as ConsoleRole }, now);
      io.stdout.write(`created ${user.role} ${user.username} (${user.id})\n`);
      return 0;
    });
  }
  if (sub === 'password') {
    const a = parse(args, { ...DB_OPTION, 'password-file': { type: 'string' } }, true);
    const name = a.positionals[0];
    if (!name || a.positionals.length > 1) throw new UsageError('user password takes one username');
    const password = await readPassword(a, io);
    return await withStore(a, io, async (store) => {
      if (!(await store.accounts.setPassword(name, password, now))) {
        io.stderr.write(`no user ${name}\n`);
        return 1;
      }
      io.stdout.write(`password set for ${name.toLowerCase()}; their sessions ended\n`);
      return 0;
    });
  }
  if (sub === 'list') {
    const a = parse(args, { ...DB_OPTION, json: { type: 'boolean' } });
    return await withStore(a, io, async (store) => {
      const users = await store.accounts.listUsers();
      if (a.values.json === true) io.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
      else for (const u of users) io.stdout.write(`${u.username}\t${u.role}\t${u.disabledAt ? 'disabled' : 'enabled'}\tlast sign-in ${u.lastSignInAt ?? 'never'}\n`);
      return 0;
    });
  }
  if (sub === 'disable' || sub === 'enable') {
    const a = parse(args, DB_OPTION, true);
    const name = a.positionals[0];
    if (!name || a.positionals.length > 1) throw new UsageError(`user ${sub} takes one username`);
    return await withStore(a, io, async (store) => {
      const user = (await store.accounts.listUsers()).find((u) => u.username === name.toLowerCase());
      if (!user || !(await store.accounts.setDisabled(user.id, sub === 'disable', now))) {
        io.stderr.write(`no user ${name}\n`);
        return 1;
      }
      io.stdout.write(`${sub}d ${user.username}\n`);
      return 0;
    });
  }
  throw new UsageError(`unknown command 'user${sub ? ` ${sub}` : ''}'`);
}

async function readPassword(a: Parsed, io: CliIo): Promise<string> {
  const file = str(a.values['password-file']);
  let text: string;
  if (file) text = readFileSync(file, 'utf8');
  else {
    if (!io.stdin || io.stdin.isTTY) throw new UsageError('pipe the password on standard input, or pass --password-file FILE');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of io.stdin as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 64 * 1024) throw new UsageError('the password input is too long');
      chunks.push(chunk);
    }
    text = Buffer.concat(chunks).toString('utf8');
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '') throw new UsageError('the password is empty');
  return password;
}

function databaseOf(a: Parsed, io: CliIo): string {
  return str(a.values.db) ?? (io.env.CORDON_FLEET_DB || DEFAULT_DB);
}

async function withStore(a: Parsed, io: CliIo, fn: (store: FleetStore) => Promise<number>): Promise<number> {
  const store = await openFleetStore(parseDatabaseLocation(databaseOf(a, io)));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function serve(a: Parsed, io: CliIo): Promise<number> {
  const levelText = str(a.values['log-level']) ?? 'info';
  if (!LOG_LEVELS.includes(levelText as LogLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const log = createLogger(io.stdout, levelText as LogLevel, { service: 'cordon-fleet' });
  const port = intOption(a.values.port, 'port', 0, 65535) ?? (io.env.PORT ? intOption(io.env.PORT, 'port', 0, 65535) : undefined) ?? DEFAULT_PORT;
  const host = str(a.values.host) ?? '127.0.0.1';
  const certFile = str(a.values['tls-cert']);
  const keyFile = str(a.values['tls-key']);
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const tls = certFile && keyFile ? { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') } : undefined;
  let trustedProxies: TrustedProxies;
  try {
    trustedProxies = parseTrustedProxies((str(a.values['trusted-proxies']) ?? io.env.CORDON_FLEET_TRUSTED_PROXIES ?? '').split(','));
  } catch (error) {
    throw new UsageError(`--trusted-proxies: ${(error as Error).message}`);
  }
  const location = parseDatabaseLocation(databaseOf(a, io));
  const workers = intOption(a.values.workers, 'workers', 1, 64) ?? 1;
  if (workers > 1 && cluster.isPrimary) return supervise(workers, location, log);
  if (cluster.isWorker) process.once('disconnect', () => process.exit(0)); // the primary is gone
  const store = await openFleetStore(location, { log });
  const publicUrl = str(a.values['public-url']);
  const fleet = createFleetServer({ store, log, trustedProxies, ...(publicUrl ? { publicUrl } : {}), ...(tls ? { tls } : {}) });
  let url: string;
  try {
    url = await fleet.listen(port, host);
  } catch (error) {
    await store.close();
    throw new CoreError('ERR_INTERNAL', `cannot listen on ${host}:${port}: ${(error as Error).message}`, { cause: error });
  }
  log.info('listening', { url, port: Number(new URL(url).port), database: store.description, pid: process.pid, trustedProxies: trustedProxies.size });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      // A terminal's Ctrl-C reaches every process of the group, and the primary forwards it too.
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      fleet
        .close()
        .then(() => store.close())
        .then(() => 0, (error: unknown) => {
          log.error('shutdown failed', { error });
          return 1;
        })
        .then((code) => {
          // A cluster worker's IPC channel would keep it alive: let go of it.
          if (cluster.isWorker) cluster.worker?.disconnect();
          resolve(code);
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

/**
 * The primary of `serve --workers N`: migrates once, forks N workers that share the port (each
 * with its own database connections), replaces a worker that dies, and stops them on SIGTERM.
 */
async function supervise(workers: number, location: DatabaseLocation, log: Logger): Promise<number> {
  await (await openFleetStore(location, { log })).close();
  let stopping = false;
  let restarts = 0;
  const fork = (): void => {
    cluster.fork();
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    restarts++;
    log.error('worker exited; starting another', { pid: worker.process.pid, code, signal, restarts });
    setTimeout(fork, Math.min(30_000, 100 * 2 ** Math.min(restarts, 8))).unref();
  });
  for (let i = 0; i < workers; i++) fork();
  log.info('started workers', { workers, pid: process.pid });
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
      if (alive.length === 0) return resolve(0);
      let left = alive.length;
      for (const w of alive) {
        w.once('exit', () => {
          if (--left === 0) resolve(0);
        });
        w.process.kill(signal);
      }
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

if (import.meta.main) {
  process.exitCode = await runServerCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin });
}

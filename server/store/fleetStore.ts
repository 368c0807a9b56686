/**
 * The fleet server's data layer: opens SQLite (a file path or `sqlite:PATH`) or PostgreSQL
 * (`postgres://...`), brings the schema up to date, and exposes the stores the HTTP layer uses.
 * Everything shared between server processes (replay cache, nonces, cursors) lives here.
 */
import { resolve } from 'node:path';
import { CoreError } from '../../app/api/errors.ts';
import type { Logger } from '../../app/util/log.ts';
import { createAccounts, type Accounts } from './accounts.ts';
import { createConsoleQueries, type ConsoleQueries } from './consoleQueries.ts';
import { createCredentials, type Credentials } from './credentials.ts';
import { createDevices, type Devices } from './devices.ts';
import { createDpopStores, type DpopStores } from './dpopStores.ts';
import type { SqlDriver } from './driver.ts';
import { createEvents, type Events } from './events.ts';
import { createFleetQueries, type FleetQueries } from './fleetQueries.ts';
import { createInventories, type Inventories } from './inventory.ts';
import { migrateFleetStore } from './migrations.ts';
import { createPolicies, type Policies } from './policies.ts';
import { openPostgresDriver, redactUrl } from './postgresDriver.ts';
import { createSqliteQueue, openSqliteDriver } from './sqliteDriver.ts';

export type FleetStore = Readonly<{
  driver: SqlDriver;
  /** The database location without credentials (for logs). */
  description: string;
  credentials: Credentials;
  /** Console users, sign-in and sessions. */
  accounts: Accounts;
  devices: Devices;
  events: Events;
  inventories: Inventories;
  policies: Policies;
  queries: FleetQueries;
  /** The console's overview and timeline. */
  consoleQueries: ConsoleQueries;
  dpop: DpopStores;
  close(): Promise<void>;
}>;

export type DatabaseLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** `sqlite:PATH`, a bare path, or `postgres://` / `postgresql://` URL. */
export function parseDatabaseLocation(text: string): DatabaseLocation {
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      new URL(text);
    } catch {
      throw new CoreError('ERR_BAD_REQUEST', 'the PostgreSQL URL does not parse');
    }
    return { kind: 'postgres', url: text };
  }
  const file = text.startsWith('sqlite:') ? text.slice('sqlite:'.length) : text;
  if (file === '') throw new CoreError('ERR_BAD_REQUEST', '--db needs a SQLite file path or a postgres:// URL');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) throw new CoreError('ERR_BAD_REQUEST', `unsupported database URL scheme in '${redactUrl(file)}' (use sqlite:PATH or postgres://)`);
  return { kind: 'sqlite', file: file === ':memory:' ? file : resolve(file) };
}

export async function openFleetStore(location: DatabaseLocation, options: Readonly<{ log?: Logger }> = {}): Promise<FleetStore> {
  const queue = createSqliteQueue();
  const driver = location.kind === 'sqlite' ? openSqliteDriver(location.file, { queue }) : await openPostgresDriver({ url: location.url, ...(options.log ? { log: options.log } : {}) });
  let fast: SqlDriver = driver;
  try {
    await migrateFleetStore(driver);
    // SQLite: replay ids and nonces need no fsync per commit (see SqliteDriverOptions).
    if (location.kind === 'sqlite' && location.file !== ':memory:') fast = openSqliteDriver(location.file, { synchronous: 'NORMAL', queue });
  } catch (error) {
    await driver.close().catch(() => undefined);
    if (error instanceof CoreError) throw error;
    throw new CoreError('ERR_STORE', `cannot prepare the fleet database: ${(error as Error).message}`, { cause: error });
  }
  const credentials = createCredentials(driver);
  return {
    driver,
    description: location.kind === 'sqlite' ? `sqlite:${location.file}` : redactUrl(location.url),
    credentials,
    accounts: createAccounts(driver),
    devices: createDevices(driver, credentials),
    events: createEvents(driver),
    inventories: createInventories(driver),
    policies: createPolicies(driver),
    queries: createFleetQueries(driver),
    consoleQueries: createConsoleQueries(driver),
    dpop: createDpopStores(fast),
    async close() {
      if (fast !== driver) await fast.close();
      await driver.close();
    },
  };
}

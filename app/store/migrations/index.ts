/** The ordered list of database migrations. Append only: never edit one that has shipped. */
import type Database from 'better-sqlite3';
import { migration0001 } from './0001-inventory-events.ts';
import { migration0002 } from './0002-audit-chain.ts';
import { migration0003 } from './0003-sync-outbox.ts';

export type Migration = Readonly<{ version: number; name: string; up(db: Database.Database): void }>;

export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003];

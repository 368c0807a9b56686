/**
 * opencode's project registry: the `project.worktree` column of its SQLite store
 * (~/.local/share/opencode/opencode*.db, opened read-only with a short busy timeout) and the JSON
 * files older versions kept in storage/project/. Regular files only: a FIFO or device is skipped.
 */
import { join } from 'node:path';
import type { DiscoveryContext } from '../context.ts';
import type { ConfigStore } from './configStore.ts';
import { entryType, type FsIndex } from './fsIndex.ts';
import { isRecord } from './model.ts';

const CLIENT = 'opencode';
const MAX_ROWS = 5_000;
/** SQLite's busy wait blocks the thread, so it stays short whatever the per-file timeout is. */
const MAX_BUSY_MS = 250;

type SqliteDatabase = {
  prepare(sql: string): { all(): unknown[] };
  close(): void;
};
type SqliteConstructor = new (path: string, options: { readonly: boolean; fileMustExist: boolean; timeout: number }) => SqliteDatabase;

/** $XDG_DATA_HOME/opencode, else ~/.local/share/opencode (opencode uses XDG paths on every OS). */
export function opencodeDataDir(ctx: DiscoveryContext): string {
  return join(ctx.env.XDG_DATA_HOME ?? join(ctx.home, '.local', 'share'), 'opencode');
}

/** Project worktrees opencode has recorded (database and JSON files); errors go to the store. */
export async function opencodeProjects(ctx: DiscoveryContext, store: ConfigStore, fs: FsIndex): Promise<string[]> {
  const dir = opencodeDataDir(ctx);
  const listing = await fs.list(dir);
  const out: string[] = [];
  if (listing.kind === 'ok') {
    const databases = listing.names.filter((name) => /^opencode.*\.db$/.test(name) && entryType(listing, name) === 'file');
    for (const name of databases.slice(0, 10)) out.push(...(await readDatabase(join(dir, name), ctx, store)));
  }
  // The database changes on every session, so it is not watched; new projects arrive with the next rescan.
  const storage = join(dir, 'storage', 'project');
  const walked = await fs.walk(storage, { maxDepth: 0, match: (name) => name.endsWith('.json'), maxDirs: 1 });
  const docs = await Promise.all(walked.files.slice(0, MAX_ROWS).map((file) => store.load(file, 'json', CLIENT)));
  for (const loaded of docs) {
    if (loaded.kind === 'ok' && isRecord(loaded.value) && typeof loaded.value.worktree === 'string') out.push(loaded.value.worktree);
  }
  return out;
}

async function readDatabase(path: string, ctx: DiscoveryContext, store: ConfigStore): Promise<string[]> {
  let Database: SqliteConstructor;
  try {
    Database = ((await import('better-sqlite3')) as unknown as { default: SqliteConstructor }).default;
  } catch {
    store.error({ path, category: 'io', message: 'SQLite support (better-sqlite3) is not available', client: CLIENT });
    return [];
  }
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: Math.min(ctx.fileTimeoutMs, MAX_BUSY_MS) });
    const rows = db.prepare(`SELECT worktree FROM project LIMIT ${MAX_ROWS}`).all();
    return rows.flatMap((row) => (isRecord(row) && typeof row.worktree === 'string' && row.worktree !== '/' ? [row.worktree] : []));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const text = typeof code === 'string' ? code : 'unknown error';
    if (text === 'SQLITE_ERROR') return []; // no project table: another schema version
    const category = text === 'SQLITE_BUSY' || text === 'SQLITE_LOCKED' ? 'timeout' : text === 'SQLITE_CANTOPEN' || text === 'SQLITE_PERM' ? 'permission' : 'parse';
    store.error({ path, category, message: `opencode database could not be read (${text})`, client: CLIENT });
    return [];
  } finally {
    try {
      db?.close();
    } catch {
      // closing a failed handle: nothing more to do
    }
  }
}

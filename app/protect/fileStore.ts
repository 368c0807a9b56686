/**
 * Cordon's careful file IO for agents' settings: bounded reads with a content hash, atomic writes
 * (temp file + rename, through symlinks) that refuse to replace a file changed since it was read,
 * and the backups and records that let `unprotect` restore a file byte for byte.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isProtectAgent, ProtectRefusal, type ProtectRecord, type ProtectScope } from './types.ts';

/** Agents' settings files are small; a larger one is refused rather than rewritten. */
export const MAX_SETTINGS_BYTES = 4 * 1024 * 1024;

export type Snapshot = Readonly<{ text: string | null; hash: string | null }>;

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The file's text and hash, or nulls when it does not exist. */
export async function readSnapshot(path: string): Promise<Snapshot> {
  let buf: Buffer;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ProtectRefusal(`${path} is not a regular file`);
    if (st.size > MAX_SETTINGS_BYTES) throw new ProtectRefusal(`${path} is larger than ${MAX_SETTINGS_BYTES} bytes`);
    buf = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: null, hash: null };
    if (error instanceof ProtectRefusal) throw error;
    throw new ProtectRefusal(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const text = buf.toString('utf8');
  return { text, hash: sha256(text) };
}

/**
 * Replaces the file with `text` (or deletes it for null), only if it still hashes to `expected`
 * (null = must not exist). Returns "changed" without touching it otherwise.
 */
export async function writeChecked(path: string, text: string | null, expected: string | null, newMode = 0o644): Promise<'ok' | 'changed'> {
  const target = await resolveTarget(path);
  if (text === null) {
    if ((await readSnapshot(target)).hash !== expected) return 'changed';
    await rm(target, { force: true });
    return 'ok';
  }
  await mkdir(dirname(target), { recursive: true });
  let mode = newMode;
  try {
    mode = (await stat(target)).mode & 0o777;
  } catch {
    // A new file.
  }
  const tmp = join(dirname(target), `.${basename(target)}.cordon-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { mode, flag: 'wx' });
    await chmod(tmp, mode);
    // The last check before the rename: a file edited since it was read is never overwritten.
    if ((await readSnapshot(target)).hash !== expected) {
      await unlink(tmp);
      return 'changed';
    }
    await rename(tmp, target);
    return 'ok';
  } catch (error) {
    await rm(tmp, { force: true });
    if (error instanceof ProtectRefusal) throw error;
    throw new ProtectRefusal(`cannot write ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Where Cordon keeps the record for one agent and scope. */
export function recordPath(stateDir: string, agent: string, scope: ProtectScope): string {
  return join(stateDir, `${agent}.${scope}.json`);
}

export async function readRecord(stateDir: string, agent: string, scope: ProtectScope): Promise<ProtectRecord | null> {
  try {
    const value = JSON.parse(await readFile(recordPath(stateDir, agent, scope), 'utf8')) as ProtectRecord;
    if (value?.version !== 1 || !isProtectAgent(value.agent) || !Array.isArray(value.files)) return null;
    return value;
  } catch {
    return null;
  }
}

export async function writeRecord(stateDir: string, record: ProtectRecord): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = recordPath(stateDir, record.agent, record.scope);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

export async function deleteRecord(stateDir: string, record: ProtectRecord): Promise<void> {
  for (const file of record.files) if (file.backup) await rm(file.backup, { force: true });
  await rm(recordPath(stateDir, record.agent, record.scope), { force: true });
}

/** Saves the original text of a file before Cordon's first edit; returns the backup's path. */
export async function writeBackup(stateDir: string, agent: string, scope: ProtectScope, path: string, text: string): Promise<string> {
  const dir = join(stateDir, 'backups');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${agent}.${scope}.${sha256(path).slice(0, 12)}.${basename(path)}.bak`);
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

export async function readBackup(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/** Writes go to the file a symlink points at, so a dotfile manager's link survives. */
async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

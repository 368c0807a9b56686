/**
 * Small private JSON files for identity metadata (keys.json, ca/ca.json): atomic writes (temp
 * file, fsync, rename) with mode 0600, and a lock file so the daemon and a CLI command never
 * interleave a read-modify-write. Never used for secrets: those live in the keychain.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreError } from '../api/errors.ts';

const LOCK_WAIT_MS = 5_000;
const LOCK_STALE_MS = 60_000;
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** The parsed file, or null when it does not exist. Corrupt JSON is ERR_STORE. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    const st = await stat(path);
    if (st.size > MAX_FILE_BYTES) throw new CoreError('ERR_STORE', `${path} is too large (${st.size} bytes)`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (error instanceof CoreError) throw error;
    throw new CoreError('ERR_STORE', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CoreError('ERR_STORE', `${path} is not valid JSON`, { cause: error });
  }
}

/** Writes JSON atomically with mode 0600, creating the directory (0700) if needed. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes text atomically (temp + fsync + rename) with the given mode. */
export async function writePrivateFile(path: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new CoreError('ERR_STORE', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Runs fn while holding `<path>.lock` (created exclusively). A lock older than 60 s is taken
 * over: its holder crashed. Waits at most 5 s, then fails with ERR_STORE.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = `${path}.lock`;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CoreError('ERR_STORE', `cannot lock ${path}: ${(error as Error).message}`, { cause: error });
      }
      const age = await stat(lockPath).then((st) => Date.now() - st.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new CoreError('ERR_STORE', `${path} is locked by another Cordon process (${lockPath})`);
      await sleep(Math.min(5 + attempt * 5, 50));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

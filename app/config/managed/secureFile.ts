/**
 * Reads an IT-managed file (Linux managed.json, macOS managed-preferences plist) safely: bounded,
 * never blocking on a FIFO, and (unless the path was overridden for tests) only when root owns it
 * and its directory and no group or other user can write them, as Gemini CLI does for its admin files.
 */
import { constants } from 'node:fs';
import { lstat, open, realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from '../../discovery/safeRead.ts';

/** A managed settings file is small; anything bigger is refused. */
export const MAX_MANAGED_FILE_BYTES = 1024 * 1024;

export type ManagedFileRead =
  | { readonly kind: 'ok'; readonly bytes: Buffer }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreadable'; readonly message: string }
  | { readonly kind: 'insecure'; readonly message: string };

/** The ownership facts the check needs (a Stats object fits). */
export type OwnerInfo = Readonly<{ uid: number; mode: number }>;

/**
 * Why a managed file or its directory is not trustworthy, or null when it is: it must be owned by
 * root (uid 0) and not writable by group or others.
 */
export function insecureReason(info: OwnerInfo, what: string): string | null {
  if (info.uid !== 0) return `${what} is owned by uid ${info.uid}, not root`;
  if ((info.mode & 0o022) !== 0) return `${what} is writable by group or others (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return null;
}

/** Reads `path` as bytes; with `checkOwnership`, refuses a file a non-root user could have written. */
export async function readManagedFile(path: string, checkOwnership: boolean): Promise<ManagedFileRead> {
  let real = path;
  try {
    const link = await lstat(path);
    if (link.isSymbolicLink()) real = await realpath(path);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return unreadable(error);
  }
  let handle;
  try {
    // O_NONBLOCK: a FIFO swapped in after lstat still opens at once (and then fails the isFile check).
    handle = await open(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return { kind: 'missing' };
    return unreadable(error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { kind: 'unreadable', message: 'not a regular file' };
    if (checkOwnership) {
      // The directories too: whoever can write one can swap the file (or the link to it).
      const dirs = [...new Set([dirname(path), dirname(real)])];
      let reason = insecureReason(info, 'the file');
      for (const dir of dirs) reason ??= insecureReason(await stat(dir), `its directory ${dir}`);
      if (reason) return { kind: 'insecure', message: `ignored: ${reason}` };
    }
    if (info.size > MAX_MANAGED_FILE_BYTES) return { kind: 'unreadable', message: `${info.size} bytes exceeds the ${MAX_MANAGED_FILE_BYTES}-byte limit` };
    const buffer = Buffer.alloc(Math.min(info.size, MAX_MANAGED_FILE_BYTES) + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > MAX_MANAGED_FILE_BYTES) return { kind: 'unreadable', message: `more than ${MAX_MANAGED_FILE_BYTES} bytes` };
    return { kind: 'ok', bytes: buffer.subarray(0, filled) };
  } catch (error) {
    return unreadable(error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** True when something exists at `path` (any file type): used to tell whether IT configured a source. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    const code = errnoCode(error);
    return !(code === 'ENOENT' || code === 'ENOTDIR');
  }
}

function unreadable(error: unknown): ManagedFileRead {
  const code = errnoCode(error);
  if (code === 'EACCES' || code === 'EPERM') return { kind: 'unreadable', message: 'permission denied' };
  if (code === 'ELOOP') return { kind: 'unreadable', message: 'symbolic link loop' };
  if (code === 'EISDIR') return { kind: 'unreadable', message: 'is a directory, expected a file' };
  return { kind: 'unreadable', message: error instanceof Error ? error.message : String(error) };
}

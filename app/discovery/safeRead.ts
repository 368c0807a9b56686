/**
 * Reads one config file the way a scanner of hostile homes must: never blocks on a FIFO or device,
 * never follows a symlink loop, never reads more than a size cap, never throws. Each failure
 * becomes a ScanError with a category, so the scan reports it and carries on.
 */
import { constants } from 'node:fs';
import { lstat, open, realpath, stat } from 'node:fs/promises';
import type { ScanError, ScanErrorCategory } from '../api/inventory.ts';

/** Large enough for a heavy user's ~/.claude.json (it keeps per-project history), small enough to bound memory. */
export const DEFAULT_MAX_FILE_BYTES = 32 * 1024 * 1024;
export const DEFAULT_FILE_TIMEOUT_MS = 2000;

export type ReadOptions = Readonly<{
  maxBytes?: number;
  timeoutMs?: number;
  client?: string;
}>;

export type ReadResult =
  | { readonly kind: 'ok'; readonly path: string; readonly realPath: string; readonly text: string; readonly mtimeMs: number }
  | { readonly kind: 'missing'; readonly path: string }
  | { readonly kind: 'error'; readonly path: string; readonly error: ScanError };

/** Reads a UTF-8 text file (a UTF-8 BOM is dropped; UTF-16 with a BOM is decoded). */
export async function readTextFile(path: string, options: ReadOptions = {}): Promise<ReadResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_FILE_TIMEOUT_MS;
  const fail = (category: ScanErrorCategory, message: string): ReadResult => ({
    kind: 'error',
    path,
    error: { path, category, message, ...(options.client ? { client: options.client } : {}) },
  });

  let link;
  try {
    link = await lstat(path);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing', path };
    if (code === 'EACCES' || code === 'EPERM') return fail('permission', 'permission denied');
    return fail('io', describe(error));
  }

  let realPath = path;
  let info = link;
  if (link.isSymbolicLink()) {
    try {
      realPath = await realpath(path);
      info = await stat(realPath);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ELOOP') return fail('symlink-loop', 'symbolic link loop');
      if (code === 'ENOENT' || code === 'ENOTDIR') return fail('not-a-file', 'dangling symbolic link');
      if (code === 'EACCES' || code === 'EPERM') return fail('permission', 'permission denied');
      return fail('io', describe(error));
    }
  }
  if (info.isDirectory()) return fail('not-a-file', 'is a directory, expected a file');
  if (!info.isFile()) return fail('not-a-file', `is a ${kindOf(info)}, expected a regular file`);
  if (info.size > maxBytes) return fail('too-large', `${info.size} bytes exceeds the ${maxBytes}-byte limit`);

  let handle;
  try {
    // O_NONBLOCK: if the path was swapped for a FIFO after stat, open still returns at once.
    handle = await open(realPath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EACCES' || code === 'EPERM') return fail('permission', 'permission denied');
    if (code === 'ENOENT') return { kind: 'missing', path };
    if (code === 'ELOOP') return fail('symlink-loop', 'symbolic link loop');
    return fail('io', describe(error));
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) return fail('not-a-file', `is a ${kindOf(opened)}, expected a regular file`);
    const buffer = Buffer.allocUnsafe(Math.min(opened.size, maxBytes) + 1);
    let filled = 0;
    const deadline = Date.now() + timeoutMs;
    while (filled < buffer.length) {
      if (Date.now() > deadline) return fail('timeout', `reading took longer than ${timeoutMs} ms`);
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > maxBytes) return fail('too-large', `more than ${maxBytes} bytes`);
    const decoded = decodeText(buffer.subarray(0, filled));
    if (decoded === null) return fail('encoding', 'not valid UTF-8 text');
    return { kind: 'ok', path, realPath, text: decoded, mtimeMs: opened.mtimeMs };
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EISDIR') return fail('not-a-file', 'is a directory, expected a file');
    if (code === 'EACCES' || code === 'EPERM') return fail('permission', 'permission denied');
    return fail('io', describe(error));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Decodes UTF-8 (BOM dropped) or BOM-marked UTF-16; null when the bytes are not valid text. */
export function decodeText(bytes: Uint8Array): string | null {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return strictDecode('utf-16le', bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return strictDecode('utf-16be', bytes.subarray(2));
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return strictDecode('utf-8', bytes.subarray(3));
  return strictDecode('utf-8', bytes);
}

function strictDecode(encoding: string, bytes: Uint8Array): string | null {
  try {
    const text = new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
    // A NUL byte means a binary file, whatever decoded.
    return text.includes('\u0000') ? null : text;
  } catch {
    return null;
  }
}

export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function kindOf(info: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isFIFO()) return 'FIFO';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character device';
  if (info.isBlockDevice()) return 'block device';
  return 'special file';
}

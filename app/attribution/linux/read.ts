/**
 * Bounded, never-throwing reads of /proc entries: a process can vanish or be another user's
 * between two calls, and that is an expected outcome (null), not an error.
 */
import { closeSync, openSync, readlinkSync, readSync } from 'node:fs';

/** Reads at most `max` bytes of a file; null when it cannot be opened (gone, no permission). */
export function readBounded(path: string, max: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    // /proc files report size 0, so grow from a small buffer instead of trusting fstat.
    let buffer = Buffer.allocUnsafe(Math.min(max, 4096));
    let total = 0;
    while (total < max) {
      if (total === buffer.length) {
        const bigger = Buffer.allocUnsafe(Math.min(max, buffer.length * 4));
        buffer.copy(bigger, 0, 0, total);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, total, buffer.length - total, null);
      if (n === 0) break;
      total += n;
    }
    return buffer.subarray(0, total);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The target of a symbolic link (exe, cwd, fd/N); null when it cannot be read. */
export function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/**
 * The audit head file: the seq and hash of the newest committed event, kept next to the database
 * (cordon.db-audit-head). A hash chain alone cannot show that its newest events were deleted; this
 * second copy of the head can, unless whoever deleted them also rewrote this file.
 */
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';

export type AuditHead = Readonly<{ seq: number; hash: string }>;

/** Fixed record size: every write overwrites the whole record in one write() at offset 0. */
const RECORD_BYTES = 128;
const HEX64 = /^[0-9a-f]{64}$/;

/** The head file of a database file, or null for an in-memory database. */
export function headFileFor(databaseFile: string): string | null {
  if (databaseFile === '' || databaseFile === ':memory:' || databaseFile.startsWith('file::memory:')) return null;
  return `${databaseFile}-audit-head`;
}

/**
 * Records the head after a commit. One fixed-size positional write, no truncation: a process
 * killed mid-update leaves the old or the new record, never a torn one. Not fsynced: after an OS
 * crash the file may lag the database, which verify tolerates (it only flags a head AHEAD of it).
 */
export function writeAuditHead(file: string, head: AuditHead): void {
  const text = JSON.stringify({ v: 1, seq: head.seq, hash: head.hash });
  const record = Buffer.alloc(RECORD_BYTES, 0x20);
  record.write(text, 0, 'utf8');
  record[RECORD_BYTES - 1] = 0x0a;
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT, 0o600);
  try {
    writeSync(fd, record, 0, RECORD_BYTES, 0);
  } finally {
    closeSync(fd);
  }
}

/** Reads the head file: the head, null when there is none, or "unreadable" when it is damaged. */
export function readAuditHead(file: string): AuditHead | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : 'unreadable';
  }
  if (text.length > RECORD_BYTES * 4) return 'unreadable';
  try {
    const parsed = JSON.parse(text) as { v?: unknown; seq?: unknown; hash?: unknown };
    if (parsed.v !== 1 || typeof parsed.seq !== 'number' || !Number.isSafeInteger(parsed.seq)) return 'unreadable';
    if (typeof parsed.hash !== 'string' || !HEX64.test(parsed.hash)) return 'unreadable';
    return { seq: parsed.seq, hash: parsed.hash };
  } catch {
    return 'unreadable';
  }
}

/**
 * uid -> user name for Linux, from the passwd file (bounded read, cached, re-read at most once a
 * minute when a uid is missing). Users that only exist in LDAP or similar come back as null.
 */
import { userInfo } from 'node:os';
import { readBounded } from './read.ts';

const MAX_PASSWD_BYTES = 4 * 1024 * 1024;
const RELOAD_AFTER_MS = 60_000;

export type UserNames = { name(uid: number): string | null };

/** Parses passwd(5) lines "name:x:uid:gid:..." into uid -> name (the first name for a uid wins). */
export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, , uidText] = line.split(':');
    if (!name || uidText === undefined || !/^\d+$/.test(uidText)) continue;
    const uid = Number(uidText);
    if (!out.has(uid)) out.set(uid, name);
  }
  return out;
}

export function createUserNames(passwdFile: string = '/etc/passwd'): UserNames {
  let table: Map<number, string> | null = null;
  let loadedAt = 0;
  const self = safeSelf();
  const load = (): void => {
    const bytes = readBounded(passwdFile, MAX_PASSWD_BYTES);
    table = bytes ? parsePasswd(bytes.toString('utf8')) : new Map();
    loadedAt = Date.now();
  };
  return {
    name(uid) {
      if (table === null) load();
      let name = table?.get(uid);
      if (name === undefined && Date.now() - loadedAt > RELOAD_AFTER_MS) {
        load();
        name = table?.get(uid);
      }
      if (name === undefined && self && self.uid === uid) return self.username;
      return name ?? null;
    },
  };
}

function safeSelf(): { uid: number; username: string } | null {
  try {
    const info = userInfo();
    return { uid: info.uid, username: info.username };
  } catch {
    return null;
  }
}

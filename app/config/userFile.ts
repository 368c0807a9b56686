/**
 * The user settings file (JSONC, paths.userSettingsFile): reading it into a layer, and editing one
 * key in place with jsonc-parser so comments and layout survive, written atomically (temp + rename).
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { applyEdits, modify } from 'jsonc-parser';
import type { SettingsProblem } from '../api/settings.ts';
import { CoreError } from '../api/errors.ts';
import { readTextFile } from '../discovery/safeRead.ts';
import { parseJsonc } from './jsonc.ts';
import { isPlainObject, kindOf, type Layer } from './layers.ts';

/** A user settings file is small; anything bigger is refused. */
export const MAX_USER_FILE_BYTES = 1024 * 1024;

/** Keys a user file may hold that are not settings (editor schema association). */
const IGNORED_KEYS = new Set(['$schema']);

export type UserLayerRead = Readonly<{ layer: Layer; problems: SettingsProblem[] }>;

/** Reads the user file. Missing is empty; unreadable or unparsable is one problem and an empty layer. */
export async function readUserLayer(file: string): Promise<UserLayerRead> {
  const layer: Layer = new Map();
  const read = await readTextFile(file, { maxBytes: MAX_USER_FILE_BYTES });
  if (read.kind === 'missing') return { layer, problems: [] };
  if (read.kind === 'error') return { layer, problems: [problem(file, 'unreadable', `cannot read: ${read.error.message}`)] };
  if (read.text.trim() === '') return { layer, problems: [] };
  const parsed = parseJsonc(read.text);
  if (!parsed.ok) return { layer, problems: [problem(file, 'parse', `not valid JSON: ${parsed.message}`)] };
  if (!isPlainObject(parsed.value)) return { layer, problems: [problem(file, 'parse', `expected an object at the top level, found ${kindOf(parsed.value)}`)] };
  for (const [key, value] of Object.entries(parsed.value)) {
    if (!IGNORED_KEYS.has(key)) layer.set(key, { file, label: key, value });
  }
  return { layer, problems: [] };
}

export type EditResult = Readonly<{ changed: boolean; file: string }>;

/**
 * Sets (value defined) or removes (undefined) one top-level key of the user file, keeping comments.
 * Refuses to touch a file it cannot parse. Callers validate key and value first.
 */
export async function editUserFile(file: string, key: string, value: unknown): Promise<EditResult> {
  const target = await resolveTarget(file);
  const read = await readTextFile(target, { maxBytes: MAX_USER_FILE_BYTES });
  if (read.kind === 'error') throw new CoreError('ERR_SETTINGS_INVALID', `cannot read ${file}: ${read.error.message}`);
  const original = read.kind === 'ok' ? read.text : '';
  let text = original.trim() === '' ? '{}\n' : original;
  const parsed = parseJsonc(text);
  if (!parsed.ok) throw new CoreError('ERR_SETTINGS_INVALID', `${file} is not valid JSON (${parsed.message}); fix it first`);
  if (!isPlainObject(parsed.value)) throw new CoreError('ERR_SETTINGS_INVALID', `${file} does not hold a JSON object; fix it first`);
  const present = Object.hasOwn(parsed.value, key);
  if (value === undefined && !present) return { changed: false, file };
  const edits = modify(text, [key], value, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } });
  text = applyEdits(text, edits);
  if (!text.endsWith('\n')) text += '\n';
  if (text === original) return { changed: false, file };
  await writeAtomic(target, text);
  return { changed: true, file };
}

/** Writes via a private temp file in the same directory, then renames over the target. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  // 0600: the file may hold the enroll secret.
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** A settings file kept as a symlink (dotfiles) is edited where it points, so the link survives. */
async function resolveTarget(file: string): Promise<string> {
  try {
    if ((await lstat(file)).isSymbolicLink()) return await realpath(file);
  } catch {
    // Missing file or dangling link: write at the given path.
  }
  return file;
}

function problem(file: string, kind: 'unreadable' | 'parse', message: string): SettingsProblem {
  return { source: 'user', file, key: null, kind, severity: 'error', message };
}

/**
 * Comment- and format-preserving edits of agents' JSONC files (jsonc-parser modify/applyEdits):
 * Cordon's hook entries in the two hook shapes agents use, and `env` keys. Each edit touches only
 * the values it names; the rest of the text stays byte for byte.
 */
import { isDeepStrictEqual } from 'node:util';
import { applyEdits, modify, type FormattingOptions, type JSONPath } from 'jsonc-parser';
import { parseJsonc } from '../config/jsonc.ts';
import { ProtectRefusal } from './types.ts';

type Obj = Record<string, unknown>;

/** A hook handler Cordon installed: runs `cordon-hook.js hook <agent>` or `cordon hook <agent>`. */
export function isCordonCommand(command: unknown): boolean {
  return typeof command === 'string' && (/cordon-hook(\.js)?['"]?\s+hook\s/.test(command) || /(^|[\s/'"])cordon(\.js)?['"]?\s+hook\s/.test(command));
}

/** The document as a plain object ({} for a missing or empty file); refuses anything else. */
export function readObject(text: string | null, file: string): Obj {
  if (text === null || text.trim() === '') return {};
  const parsed = parseJsonc(text);
  if (!parsed.ok) throw new ProtectRefusal(`${file} is not valid JSON: ${parsed.message}; fix it first, Cordon does not rewrite files it cannot read`);
  if (!isObj(parsed.value)) throw new ProtectRefusal(`${file} does not hold a JSON object`);
  return parsed.value;
}

/** Sets (or with undefined removes) the value at path, keeping comments and formatting. */
export function setAt(text: string, path: JSONPath, value: unknown, insert = false): string {
  const base = text.trim() === '' ? '{}\n' : text;
  const edits = modify(base, path, value, { formattingOptions: formattingOf(base), ...(insert ? { isArrayInsertion: true } : {}) });
  return applyEdits(base, edits);
}

/**
 * Hooks grouped by matcher (Claude Code, Gemini CLI, Codex): hooks.<event> = [{matcher, hooks: [handler]}].
 * Removes Cordon's handlers (and groups left empty), then appends `group` to each event.
 */
export function putNestedHooks(text: string | null, file: string, events: readonly string[], group: Obj): string {
  if (text !== null && hasExactly(readObject(text, file), events, group, true)) return text;
  let out = removeNestedHooks(text ?? '', file, events);
  for (const event of events) {
    const doc = readObject(out, file);
    const list = isObj(doc.hooks) ? doc.hooks[event] : undefined;
    if (doc.hooks !== undefined && !isObj(doc.hooks)) throw new ProtectRefusal(`${file}: "hooks" is not an object`);
    if (list === undefined) out = setAt(out, ['hooks', event], [group]);
    else if (Array.isArray(list)) out = setAt(out, ['hooks', event, list.length], group, true);
    else throw new ProtectRefusal(`${file}: hooks.${event} is not a list`);
  }
  return out;
}

/** Removes Cordon's handlers from hooks.<event> groups; drops groups, lists and "hooks" left empty by that. */
export function removeNestedHooks(text: string, file: string, events: readonly string[]): string {
  let out = text;
  for (const event of events) {
    const list = eventList(readObject(out, file), event);
    if (!list) continue;
    let removedAny = false;
    for (let g = list.length - 1; g >= 0; g--) {
      const group = list[g];
      const handlers = isObj(group) && Array.isArray(group.hooks) ? group.hooks : null;
      if (!handlers) continue;
      const ours = handlers.map((h, i) => (isObj(h) && isCordonCommand(h.command) ? i : -1)).filter((i) => i >= 0);
      if (ours.length === 0) continue;
      removedAny = true;
      if (ours.length === handlers.length) out = setAt(out, ['hooks', event, g], undefined);
      else for (const i of ours.reverse()) out = setAt(out, ['hooks', event, g, 'hooks', i], undefined);
    }
    if (removedAny) out = dropEmpty(out, file, event);
  }
  return out;
}

/** Flat hook lists (Cursor, Windsurf): hooks.<event> = [{command, ...}]. */
export function putFlatHooks(text: string | null, file: string, events: readonly string[], handler: Obj, top: Obj = {}): string {
  if (text !== null) {
    const doc = readObject(text, file);
    if (Object.keys(top).every((k) => doc[k] !== undefined) && hasExactly(doc, events, handler, false)) return text;
  }
  let out = removeFlatHooks(text ?? '', file, events);
  for (const [key, value] of Object.entries(top)) if (readObject(out, file)[key] === undefined) out = setAt(out, [key], value);
  for (const event of events) {
    const doc = readObject(out, file);
    if (doc.hooks !== undefined && !isObj(doc.hooks)) throw new ProtectRefusal(`${file}: "hooks" is not an object`);
    const list = isObj(doc.hooks) ? doc.hooks[event] : undefined;
    if (list === undefined) out = setAt(out, ['hooks', event], [handler]);
    else if (Array.isArray(list)) out = setAt(out, ['hooks', event, list.length], handler, true);
    else throw new ProtectRefusal(`${file}: hooks.${event} is not a list`);
  }
  return out;
}

export function removeFlatHooks(text: string, file: string, events: readonly string[]): string {
  let out = text;
  for (const event of events) {
    const list = eventList(readObject(out, file), event);
    if (!list) continue;
    const ours = list.map((h, i) => (isObj(h) && isCordonCommand(h.command) ? i : -1)).filter((i) => i >= 0);
    for (const i of ours.reverse()) out = setAt(out, ['hooks', event, i], undefined);
    if (ours.length > 0) out = dropEmpty(out, file, event);
  }
  return out;
}

/** ok: a handler runs exactly `command`; altered: only other Cordon handlers; missing: none. */
export function hookStatus(doc: Obj, events: readonly string[], command: string, nested: boolean): 'ok' | 'altered' | 'missing' {
  let worst: 'ok' | 'altered' | 'missing' = 'ok';
  for (const event of events) {
    const list = eventList(doc, event) ?? [];
    const handlers = nested ? list.flatMap((g) => (isObj(g) && Array.isArray(g.hooks) ? g.hooks : [])) : list;
    const commands = handlers.filter(isObj).map((h) => h.command);
    const state = commands.includes(command) ? 'ok' : commands.some(isCordonCommand) ? 'altered' : 'missing';
    if (state === 'missing' || (state === 'altered' && worst === 'ok')) worst = state;
  }
  return worst;
}

/**
 * Every event already holds exactly one Cordon entry, equal to `entry` (re-applying would only
 * move it, so the file is left byte for byte as it is).
 */
function hasExactly(doc: Obj, events: readonly string[], entry: Obj, nested: boolean): boolean {
  return events.every((event) => {
    const list = eventList(doc, event) ?? [];
    const ours = list.filter((item) => (nested ? isObj(item) && Array.isArray(item.hooks) && item.hooks.some((h) => isObj(h) && isCordonCommand(h.command)) : isObj(item) && isCordonCommand(item.command)));
    return ours.length === 1 && isDeepStrictEqual(ours[0], entry);
  });
}

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function eventList(doc: Obj, event: string): unknown[] | null {
  const hooks = doc.hooks;
  if (!isObj(hooks) || !Object.hasOwn(hooks, event)) return null;
  const list = hooks[event];
  return Array.isArray(list) ? list : null;
}

function dropEmpty(text: string, file: string, event: string): string {
  let out = text;
  const doc = readObject(out, file);
  const list = eventList(doc, event);
  if (list && list.length === 0) out = setAt(out, ['hooks', event], undefined);
  const hooks = readObject(out, file).hooks;
  if (isObj(hooks) && Object.keys(hooks).length === 0) out = setAt(out, ['hooks'], undefined);
  return out;
}

/** Indentation as the file already uses it (two spaces for a new file). */
function formattingOf(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indented = /\n([ \t]+)\S/.exec(text);
  const indent = indented?.[1] ?? '  ';
  if (indent.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indent.length, eol };
}

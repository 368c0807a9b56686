/**
 * Windows managed settings: the policy key HKLM\SOFTWARE\Policies\Cordon (enforced) and its
 * Defaults subkey (user-changeable defaults), read by parsing `reg.exe query KEY /s` output.
 * Each registry value type is mapped to the setting's schema type, with a clear error when it cannot be.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { win32 } from 'node:path';
import { MANAGED_DEFAULTS_KEY, SETTING_KEYS } from '../../api/settings.ts';
import { emptyManagedLayers, type Layer, type ManagedLayers } from '../layers.ts';
import { settingSchema, type SettingType } from '../schema.ts';
import type { ManagedSourceRead } from './linux.ts';

export const WINDOWS_POLICY_KEY = 'HKLM\\SOFTWARE\\Policies\\Cordon';

export type RegValue = Readonly<{ name: string; type: string; data: string }>;
export type RegKey = Readonly<{ path: string; values: readonly RegValue[] }>;

export type RegQueryResult = { kind: 'ok'; stdout: string } | { kind: 'missing' } | { kind: 'error'; message: string };
/** Runs `reg query KEY /s`; injectable so tests need no Windows. */
export type RegQueryRunner = (keyPath: string) => Promise<RegQueryResult>;

// Values are indented under their key: NAME, TYPE and DATA separated by four spaces (DATA may be empty).
const VALUE_LINE = /^ +(\S.*?) {4}(REG_[A-Z0-9_]+)(?: {4}(.*))?$/;
const CANONICAL = new Map(SETTING_KEYS.map((k) => [k.toLowerCase(), k]));

/** Parses `reg query /s` output: key header lines (HKEY_...) each followed by indented value lines. */
export function parseRegQueryOutput(text: string): RegKey[] {
  const keys: { path: string; values: RegValue[] }[] = [];
  let current: { path: string; values: RegValue[] } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const match = VALUE_LINE.exec(line);
    if (match) {
      if (current) current.values.push({ name: match[1] ?? '', type: match[2] ?? '', data: match[3] ?? '' });
      continue;
    }
    const header = line.trim();
    if (header.startsWith('HKEY_') || header.startsWith('HKLM\\')) {
      current = { path: shortHive(header), values: [] };
      keys.push(current);
    }
  }
  return keys;
}

/** Maps parsed registry keys under `root` to enforced and default layers. */
export function registryToManagedLayers(keys: readonly RegKey[], root: string = WINDOWS_POLICY_KEY): ManagedLayers {
  const layers = emptyManagedLayers();
  const rootLower = root.toLowerCase();
  const defaultsPath = `${rootLower}\\${MANAGED_DEFAULTS_KEY.toLowerCase()}`;
  const lists: { parent: string; key: RegKey; name: string }[] = [];
  for (const key of keys) {
    const lower = key.path.toLowerCase();
    if (lower === rootLower) addValues(layers.enforced, key);
    else if (lower === defaultsPath) addValues(layers.defaults, key);
    else if (lower.startsWith(`${rootLower}\\`)) {
      const relative = key.path.slice(root.length + 1);
      const sep = relative.lastIndexOf('\\');
      lists.push({ parent: `${root}${sep >= 0 ? `\\${relative.slice(0, sep)}` : ''}`, key, name: relative.slice(sep + 1) });
    }
  }
  // Chrome-style lists: a subkey named after an array setting, holding values "1", "2", ...
  for (const { parent, key, name } of lists) {
    const target = parent.toLowerCase() === rootLower ? layers.enforced : parent.toLowerCase() === defaultsPath ? layers.defaults : undefined;
    const canonical = CANONICAL.get(name.toLowerCase());
    if (!target || !canonical || settingSchema(canonical).type !== 'array') {
      layers.problems.push({ source: 'managed', file: key.path, key: null, kind: 'unknown-key', severity: 'warning', message: 'unknown registry subkey: ignored' });
      continue;
    }
    if (target.has(canonical)) {
      layers.problems.push({ source: 'managed', file: key.path, key: canonical, kind: 'invalid', severity: 'warning', message: `ignored: the value ${canonical} in ${parent} is used instead` });
      continue;
    }
    target.set(canonical, { file: key.path, label: canonical, ...listFromSubkey(key) });
  }
  return layers;
}

/** Converts one registry value to the JSON type the setting's schema wants. */
export function registryValueToJson(type: SettingType | undefined, value: RegValue): { value: unknown } | { error: string } {
  switch (value.type) {
    case 'REG_SZ':
    case 'REG_EXPAND_SZ':
      return fromString(type, value);
    case 'REG_DWORD':
    case 'REG_QWORD': {
      const n = parseHex(value.data);
      if (n === null) return { error: `${value.type} data is not a number` };
      if (type === 'integer' || type === undefined) return { value: n };
      if (type === 'boolean') return n === 0 || n === 1 ? { value: n === 1 } : { error: `${value.type} must be 0 or 1 for a boolean` };
      return { error: `expected ${expected(type)}, found ${value.type}` };
    }
    case 'REG_MULTI_SZ': {
      if (type !== 'array' && type !== undefined) return { error: `expected ${expected(type)}, found REG_MULTI_SZ` };
      return { value: value.data === '' ? [] : value.data.split('\\0') };
    }
    default:
      return { error: `${value.type} values are not supported: expected ${type ? expected(type) : 'REG_SZ, REG_DWORD or REG_MULTI_SZ'}` };
  }
}

/** Queries the policy key and maps it; a missing key means IT configured nothing. */
export async function readWindowsManaged(run: RegQueryRunner, root: string = WINDOWS_POLICY_KEY): Promise<ManagedSourceRead> {
  const result = await run(root);
  if (result.kind === 'missing') return { layers: emptyManagedLayers(), present: false };
  if (result.kind === 'error') {
    const layers = emptyManagedLayers();
    layers.problems.push({ source: 'managed', file: root, key: null, kind: 'unreadable', severity: 'error', message: result.message });
    return { layers, present: true };
  }
  return { layers: registryToManagedLayers(parseRegQueryOutput(result.stdout), root), present: true };
}

/**
 * The real runner: the system reg.exe by absolute path (not PATH, not a user-set %SystemRoot%
 * when the standard one exists), 64-bit view, bounded in time and output.
 */
export const runRegQuery: RegQueryRunner = (keyPath) => {
  const standard = 'C:\\Windows\\System32\\reg.exe';
  const reg = existsSync(standard) ? standard : win32.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'reg.exe');
  return new Promise((resolve) => {
    execFile(reg, ['query', keyPath, '/s', '/reg:64'], { timeout: 5000, maxBuffer: 1024 * 1024, windowsHide: true, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve({ kind: 'ok', stdout });
      const code = (error as { code?: unknown }).code;
      // reg.exe exits 1 both for a missing key and for other failures; only access denial is told apart.
      if (code === 1 && !/denied/i.test(stderr)) return resolve({ kind: 'missing' });
      resolve({ kind: 'error', message: `reg query failed: ${(stderr.trim().split('\n')[0] ?? '') || error.message}` });
    });
  });
};

function addValues(layer: Layer, key: RegKey): void {
  for (const value of key.values) {
    // The key's unnamed default value ("(Default)", localized on other languages' Windows) carries no setting.
    if (value.name === '' || /^\(.*\)$/.test(value.name)) continue;
    const canonical = CANONICAL.get(value.name.toLowerCase());
    const type = canonical ? settingSchema(canonical).type : undefined;
    layer.set(canonical ?? value.name, { file: key.path, label: value.name, ...registryValueToJson(type, value) });
  }
}

function listFromSubkey(key: RegKey): { value: unknown } | { error: string } {
  const items: { index: number; data: string }[] = [];
  for (const value of key.values) {
    if (!/^\d+$/.test(value.name)) return { error: `list subkey values must be named 1, 2, 3, ... (found "${value.name}")` };
    if (value.type !== 'REG_SZ' && value.type !== 'REG_EXPAND_SZ') return { error: `list subkey values must be REG_SZ (found ${value.type})` };
    items.push({ index: Number(value.name), data: value.data });
  }
  return { value: items.sort((a, b) => a.index - b.index).map((i) => i.data) };
}

function fromString(type: SettingType | undefined, value: RegValue): { value: unknown } | { error: string } {
  const text = value.data;
  switch (type) {
    case undefined:
    case 'string':
      return { value: text };
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (lower === 'true' || lower === '1') return { value: true };
      if (lower === 'false' || lower === '0') return { value: false };
      return { error: `expected a REG_DWORD 0 or 1 (or a ${value.type} "true"/"false")` };
    }
    case 'integer':
      return /^\s*-?\d{1,15}\s*$/.test(text) ? { value: Number(text) } : { error: `expected a REG_DWORD (or a ${value.type} holding a decimal integer)` };
    case 'array':
    case 'object': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { error: `expected ${expected(type)}: this ${value.type} is not valid JSON` };
      }
      const ok = type === 'array' ? Array.isArray(parsed) : typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      return ok ? { value: parsed } : { error: `expected ${expected(type)}` };
    }
  }
}

function expected(type: SettingType): string {
  switch (type) {
    case 'string':
      return 'REG_SZ';
    case 'boolean':
      return 'REG_DWORD 0 or 1';
    case 'integer':
      return 'REG_DWORD';
    case 'array':
      return 'REG_MULTI_SZ (or a REG_SZ holding a JSON array)';
    case 'object':
      return 'a REG_SZ holding a JSON object';
  }
}

function parseHex(data: string): number | null {
  const text = data.trim();
  if (!/^0x[0-9a-f]{1,16}$/i.test(text)) return null;
  const big = BigInt(text);
  return big > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(big);
}

function shortHive(path: string): string {
  return path.replace(/^HKEY_LOCAL_MACHINE\\/i, 'HKLM\\').replace(/^HKEY_CURRENT_USER\\/i, 'HKCU\\');
}


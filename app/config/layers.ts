/**
 * The raw layers settings are merged from: what each source said for each key, before validation.
 * Readers (user file, managed JSON, plist, registry) produce layers; settings.ts validates and merges.
 */
import type { SettingsProblem } from '../api/settings.ts';
import { MANAGED_DEFAULTS_KEY } from '../api/settings.ts';

/** One key as a source gave it: a value to validate, or an error found while reading it. */
export type LayerValue = Readonly<{
  /** The file, plist or registry key it came from. */
  file: string;
  /** The key as written in the source, e.g. "mode" or "Defaults.mode". */
  label: string;
}> &
  ({ readonly value: unknown } | { readonly error: string });

/** Raw key (canonical setting key when known, as written otherwise) → value. */
export type Layer = Map<string, LayerValue>;

/** What the managed sources of one platform said. */
export type ManagedLayers = {
  /** Top-level keys: enforced, the user cannot override them. */
  readonly enforced: Layer;
  /** Keys under Defaults: defaults the user may change. */
  readonly defaults: Layer;
  readonly problems: SettingsProblem[];
};

export function emptyManagedLayers(): ManagedLayers {
  return { enforced: new Map(), defaults: new Map(), problems: [] };
}

/** Converts one source value to JSON data (plist dates and data blobs have no JSON form). */
export type ValueConverter = (value: unknown) => { value: unknown } | { error: string };

const identity: ValueConverter = (value) => ({ value });

/**
 * Splits a parsed managed document (JSON object or plist dict) into enforced and default layers.
 * A root that is not an object, or a Defaults that is not one, is reported, never guessed at.
 */
export function managedDocumentToLayers(doc: unknown, file: string, convert: ValueConverter = identity): ManagedLayers {
  const layers = emptyManagedLayers();
  if (!isPlainObject(doc)) {
    layers.problems.push({ source: 'managed', file, key: null, kind: 'parse', severity: 'error', message: `expected an object (dictionary) at the top level, found ${kindOf(doc)}` });
    return layers;
  }
  for (const [key, raw] of Object.entries(doc)) {
    if (key === MANAGED_DEFAULTS_KEY) {
      if (!isPlainObject(raw)) {
        layers.problems.push({ source: 'managed', file, key, kind: 'invalid', severity: 'error', message: `${MANAGED_DEFAULTS_KEY} must be an object (dictionary), found ${kindOf(raw)}` });
        continue;
      }
      for (const [inner, innerRaw] of Object.entries(raw)) {
        layers.defaults.set(inner, { file, label: `${MANAGED_DEFAULTS_KEY}.${inner}`, ...convert(innerRaw) });
      }
      continue;
    }
    layers.enforced.set(key, { file, label: key, ...convert(raw) });
  }
  return layers;
}

/**
 * Merges managed layers, earlier arguments winning per key (e.g. the macOS device plist over the
 * user-level one). Problems of all are kept.
 */
export function mergeManagedLayers(...sources: ManagedLayers[]): ManagedLayers {
  const out = emptyManagedLayers();
  for (const source of [...sources].reverse()) {
    for (const [k, v] of source.enforced) out.enforced.set(k, v);
    for (const [k, v] of source.defaults) out.defaults.set(k, v);
  }
  for (const source of sources) out.problems.push(...source.problems);
  return out;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (value instanceof Uint8Array) return 'binary data';
  return `a ${typeof value}`;
}

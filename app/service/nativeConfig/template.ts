/**
 * What every generated template shares: the example split of keys into enforced and Defaults,
 * the install layout the committed service units point at, and stable payload UUIDs.
 */
import { createHash } from 'node:crypto';
import type { SettingKey } from '../../api/settings.ts';
import { SETTING_KEYS } from '../../api/settings.ts';
import { MACOS_BUNDLE_ID } from '../../config/managed/darwin.ts';
import { settingSchema } from '../../config/schema.ts';
import type { ServiceTarget } from '../definitions.ts';

/**
 * Keys the templates place under `Defaults` (personal preferences a user may sensibly change);
 * every other key is at the top level, enforced. A key under Defaults is not also enforced, so
 * the example works as written: moving a key between the two is how IT chooses.
 */
export const TEMPLATE_DEFAULTS_KEYS: readonly SettingKey[] = ['projectRoots', 'watchEnabled', 'logLevel'];

/**
 * Where the packages install node and the CLI: the paths in the committed service units.
 * `cordon service install` uses the running node and this checkout's bin/cordon.js instead.
 */
export const PACKAGED_TARGETS: Readonly<Record<'linux' | 'darwin' | 'win32', ServiceTarget>> = {
  linux: { nodePath: '/opt/cordon/node', cordonPath: '/opt/cordon/app/bin/cordon.js' },
  darwin: { nodePath: '/Applications/Cordon.app/Contents/Resources/node', cordonPath: '/Applications/Cordon.app/Contents/Resources/app/bin/cordon.js' },
  win32: { nodePath: 'C:\\Program Files\\Cordon\\node.exe', cordonPath: 'C:\\Program Files\\Cordon\\app\\bin\\cordon.js' },
};

export type TemplateSettings = Readonly<{
  /** Top-level keys with their schema defaults: enforced. */
  enforced: Readonly<Record<string, unknown>>;
  /** Keys for the `Defaults` dictionary, with their schema defaults: users may change them. */
  defaults: Readonly<Record<string, unknown>>;
}>;

/** Every key with its schema default, split by TEMPLATE_DEFAULTS_KEYS, in schema order. */
export function templateSettings(): TemplateSettings {
  const enforced: Record<string, unknown> = {};
  const defaults: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const target = TEMPLATE_DEFAULTS_KEYS.includes(key) ? defaults : enforced;
    target[key] = structuredClone(settingSchema(key).default);
  }
  return { enforced, defaults };
}

// RFC 9562 §6.6: the URL namespace.
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/**
 * A name-based UUID (version 5, RFC 9562 §5.5) for payload `purpose` of the app's domain, so a
 * regenerated profile keeps its PayloadUUIDs and MDMs see an update, not a new profile.
 */
export function stableUuid(purpose: string, domain: string = MACOS_BUNDLE_ID): string {
  return uuidV5(NAMESPACE_URL, `https://cordon.dev/native-config/${domain}/${purpose}`).toUpperCase();
}

/** UUID version 5 of `name` in `namespace` (RFC 9562 §5.5): SHA-1, version and variant bits set. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new RangeError('the namespace must be a UUID');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

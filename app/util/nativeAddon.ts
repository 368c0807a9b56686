/**
 * Cordon's optional native addons (Node-API only, built into dist/native/ by
 * scripts/build-native.ts, never committed): where each one lives and how it is loaded. Each has a
 * JavaScript fallback; a string from requireAddon says why the addon is not in use.
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addons and the C source each is built from (relative to the repository root). */
export const NATIVE_ADDONS = {
  sockdiag: { source: 'app/attribution/linux/native/sockdiag.c', fallback: 'attribution uses the python3 helper' },
  splicerelay: { source: 'app/proxy/linux/native/splicerelay.c', fallback: 'tunnels are relayed in JavaScript' },
} as const;

export type NativeAddonName = keyof typeof NATIVE_ADDONS;

/** The repository (or installed app) root: app/util/ is two levels down. */
export const NATIVE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where scripts/build-native.ts writes an addon for this platform and architecture. */
export function nativeAddonPath(name: NativeAddonName): string {
  return join(NATIVE_ROOT, 'dist', 'native', `${name}-${process.platform}-${process.arch}.node`);
}

/** Loads a Linux-only addon at path; a string says why it did not load (or that this is not Linux). */
export function requireLinuxAddon(path: string, feature: string): unknown {
  if (process.platform !== 'linux') return `${feature} is Linux only (this is ${process.platform})`;
  return requireAddon(path);
}

/** Loads the addon at path; a string says why it did not load. */
export function requireAddon(path: string): unknown {
  try {
    return createRequire(import.meta.url)(path) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return `addon not built (${path}; run node scripts/build-native.ts)`;
    return `addon did not load: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** A loader that runs once per path in this process and remembers its answer: what it built from the addon, or why not. */
export function oncePerPath<T>(load: (path: string) => T | string): (path: string) => T | string {
  const loaded = new Map<string, T | string>();
  return (path) => {
    let result = loaded.get(path);
    if (result === undefined) {
      result = load(path);
      loaded.set(path, result);
    }
    return result;
  };
}

/**
 * Where macOS keeps Cordon's managed preferences: the bundle id and the managed-preferences
 * plists, device-wide and per user. Apart from darwin.ts so that finding the paths does not load
 * the plist parser (which other platforms never need).
 */
import { join } from 'node:path';

export const MACOS_BUNDLE_ID = 'dev.cordon.agent';
export const MACOS_MANAGED_PREFERENCES_DIR = '/Library/Managed Preferences';

/** The managed-preferences plists for `username`, highest precedence first (device, then user). */
export function macosManagedPlistPaths(username: string): string[] {
  const file = `${MACOS_BUNDLE_ID}.plist`;
  const paths = [join(MACOS_MANAGED_PREFERENCES_DIR, file)];
  // A name with a path separator cannot be a real account; never let it walk out of the directory.
  if (username && !/[/\\]/.test(username) && username !== '.' && username !== '..') {
    paths.push(join(MACOS_MANAGED_PREFERENCES_DIR, username, file));
  }
  return paths;
}

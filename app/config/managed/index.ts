/**
 * Where IT's managed settings live on each platform, and reading them. CORDON_MANAGED_SETTINGS
 * points at a JSON (or .plist) file instead, for tests and trials: it is honoured only while the
 * platform has no IT-managed source, so a user cannot use it to escape IT's settings. The plist
 * reader (darwin.ts, with the plist parser) is loaded only when a plist is to be read.
 */
import { userInfo } from 'node:os';
import type { ManagedSettingsFileInfo, SettingsProblem } from '../../api/settings.ts';
import type { ManagedLayers } from '../layers.ts';
import type * as DarwinReader from './darwin.ts';
import { macosManagedPlistPaths } from './darwinPaths.ts';
import { LINUX_MANAGED_SETTINGS_PATH, readManagedJsonFile, type ManagedSourceRead } from './linux.ts';
import { pathExists } from './secureFile.ts';
import { readWindowsManaged, runRegQuery, WINDOWS_POLICY_KEY, type RegQueryRunner } from './win32.ts';

export const MANAGED_OVERRIDE_ENV = 'CORDON_MANAGED_SETTINGS';

export type ManagedFormat = 'json' | 'plist' | 'registry';

export type ManagedSettingsPaths = Readonly<{
  /** What is read when the override applies (else the system locations), highest precedence first. */
  paths: readonly string[];
  format: ManagedFormat;
  /** True when CORDON_MANAGED_SETTINGS is set (it still yields to an existing system source). */
  overridden: boolean;
  /** The platform's IT locations: files, or the registry key on Windows (poll it; it cannot be watched as a file). */
  systemPaths: readonly string[];
  systemFormat: ManagedFormat;
}>;

export type ReadManagedOptions = Readonly<{
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** Windows only; defaults to the real reg.exe. */
  runRegistryQuery?: RegQueryRunner;
  /** macOS only (the user-level plist); defaults to the account of this process, never $USER. */
  username?: string;
}>;

export type ManagedRead = Readonly<{ layers: ManagedLayers; info: ManagedSettingsFileInfo }>;

/** The managed locations for a platform: what the daemon watches and loadSettings reads. */
export function managedSettingsPaths(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, username?: string): ManagedSettingsPaths {
  const system = systemLocations(platform, username ?? currentUsername());
  const override = env[MANAGED_OVERRIDE_ENV];
  if (override) {
    return { paths: [override], format: override.toLowerCase().endsWith('.plist') ? 'plist' : 'json', overridden: true, systemPaths: system.paths, systemFormat: system.format };
  }
  return { paths: system.paths, format: system.format, overridden: false, systemPaths: system.paths, systemFormat: system.format };
}

/** Reads the managed layers, applying the override rules above; every refusal is a reported problem. */
export async function readManagedSettings(options: ReadManagedOptions): Promise<ManagedRead> {
  const where = managedSettingsPaths(options.platform, options.env, options.username);
  const run = options.runRegistryQuery ?? runRegQuery;
  if (where.overridden) {
    const overridePath = where.paths[0] ?? '';
    if (await systemPresent(where, run)) {
      const read = await readSystem(where, run);
      const refused: SettingsProblem = {
        source: 'managed',
        file: overridePath,
        key: null,
        kind: 'override',
        severity: 'error',
        message: `${MANAGED_OVERRIDE_ENV} is ignored: IT-managed settings exist at ${where.systemPaths[0] ?? ''}`,
      };
      read.layers.problems.unshift(refused);
      return { layers: read.layers, info: info(where.systemPaths, false, read.present) };
    }
    const read = where.format === 'plist' ? await (await plistReader()).readManagedPlistFile(overridePath, false) : await readManagedJsonFile(overridePath, false);
    read.layers.problems.unshift({
      source: 'managed',
      file: overridePath,
      key: null,
      kind: 'override',
      severity: 'info',
      message: `managed settings path set by ${MANAGED_OVERRIDE_ENV} (for tests): ownership checks are off`,
    });
    return { layers: read.layers, info: info(where.paths, true, read.present) };
  }
  const read = await readSystem(where, run);
  return { layers: read.layers, info: info(where.systemPaths, false, read.present) };
}

let darwinReader: Promise<typeof DarwinReader> | null = null;

/** The plist reader, imported on first use; the promise is kept (a failed import is retried). */
function plistReader(): Promise<typeof DarwinReader> {
  darwinReader ??= import('./darwin.ts').catch((error: unknown) => {
    darwinReader = null;
    throw error;
  });
  return darwinReader;
}

function systemLocations(platform: NodeJS.Platform, username: string): { paths: string[]; format: ManagedFormat } {
  if (platform === 'darwin') return { paths: macosManagedPlistPaths(username), format: 'plist' };
  if (platform === 'win32') return { paths: [WINDOWS_POLICY_KEY], format: 'registry' };
  return { paths: [LINUX_MANAGED_SETTINGS_PATH], format: 'json' };
}

async function readSystem(where: ManagedSettingsPaths, run: RegQueryRunner): Promise<ManagedSourceRead> {
  switch (where.systemFormat) {
    case 'registry':
      return readWindowsManaged(run, where.systemPaths[0] ?? WINDOWS_POLICY_KEY);
    case 'plist':
      return (await plistReader()).readMacosManaged(where.systemPaths, true);
    case 'json':
      return readManagedJsonFile(where.systemPaths[0] ?? LINUX_MANAGED_SETTINGS_PATH, true);
  }
}

async function systemPresent(where: ManagedSettingsPaths, run: RegQueryRunner): Promise<boolean> {
  if (where.systemFormat === 'registry') return (await run(where.systemPaths[0] ?? WINDOWS_POLICY_KEY)).kind !== 'missing';
  const found = await Promise.all(where.systemPaths.map((p) => pathExists(p)));
  return found.includes(true);
}

function info(paths: readonly string[], overridden: boolean, present: boolean): ManagedSettingsFileInfo {
  return { path: paths[0] ?? '', paths: [...paths], overridden, present };
}

function currentUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

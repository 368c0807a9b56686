/**
 * Facts about the running machine that `cordon service` defaults to: the platform, the account,
 * and the node binary and bin/cordon.js of this installation.
 */
import { realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ServiceTarget } from './definitions.ts';
import type { ServicePlatform } from './types.ts';

/** The service platform for a Node platform, or null where `cordon service` has no service manager. */
export function servicePlatform(platform: NodeJS.Platform): ServicePlatform | null {
  return platform === 'linux' || platform === 'darwin' || platform === 'win32' ? platform : null;
}

/** The running node and this checkout's bin/cordon.js, symlinks resolved. */
export function defaultServiceTarget(): ServiceTarget {
  const launcher = fileURLToPath(new URL('../../bin/cordon.js', import.meta.url));
  let cordonPath = launcher;
  try {
    cordonPath = realpathSync(launcher);
  } catch {
    // Keep the unresolved path; the CLI reports a missing file before installing anything.
  }
  return { nodePath: process.execPath, cordonPath };
}

/** This process's numeric user id (0 where the platform has none, e.g. Windows). */
export function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

/** This process's account name; on Windows %USERNAME% when set (the name Task Scheduler knows). */
export function currentUsername(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  if (platform === 'win32' && env.USERNAME) return env.USERNAME;
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME ?? '';
  }
}

/**
 * Where Cordon keeps its files for one OS user: settings, data (SQLite), and the 0700 runtime dir
 * holding the daemon's lock, pid and control socket. CORDON_HOME roots them all in one directory
 * (tests, portable installs).
 */
import { mkdirSync, statSync, chmodSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { CoreError } from '../api/errors.ts';

export type CordonPaths = Readonly<{
  configDir: string;
  dataDir: string;
  runtimeDir: string;
  userSettingsFile: string;
  databaseFile: string;
  socketPath: string;
  pidFile: string;
  lockFile: string;
  logFile: string;
}>;

export function cordonPaths(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): CordonPaths {
  const home = env.HOME || homedir();
  let configDir: string;
  let dataDir: string;
  let runtimeDir: string;
  if (env.CORDON_HOME) {
    configDir = join(env.CORDON_HOME, 'config');
    dataDir = join(env.CORDON_HOME, 'data');
    runtimeDir = join(env.CORDON_HOME, 'run');
  } else if (platform === 'darwin') {
    configDir = join(home, 'Library', 'Application Support', 'Cordon');
    dataDir = configDir;
    runtimeDir = join(configDir, 'run');
  } else if (platform === 'win32') {
    const appData = env.APPDATA || join(home, 'AppData', 'Roaming');
    const localAppData = env.LOCALAPPDATA || join(home, 'AppData', 'Local');
    configDir = join(appData, 'Cordon');
    dataDir = join(localAppData, 'Cordon');
    runtimeDir = join(localAppData, 'Cordon', 'run');
  } else {
    configDir = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'cordon');
    dataDir = join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'cordon');
    runtimeDir = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'cordon') : join(tmpdir(), `cordon-${userInfo().uid}`);
  }
  const socketPath =
    platform === 'win32' ? `\\\\.\\pipe\\cordon-${userInfo().username}-${hashTag(runtimeDir)}` : join(runtimeDir, 'control.sock');
  return {
    configDir,
    dataDir,
    runtimeDir,
    userSettingsFile: join(configDir, 'settings.json'),
    databaseFile: join(dataDir, 'cordon.db'),
    socketPath,
    pidFile: join(runtimeDir, 'daemon.pid'),
    lockFile: join(runtimeDir, 'daemon.lock'),
    logFile: join(dataDir, 'daemon.log'),
  };
}

/**
 * Creates the runtime dir with mode 0700 and refuses one that another user owns or others can
 * enter: the control socket inside it is the daemon's whole local API.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return;
  const st = statSync(dir);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new CoreError('ERR_INTERNAL', `${dir} belongs to another user (uid ${st.uid}); refusing to use it`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

function hashTag(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16);
}

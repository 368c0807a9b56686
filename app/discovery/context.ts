/**
 * What a scan needs to know about the machine: whose home, which environment, which OS. Scanners
 * take it as a value instead of reading process globals, so tests scan fixture homes and a
 * Linux test can exercise macOS and Windows paths.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FILE_TIMEOUT_MS, DEFAULT_MAX_FILE_BYTES } from './safeRead.ts';

export type DiscoveryContext = Readonly<{
  home: string;
  /** Environment as the user's agents would see it (PATH, XDG_*, CLAUDE_CONFIG_DIR, CODEX_HOME, ...). */
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  /** Project roots to scan besides those the clients record (settings: discovery.projectRoots). */
  projectRoots: readonly string[];
  /** Whether system-wide locations (/etc, /Library, /usr/local, /Applications ...) are scanned. */
  includeSystem: boolean;
  maxFileBytes: number;
  fileTimeoutMs: number;
  /** Upper bound for running an agent binary with --version, when metadata does not tell. */
  versionTimeoutMs: number;
}>;

export type DiscoveryContextInput = Partial<DiscoveryContext> & Readonly<{ home?: string }>;

/**
 * Builds a context. With an explicit `home` (cordon scan --home DIR, tests), XDG and client
 * directory variables from the caller's environment are ignored, so the scan sees only that home;
 * PATH is kept only when given in `env`.
 */
export function discoveryContext(input: DiscoveryContextInput = {}): DiscoveryContext {
  const explicitHome = input.home !== undefined;
  const home = input.home ?? process.env.HOME ?? homedir();
  const env = input.env ?? (explicitHome ? { PATH: join(home, '.local', 'bin') } : { ...process.env });
  return {
    home,
    env,
    platform: input.platform ?? process.platform,
    projectRoots: input.projectRoots ?? [],
    includeSystem: input.includeSystem ?? !explicitHome,
    maxFileBytes: input.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    fileTimeoutMs: input.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS,
    versionTimeoutMs: input.versionTimeoutMs ?? 1500,
  };
}

/** VS Code-style user-data dir for an editor ("Code", "Cursor", "Windsurf", ...). */
export function editorUserDataDir(ctx: DiscoveryContext, app: string): string {
  if (ctx.platform === 'darwin') return join(ctx.home, 'Library', 'Application Support', app);
  if (ctx.platform === 'win32') return join(ctx.env.APPDATA ?? join(ctx.home, 'AppData', 'Roaming'), app);
  return join(ctx.env.XDG_CONFIG_HOME ?? join(ctx.home, '.config'), app);
}

/** $XDG_CONFIG_HOME or ~/.config (Linux and, for many CLIs, macOS too). */
export function xdgConfigHome(ctx: DiscoveryContext): string {
  return ctx.env.XDG_CONFIG_HOME ?? join(ctx.home, '.config');
}

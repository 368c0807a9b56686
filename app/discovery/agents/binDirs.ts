/**
 * Where CLI agents live: the PATH dirs first (in PATH order, the one the user runs wins), then the
 * usual install dirs of npm prefixes, nvm/fnm, volta, pnpm, bun, native installers and Homebrew.
 * Only computes and lists dirs; cli.ts looks inside them.
 */
import { isAbsolute, join, normalize } from 'node:path';
import type { DiscoveryContext } from '../context.ts';
import { CLI_AGENTS } from './catalog.ts';
import { listDir, readText, type AgentScan } from './scanState.ts';

export type BinDir = Readonly<{
  dir: string;
  origin: 'path' | 'install-dir';
  /** The npm global package dir that belongs to this bin dir, when it is a known npm prefix. */
  npmLibDir?: string;
}>;

const MAX_PATH_ENTRIES = 256;
const MAX_NODE_VERSIONS = 64;

/** Every dir to look for agent executables in, deduplicated, PATH first. */
export async function binDirs(scan: AgentScan): Promise<BinDir[]> {
  const { ctx } = scan;
  const seen = new Set<string>();
  const out: BinDir[] = [];
  const npmPrefixes = new Set<string>();
  const add = (dir: string | undefined, origin: BinDir['origin']): void => {
    if (!dir || !isAbsolute(dir)) return; // A relative PATH entry means "wherever the cwd is": never scanned.
    const clean = normalize(dir).replace(/(.)[\\/]+$/, '$1');
    if (seen.has(clean)) return;
    seen.add(clean);
    out.push({ dir: clean, origin });
  };
  const [nodeVersionBins, npmrcPrefix] = await Promise.all([nodeVersionBinDirs(ctx), npmrcPrefixDir(scan)]);
  for (const prefix of [...npmPrefixDirs(ctx), ...nodeVersionBins.map((bin) => join(bin, '..')), npmrcPrefix]) {
    if (prefix) npmPrefixes.add(npmBinDir(ctx, prefix));
  }
  for (const dir of pathDirs(ctx)) add(dir, 'path');
  for (const dir of [...homeBinDirs(ctx), ...nodeVersionBins, ...npmPrefixes]) add(dir, 'install-dir');
  if (ctx.includeSystem) for (const dir of systemBinDirs(ctx)) add(dir, 'install-dir');
  return out.map((entry) =>
    npmPrefixes.has(entry.dir) ? { ...entry, npmLibDir: ctx.platform === 'win32' ? join(entry.dir, 'node_modules') : join(entry.dir, '..', 'lib', 'node_modules') } : entry,
  );
}

/** Native-installer and Python tool dirs whose contents change on install and upgrade. */
export function nativeInstallDirs(ctx: DiscoveryContext): string[] {
  const data = ctx.platform === 'win32' || ctx.platform === 'darwin' ? join(ctx.home, '.local', 'share') : (ctx.env.XDG_DATA_HOME ?? join(ctx.home, '.local', 'share'));
  const dirs = new Set<string>();
  for (const spec of CLI_AGENTS) {
    for (const root of spec.versionRoots ?? []) dirs.add(join(data, root, 'versions'));
    for (const rel of spec.nativeBinDirs ?? []) dirs.add(join(ctx.home, rel));
  }
  dirs.add(join(data, 'pipx', 'venvs'));
  dirs.add(join(ctx.home, '.local', 'pipx', 'venvs'));
  dirs.add(join(data, 'uv', 'tools'));
  return [...dirs];
}

function pathDirs(ctx: DiscoveryContext): string[] {
  const raw = ctx.env.PATH ?? ctx.env.Path ?? '';
  return raw.split(ctx.platform === 'win32' ? ';' : ':').slice(0, MAX_PATH_ENTRIES).map((entry) => entry.trim().replace(/^"(.*)"$/, '$1'));
}

function homeBinDirs(ctx: DiscoveryContext): string[] {
  const home = ctx.home;
  const env = ctx.env;
  const dirs = [
    join(home, '.local', 'bin'),
    join(home, 'bin'),
    join(env.BUN_INSTALL ?? join(home, '.bun'), 'bin'),
    join(env.VOLTA_HOME ?? join(home, '.volta'), 'bin'),
    env.PNPM_HOME ?? defaultPnpmHome(ctx),
    join(home, '.claude', 'local'),
    join(env.GOPATH ?? join(home, 'go'), 'bin'),
    join(home, '.cargo', 'bin'),
    ...CLI_AGENTS.flatMap((spec) => (spec.nativeBinDirs ?? []).map((rel) => join(home, rel))),
  ];
  if (ctx.platform === 'win32') dirs.push(join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'Volta', 'bin'));
  return dirs;
}

/** Prefixes `npm i -g` may use: its env override, the common user prefixes, the system ones. */
function npmPrefixDirs(ctx: DiscoveryContext): string[] {
  const prefixes = [ctx.env.NPM_CONFIG_PREFIX ?? ctx.env.npm_config_prefix, join(ctx.home, '.npm-global'), join(ctx.home, '.npm-packages'), join(ctx.home, '.local')];
  if (ctx.platform === 'win32') prefixes.push(join(ctx.env.APPDATA ?? join(ctx.home, 'AppData', 'Roaming'), 'npm'));
  else if (ctx.includeSystem) prefixes.push('/usr/local', '/usr', '/opt/homebrew');
  return prefixes.filter((prefix): prefix is string => typeof prefix === 'string' && prefix !== '');
}

/** On Windows npm puts the shims in the prefix itself; elsewhere in <prefix>/bin. */
function npmBinDir(ctx: DiscoveryContext, prefix: string): string {
  return normalize(ctx.platform === 'win32' ? prefix : join(prefix, 'bin')).replace(/(.)[\\/]+$/, '$1');
}

function defaultPnpmHome(ctx: DiscoveryContext): string {
  if (ctx.platform === 'darwin') return join(ctx.home, 'Library', 'pnpm');
  if (ctx.platform === 'win32') return join(ctx.env.LOCALAPPDATA ?? join(ctx.home, 'AppData', 'Local'), 'pnpm');
  return join(ctx.env.XDG_DATA_HOME ?? join(ctx.home, '.local', 'share'), 'pnpm');
}

function systemBinDirs(ctx: DiscoveryContext): string[] {
  if (ctx.platform === 'win32') {
    const programFiles = ctx.env.ProgramFiles ?? ctx.env.PROGRAMFILES;
    return programFiles ? [join(programFiles, 'nodejs')] : [];
  }
  const dirs = ['/usr/local/bin', '/usr/bin', '/opt/homebrew/bin'];
  if (ctx.platform === 'linux') dirs.push('/home/linuxbrew/.linuxbrew/bin', '/snap/bin');
  return dirs;
}

/** bin dirs of every node version nvm or fnm manages (their globals are per version). */
async function nodeVersionBinDirs(ctx: DiscoveryContext): Promise<string[]> {
  const nvmRoot = join(ctx.env.NVM_DIR ?? join(ctx.home, '.nvm'), 'versions', 'node');
  const fnmRoot = join(ctx.env.FNM_DIR ?? join(ctx.env.XDG_DATA_HOME ?? join(ctx.home, '.local', 'share'), 'fnm'), 'node-versions');
  const [nvm, fnm] = await Promise.all([listDir(nvmRoot, MAX_NODE_VERSIONS), listDir(fnmRoot, MAX_NODE_VERSIONS)]);
  const dirs: string[] = [];
  if (nvm.kind === 'ok') for (const entry of nvm.entries) if (entry.name.startsWith('v')) dirs.push(join(nvmRoot, entry.name, 'bin'));
  if (fnm.kind === 'ok') for (const entry of fnm.entries) if (entry.name.startsWith('v')) dirs.push(join(fnmRoot, entry.name, 'installation', 'bin'));
  return dirs.sort();
}

/** The `prefix=` of ~/.npmrc (npm's user config), where `npm i -g` puts packages. */
async function npmrcPrefixDir(scan: AgentScan): Promise<string | null> {
  const read = await readText(scan, join(scan.ctx.home, '.npmrc'), { maxBytes: 64 * 1024 });
  scan.watch.add(join(scan.ctx.home, '.npmrc'));
  // An unreadable .npmrc is npm's problem, not an agent's: it only costs one guess.
  if (read.kind !== 'ok') return null;
  for (const line of read.text.split(/\r?\n/, 1000)) {
    const match = /^\s*prefix\s*=\s*(.+?)\s*$/.exec(line);
    if (!match?.[1]) continue;
    const value = match[1].replace(/^["'](.*)["']$/, '$1');
    const expanded = value.startsWith('~/') || value.startsWith('~\\') ? join(scan.ctx.home, value.slice(2)) : value.replace(/\$\{?HOME\}?/, scan.ctx.home);
    return isAbsolute(expanded) ? expanded : null;
  }
  return null;
}

/**
 * Command-line agents: executables with a known name in the PATH and install dirs, identified and
 * versioned from what the install left on disk (npm package.json, native-installer version dirs,
 * Homebrew kegs, Python dist-info, shim scripts). Only when nothing tells is `--version` run, and
 * only when the caller allows it (probe.ts).
 */
import type { Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import type { AgentRecord } from '../../api/inventory.ts';
import { binDirs, nativeInstallDirs, type BinDir } from './binDirs.ts';
import { CLI_AGENTS, type CliAgentSpec } from './catalog.ts';
import { probeVersion } from './probe.ts';
import { agentRecord, lstatOrNull, mapLimit, readText, reportError, resolvePath, type AgentScan } from './scanState.ts';
import { homebrewVersion, npmPackageVersion, pythonDistVersion, pythonPrefixOf, versionFromVersionsDir, type MetadataVersion } from './version.ts';

export type CliScanOptions = Readonly<{ versionProbe: boolean }>;

const WINDOWS_EXTENSIONS = ['.exe', '.cmd', '.bat', '.com'];
const MAX_SHIM_BYTES = 64 * 1024;
const PROBE_CONCURRENCY = 4;

type Hit = Readonly<{ spec: CliAgentSpec; binPath: string; binDir: BinDir; realPath: string; stats: Stats }>;

type Finding = Readonly<{ hit: Hit; source: string; version: string | null; needsProbe: boolean }>;

/** Finds every installed CLI agent; one record per executable (symlinks to one file count once). */
export async function scanCliAgents(scan: AgentScan, options: CliScanOptions): Promise<AgentRecord[]> {
  const dirs = await binDirs(scan);
  for (const dir of dirs) {
    scan.watch.add(dir.dir);
    if (dir.npmLibDir) scan.watch.add(dir.npmLibDir);
  }
  for (const dir of nativeInstallDirs(scan.ctx)) scan.watch.add(dir);

  const perDir = await Promise.all(dirs.map((dir) => findInDir(scan, dir)));
  const hits: Hit[] = [];
  const seen = new Set<string>();
  for (const hit of perDir.flat()) {
    // One record per agent per file (two PATH dirs, `kilo` and `kilocode`) and per dir (.exe and
    // .cmd side by side). Different agents may share a file: volta's shims are all one binary.
    const byFile = `${hit.spec.kind}\u0000${hit.realPath}`;
    const byDir = `${hit.spec.kind}\u0000${hit.binDir.dir}`;
    if (seen.has(byFile) || seen.has(byDir)) continue;
    seen.add(byFile);
    seen.add(byDir);
    hits.push(hit);
  }

  const findings = (await Promise.all(hits.map((hit) => identify(scan, hit)))).filter((f): f is Finding => f !== null);
  const probing = options.versionProbe && scan.ctx.platform === process.platform;
  const versions = await mapLimit(findings, PROBE_CONCURRENCY, (finding) => (finding.needsProbe && probing ? probe(scan, finding) : Promise.resolve(finding.version)));
  return findings.map((finding, i) =>
    agentRecord({
      kind: finding.hit.spec.kind,
      name: finding.hit.spec.name,
      installType: 'cli',
      version: versions[i] ?? null,
      path: finding.hit.binPath,
      source: finding.source,
      canonical: finding.hit.binPath,
    }),
  );
}

/** Looks up each known executable name in one dir (targeted lstats: no listing of /usr/bin). */
async function findInDir(scan: AgentScan, binDir: BinDir): Promise<Hit[]> {
  const dirStats = await lstatOrNull(binDir.dir);
  if (dirStats === null) return [];
  const isWindows = scan.ctx.platform === 'win32';
  const candidates = CLI_AGENTS.flatMap((spec) =>
    spec.bins.flatMap((bin) => (isWindows ? WINDOWS_EXTENSIONS.map((ext) => ({ spec, name: bin + ext })) : [{ spec, name: bin }])),
  );
  const found = await Promise.all(
    candidates.map(async ({ spec, name }): Promise<Hit | null> => {
      const binPath = join(binDir.dir, name);
      const link = await lstatOrNull(binPath);
      if (link === null || link.isDirectory()) return null;
      let realPath = binPath;
      let stats = link;
      if (link.isSymbolicLink()) {
        const resolved = await resolvePath(binPath);
        if (resolved.kind === 'loop') reportError(scan, binPath, 'symlink-loop', 'symbolic link loop', spec.kind);
        if (resolved.kind !== 'ok') return null; // A dangling link is a removed install.
        realPath = resolved.realPath;
        stats = resolved.stats;
      }
      if (!stats.isFile()) return null;
      if (!isWindows && (stats.mode & 0o111) === 0) return null; // Not executable: not a command.
      return { spec, binPath, binDir, realPath, stats };
    }),
  );
  return found.filter((hit): hit is Hit => hit !== null);
}

/** Works out where the executable came from and its version, without running it. Null: not this agent. */
async function identify(scan: AgentScan, hit: Hit): Promise<Finding | null> {
  const { spec, realPath } = hit;
  const brew = homebrewVersion(realPath, spec.homebrew ?? []);

  const roots = nodeModulesRoots(realPath);
  if (roots.length > 0) {
    const root = roots.find((r) => spec.npm?.includes(r.name));
    if (!root) return null; // Another npm package's bin that happens to share the name.
    const meta = await packageVersion(scan, root.dir, spec.kind);
    return { hit, source: brew ? 'homebrew' : nodeModulesSource(root.dir), version: meta.version ?? brew?.version ?? null, needsProbe: false };
  }

  const native = versionFromVersionsDir(realPath, spec.versionRoots ?? []);
  if (native) {
    scan.watch.add(native.versionsDir);
    return { hit, source: 'native-installer', version: native.version, needsProbe: false };
  }
  if (brew) return { hit, source: 'homebrew', version: brew.version, needsProbe: false };

  const prefix = pythonPrefixOf(realPath);
  if (spec.pypi && prefix) {
    const python = await pythonVersion(scan, prefix, spec);
    if (python) return { hit, source: python.source, version: python.version, needsProbe: false };
  }

  if (hit.stats.size <= MAX_SHIM_BYTES) {
    const fromShim = await identifyShim(scan, hit);
    if (fromShim) return fromShim;
  }

  const voltaHome = scan.ctx.env.VOLTA_HOME ?? join(scan.ctx.home, '.volta');
  if (spec.npm && hit.binDir.dir === join(voltaHome, 'bin')) {
    // Volta's shims are one binary that routes by name; the package sits in Volta's image dir.
    for (const pkg of spec.npm) {
      const image = join(voltaHome, 'tools', 'image', 'packages', ...pkg.split('/'));
      for (const root of [join(image, 'lib', 'node_modules', ...pkg.split('/')), join(image, 'node_modules', ...pkg.split('/'))]) {
        const meta = await npmPackageVersion(scan, root, spec.kind);
        if (meta === 'missing') continue;
        watchPackage(scan, root);
        return { hit, source: 'volta', version: meta.version, needsProbe: false };
      }
    }
  }

  const isNative = (spec.nativeBinDirs ?? []).some((rel) => join(scan.ctx.home, rel) === hit.binDir.dir);
  const source = isNative ? 'native-installer' : hit.binDir.origin;
  return { hit, source, version: null, needsProbe: true };
}

/**
 * Small executables are usually shims: npm's Windows .cmd and sh shims, pnpm's scripts, the
 * ~/.claude/local wrapper, pip/pipx entry points. Their text names the package they start.
 */
async function identifyShim(scan: AgentScan, hit: Hit): Promise<Finding | null> {
  const { spec } = hit;
  const read = await readText(scan, hit.realPath, { maxBytes: MAX_SHIM_BYTES, client: spec.kind });
  if (read.kind !== 'ok') return null; // A small binary, or unreadable: no metadata from it.
  const text = read.text;

  const shebang = /^#!\s*(\S+)/.exec(text);
  if (spec.pypi && shebang?.[1] && /^python[\d.]*(\.exe)?$/i.test(basename(shebang[1]))) {
    const prefix = pythonPrefixOf(shebang[1]);
    const python = prefix ? await pythonVersion(scan, prefix, spec) : null;
    if (python) return { hit, source: python.source, version: python.version, needsProbe: false };
  }

  if (!spec.npm || !text.includes('node_modules')) return null;
  const binDir = hit.binDir.dir;
  for (const pkg of spec.npm) {
    const roots = [...shimPackageRoots(text, pkg, binDir), join(binDir, 'node_modules', pkg), join(binDir, '..', 'lib', 'node_modules', pkg)];
    for (const root of new Set(roots)) {
      const meta = await npmPackageVersion(scan, root, spec.kind);
      if (meta === 'missing') continue;
      watchPackage(scan, root);
      return { hit, source: nodeModulesSource(root), version: meta.version, needsProbe: false };
    }
  }
  return null;
}

/** Package roots a shim's text points at: absolute paths, or relative to its dir ($basedir, %dp0%). */
function shimPackageRoots(text: string, pkg: string, binDir: string): string[] {
  const escaped = pkg.replace(/[.*+?^${}()|[\]\\/]/g, (c) => (c === '/' ? '[\\\\/]' : `\\${c}`));
  const re = new RegExp(`([^\\s"'\`=]*)node_modules[\\\\/]${escaped}(?=[\\\\/"'\\s]|$)`, 'g');
  const roots: string[] = [];
  for (const match of text.slice(0, MAX_SHIM_BYTES).matchAll(re)) {
    if (roots.length >= 8) break;
    const lead = match[1] ?? '';
    const rel = /^(?:\$\{?basedir\}?|%~?dp0%?)[\\/]?(.*)$/i.exec(lead);
    const base = rel ? join(binDir, (rel[1] ?? '').replace(/\\/g, '/')) : lead;
    if (rel || isAbsolute(base)) roots.push(join(base, 'node_modules', ...pkg.split('/')));
  }
  return roots;
}

async function packageVersion(scan: AgentScan, root: string, client: string): Promise<MetadataVersion> {
  watchPackage(scan, root);
  const meta = await npmPackageVersion(scan, root, client);
  if (meta !== 'missing') return meta;
  const path = join(root, 'package.json');
  reportError(scan, path, 'schema', 'npm package has no package.json', client);
  return { version: null, metadataPath: path };
}

async function pythonVersion(scan: AgentScan, prefix: string, spec: CliAgentSpec): Promise<{ source: string; version: string | null } | null> {
  const meta = await pythonDistVersion(scan, prefix, spec.pypi ?? [], spec.kind);
  if (!meta) return null;
  scan.watch.add(dirname(dirname(meta.metadataPath)));
  const marker = prefix.split(sep).join('/');
  const source = marker.includes('/pipx/venvs/') ? 'pipx' : marker.includes('/uv/tools/') ? 'uv-tool' : 'pip';
  return { source, version: meta.version };
}

async function probe(scan: AgentScan, finding: Finding): Promise<string | null> {
  const { hit } = finding;
  // Windows batch shims cannot run without a shell, which the probe never uses.
  if (/\.(cmd|bat)$/i.test(hit.binPath)) return null;
  const outcome = await probeVersion(
    { path: hit.binPath, realPath: hit.realPath, size: hit.stats.size, mtimeMs: hit.stats.mtimeMs },
    { home: scan.ctx.home, path: scan.ctx.env.PATH ?? '', ...(scan.ctx.env.SystemRoot ? { systemRoot: scan.ctx.env.SystemRoot } : {}) },
    scan.ctx.versionTimeoutMs,
  );
  if (outcome.kind === 'version') return outcome.version;
  if (outcome.kind === 'timeout') reportError(scan, hit.binPath, 'timeout', `\`--version\` gave no answer within ${scan.ctx.versionTimeoutMs} ms`, hit.spec.kind);
  return null;
}

/** `node_modules/<pkg>` roots along a path, outermost first (a package may nest its binary package). */
function nodeModulesRoots(path: string): { name: string; dir: string }[] {
  const parts = path.split(sep);
  const roots: { name: string; dir: string }[] = [];
  for (let i = 0; i + 1 < parts.length; i++) {
    if (parts[i] !== 'node_modules') continue;
    const first = parts[i + 1] ?? '';
    if (first.startsWith('.') || first === '') continue; // .bin, .pnpm
    const scoped = first.startsWith('@');
    if (scoped && i + 2 >= parts.length) continue;
    const name = scoped ? `${first}/${parts[i + 2]}` : first;
    roots.push({ name, dir: parts.slice(0, i + (scoped ? 3 : 2)).join(sep) });
  }
  return roots;
}

function nodeModulesSource(dir: string): string {
  const marker = dir.split(sep).join('/');
  if (marker.includes('/.bun/install/')) return 'bun-global';
  if (marker.includes('/pnpm/') || marker.includes('/.pnpm/')) return 'pnpm-global';
  if (marker.includes('/.volta/') || marker.includes('/Volta/')) return 'volta';
  if (marker.includes('/.claude/local/')) return 'npm-local';
  return 'npm-global';
}

function watchPackage(scan: AgentScan, root: string): void {
  scan.watch.add(join(root, 'package.json'));
  scan.watch.add(dirname(root));
}

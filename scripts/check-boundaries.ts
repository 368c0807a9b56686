// Checks the process boundaries of docs/ARCHITECTURE.md over the whole import graph, including
// relative imports that ESLint's name-based rules cannot see:
//   app/**      never imports electron, react, or anything in main/, renderer/, server/
//   app/api/**  imports only app/api/** (no Node built-ins, no packages): renderer/ imports it
//   renderer/** imports only renderer/**, app/api/** and browser-safe packages (no Node, no native)
//   main/**     imports only main/**, app/api/**, app/client/** and electron
//   server/**   never imports electron, main/ or renderer/ (server/console/ excepted, below)
//   server/console/** is browser code: only server/console/**, app/api/** and the shared design
//               system of renderer/ (renderer/src/components/, theme.ts, styles.css); no Node
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Usage: node scripts/check-boundaries.ts [ROOT]   (ROOT defaults to the repository)
const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const NATIVE = new Set(['better-sqlite3', '@napi-rs/keyring']);
const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

type Violation = { file: string; spec: string; rule: string };

function walk(dir: string, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function area(file: string): string {
  const rel = relative(root, file).split(sep);
  if (rel[0] === 'app' && rel[1] === 'api') return 'app/api';
  if (rel[0] === 'app' && rel[1] === 'client') return 'app/client';
  if (rel[0] === 'server' && rel[1] === 'console') return 'server/console';
  return rel[0] ?? '';
}

/** The presentational pieces of renderer/ that the fleet console reuses (no client, no pages). */
function isSharedDesignSystem(target: string): boolean {
  const rel = relative(join(root, 'renderer', 'src'), target).split(sep).join('/');
  return rel.startsWith('components/') || rel === 'theme.ts' || rel === 'styles.css';
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

function check(file: string, spec: string): string | null {
  const from = area(file);
  const relativeSpec = spec.startsWith('.');
  const to = relativeSpec ? area(resolve(dirname(file), spec)) : null;
  const pkg = relativeSpec ? null : packageName(spec);
  const isNode = pkg !== null && (builtins.has(spec) || builtins.has(pkg));
  switch (from) {
    case 'app/api':
      if (to !== null && to !== 'app/api') return 'app/api is the pure contract: it imports only app/api';
      if (pkg !== null) return 'app/api imports no packages or Node built-ins (renderer/ imports it)';
      return null;
    case 'app':
    case 'app/client':
      if (pkg === 'electron' || pkg === 'react' || pkg === 'react-dom') return 'app/ is headless: no electron or react';
      if (to === 'main' || to === 'renderer' || to === 'server') return 'clients depend on app/, never the reverse';
      return null;
    case 'renderer':
      if (isNode) return 'renderer/ never imports Node built-ins';
      if (pkg !== null && (NATIVE.has(pkg) || pkg === 'electron')) return 'renderer/ never imports native modules or electron';
      if (to !== null && to !== 'renderer' && to !== 'app/api') return 'renderer/ imports only renderer/ and app/api';
      return null;
    case 'main':
      if (to !== null && !['main', 'app/api', 'app/client'].includes(to)) return 'main/ is a thin client: it imports only main/, app/api and app/client';
      return null;
    case 'server/console': {
      if (isNode) return 'server/console/ runs in the browser: no Node built-ins';
      if (pkg !== null && (NATIVE.has(pkg) || pkg === 'electron')) return 'server/console/ never imports native modules or electron';
      if (to === 'renderer' && !isSharedDesignSystem(resolve(dirname(file), spec))) return 'server/console/ shares only renderer/src/components/, theme.ts and styles.css';
      if (to !== null && !['server/console', 'app/api', 'renderer'].includes(to)) return 'server/console/ imports only server/console/, app/api and the shared design system';
      return null;
    }
    case 'server':
      if (to === 'server/console') return 'the fleet server serves server/console/ as built files; it never imports it';
      if (pkg === 'electron') return 'server/ never imports electron';
      if (to === 'main' || to === 'renderer') return 'server/ never imports main/ or renderer/';
      return null;
    default:
      return null;
  }
}

const violations: Violation[] = [];
for (const top of ['app', 'main', 'renderer', 'server']) {
  for (const file of walk(join(root, top))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT_RE)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (!spec) continue;
      const rule = check(file, spec);
      if (rule) violations.push({ file: relative(root, file), spec, rule });
    }
  }
}
if (violations.length > 0) {
  for (const v of violations) process.stderr.write(`${v.file}: imports '${v.spec}': ${v.rule} (docs/ARCHITECTURE.md)\n`);
  process.exitCode = 1;
} else {
  process.stdout.write('process boundaries: ok\n');
}

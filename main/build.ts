/**
 * Builds the Electron main process for packaging: strips the types of main/, app/api/ and
 * app/client/ into dist/electron/ (ESM .js), and the sandboxed preload into one CommonJS script.
 * Usage: node main/build.ts [OUT_DIR]   (run before electron-builder; see docs/desktop-app.md)
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_DIRS = ['main', join('app', 'api'), join('app', 'client')];
const PRELOAD = join('main', 'preload', 'index.ts');
const SPECIFIER_RE = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g;
const ELECTRON_IMPORT_RE = /^import\s*\{([^}]*)\}\s*from\s*['"]electron['"];?/m;

function listTs(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listTs(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Strips types and rewrites relative `.ts` specifiers to `.js`. */
export function toJavaScript(source: string): string {
  const js = stripTypeScriptTypes(source, { mode: 'strip' });
  return js.replace(SPECIFIER_RE, (_m, lead: string, quote: string, spec: string) => `${lead}${quote}${spec}.js${quote}`);
}

/**
 * The sandboxed preload cannot load modules: it must import nothing but electron. Turns that one
 * import into require() and refuses any other run-time import or export.
 */
export function toPreloadScript(source: string): string {
  let js = stripTypeScriptTypes(source, { mode: 'strip' });
  js = js.replace(ELECTRON_IMPORT_RE, (_m, names: string) => `const {${names.replace(/\s+/g, ' ').replace(/,\s*,/g, ',').replace(/,\s*$/, ' ')}} = require('electron');`);
  if (/^\s*(import|export)\s/m.test(js)) throw new Error('the preload may import only electron and must not export anything');
  return `'use strict';\n${js}`;
}

/** Writes dist/electron (or outDir) from the repository at `root`; returns the files written. */
export function buildMain(root: string, outDir: string): string[] {
  const written: string[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const file of listTs(join(root, dir))) {
      const rel = relative(root, file);
      const source = readFileSync(file, 'utf8');
      const isPreload = rel === PRELOAD;
      const target = join(outDir, isPreload ? rel.replace(/\.ts$/, '.cjs') : rel.replace(/\.ts$/, '.js'));
      if (rel === join('main', 'build.ts')) continue;
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, isPreload ? toPreloadScript(source) : toJavaScript(source));
      written.push(target);
    }
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const out = resolve(process.argv[2] ?? join(root, 'dist', 'electron'));
  const files = buildMain(root, out);
  process.stdout.write(`built ${files.length} files into ${relative(root, out) || out}\n`);
}

// `npm start` for the desktop app: runs the Electron tray app when Electron's binary is installed,
// otherwise opens the daemon's local web console (`cordon ui`). Never downloads anything.
// Usage: node scripts/start-ui.ts [--print]   (--print: say which one it would start, and exit)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The Electron binary installed by the `electron` package, or null. Reads node_modules/electron/path.txt
 * directly: require('electron') would try to download a missing binary.
 */
export function electronBinary(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const pkgDir = join(repoRoot, 'node_modules', 'electron');
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relativePath = readFileSync(pathFile, 'utf8').trim();
  if (!relativePath) return null;
  const binary = env.ELECTRON_OVERRIDE_DIST_PATH ? join(env.ELECTRON_OVERRIDE_DIST_PATH, relativePath) : join(pkgDir, 'dist', relativePath);
  return existsSync(binary) ? binary : null;
}

export type StartPlan = { readonly kind: 'electron' | 'web'; readonly command: string; readonly args: readonly string[] };

/** What `npm start` runs on this machine. */
export function startPlan(repoRoot: string, env: NodeJS.ProcessEnv = process.env): StartPlan {
  const binary = electronBinary(repoRoot, env);
  if (binary) return { kind: 'electron', command: binary, args: [join(repoRoot, 'dist', 'electron', 'main', 'index.js')] };
  return { kind: 'web', command: process.execPath, args: [join(repoRoot, 'bin', 'cordon.js'), 'ui'] };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const plan = startPlan(root);
  if (process.argv.includes('--print')) {
    process.stdout.write(`${plan.kind}\n`);
  } else {
    if (plan.kind === 'electron') {
      const built = spawnSync(process.execPath, [join(root, 'main', 'build.ts')], { stdio: 'inherit' });
      if (built.status !== 0) process.exit(built.status ?? 1);
    } else {
      process.stderr.write('Electron is not installed here: opening the local web console instead (cordon ui)\n');
    }
    const child = spawn(plan.command, [...plan.args], { stdio: 'inherit' });
    child.on('exit', (code) => process.exit(code ?? 0));
    child.on('error', (error) => {
      process.stderr.write(`start-ui: could not start ${plan.command}: ${error.message}\n`);
      process.exit(1);
    });
  }
}

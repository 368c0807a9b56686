/**
 * Builds Cordon's optional native accelerators into dist/native/ (not committed):
 *   - sockdiag (Linux): in-process sock_diag lookups for connection attribution
 *     (app/attribution/linux/native/sockdiag.c).
 * They use Node-API only, so one build serves every Node (and Electron) with that API version.
 * Without a C compiler or Node's headers nothing is built and Cordon uses its fallbacks (the python3
 * helper, then /proc/net/tcp); the message says which.
 * Usage: node scripts/build-native.ts [--force] [--out FILE]   (--out: build there instead, for tests)
 * Exit status: 0 when built, up to date or not applicable; 1 when a compile that could run failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddonPath } from '../app/attribution/linux/nativeSockDiag.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'app', 'attribution', 'linux', 'native', 'sockdiag.c');

/** Directories that may hold node_api.h: npm's nodedir (ensure-node.sh sets it), then beside this Node, then the distro's. */
function headerDirs(): string[] {
  const dirs: string[] = [];
  const nodedir = process.env.npm_config_nodedir;
  if (nodedir) dirs.push(join(nodedir, 'include', 'node'));
  dirs.push(resolve(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node');
  return dirs;
}

function main(): number {
  if (process.platform !== 'linux') {
    process.stdout.write(`build-native: nothing to build on ${process.platform} (sock_diag is Linux only)\n`);
    return 0;
  }
  const outFlag = process.argv.indexOf('--out');
  const out = outFlag > 0 && process.argv[outFlag + 1] ? resolve(process.argv[outFlag + 1] as string) : nativeAddonPath();
  const force = process.argv.includes('--force');
  if (!force && existsSync(out) && statSync(out).mtimeMs >= statSync(SOURCE).mtimeMs) {
    process.stdout.write(`build-native: ${out} is up to date\n`);
    return 0;
  }
  const include = headerDirs().find((dir) => existsSync(join(dir, 'node_api.h')));
  if (include === undefined) {
    process.stdout.write(`build-native: skipped, no node_api.h in ${headerDirs().join(', ')}; attribution uses the python3 helper\n`);
    return 0;
  }
  const cc = process.env.CC ?? 'cc';
  if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status !== 0) {
    process.stdout.write(`build-native: skipped, no C compiler (${cc}); attribution uses the python3 helper\n`);
    return 0;
  }
  mkdirSync(dirname(out), { recursive: true });
  const partial = `${out}.${process.pid}.tmp`;
  // Undefined napi_* symbols resolve against the loading node binary at dlopen time.
  const args = ['-std=c11', '-D_GNU_SOURCE', '-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-fvisibility=hidden', `-I${include}`, SOURCE, '-o', partial];
  const result = spawnSync(cc, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`build-native: ${cc} failed (${result.status ?? result.signal}); attribution will use the python3 helper\n`);
    return 1;
  }
  renameSync(partial, out);
  process.stdout.write(`build-native: built ${out}\n`);
  return 0;
}

process.exitCode = main();

/**
 * Builds Cordon's optional native accelerators into dist/native/ (not committed), each listed in
 * app/util/nativeAddon.ts:
 *   - sockdiag (Linux): in-process sock_diag lookups for connection attribution
 *     (app/attribution/linux/native/sockdiag.c);
 *   - splicerelay (Linux): the zero-copy relay of opaque tunnels (app/proxy/linux/native/splicerelay.c).
 * They use Node-API only, so one build serves every Node (and Electron) with that API version.
 * Without a C compiler or Node's headers nothing is built and Cordon uses its fallbacks; the
 * message says which.
 * Usage: node scripts/build-native.ts [--force] [--only NAME [--out FILE]]   (--out: build there instead, for tests)
 * Exit status: 0 when built, up to date or not applicable; 1 when a compile that could run failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { NATIVE_ADDONS, NATIVE_ROOT, nativeAddonPath, type NativeAddonName } from '../app/util/nativeAddon.ts';

/** Directories that may hold node_api.h: npm's nodedir (ensure-node.sh sets it), then beside this Node, then the distro's. */
function headerDirs(): string[] {
  const dirs: string[] = [];
  const nodedir = process.env.npm_config_nodedir;
  if (nodedir) dirs.push(join(nodedir, 'include', 'node'));
  dirs.push(resolve(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node');
  return dirs;
}

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

function main(): number {
  const only = flag('--only');
  if (only !== undefined && !(only in NATIVE_ADDONS)) {
    process.stderr.write(`build-native: no addon named ${only} (addons: ${Object.keys(NATIVE_ADDONS).join(', ')})\n`);
    return 1;
  }
  const outFlag = flag('--out');
  if (outFlag !== undefined && only === undefined) {
    process.stderr.write('build-native: --out needs --only NAME\n');
    return 1;
  }
  const names = only === undefined ? (Object.keys(NATIVE_ADDONS) as NativeAddonName[]) : [only as NativeAddonName];
  if (process.platform !== 'linux') {
    process.stdout.write(`build-native: nothing to build on ${process.platform} (the addons are Linux only)\n`);
    return 0;
  }
  const include = headerDirs().find((dir) => existsSync(join(dir, 'node_api.h')));
  const cc = process.env.CC ?? 'cc';
  const hasCc = spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0;
  let status = 0;
  for (const name of names) {
    const { source, fallback } = NATIVE_ADDONS[name];
    const sourcePath = join(NATIVE_ROOT, source);
    const out = outFlag !== undefined ? resolve(outFlag) : nativeAddonPath(name);
    if (!process.argv.includes('--force') && existsSync(out) && statSync(out).mtimeMs >= statSync(sourcePath).mtimeMs) {
      process.stdout.write(`build-native: ${out} is up to date\n`);
      continue;
    }
    if (include === undefined) {
      process.stdout.write(`build-native: ${name} skipped, no node_api.h in ${headerDirs().join(', ')}; ${fallback}\n`);
      continue;
    }
    if (!hasCc) {
      process.stdout.write(`build-native: ${name} skipped, no C compiler (${cc}); ${fallback}\n`);
      continue;
    }
    mkdirSync(dirname(out), { recursive: true });
    const partial = `${out}.${process.pid}.tmp`;
    // Undefined napi_* symbols resolve against the loading node binary at dlopen time.
    const args = ['-std=c11', '-D_GNU_SOURCE', '-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-fvisibility=hidden', `-I${include}`, sourcePath, '-o', partial, '-pthread'];
    const result = spawnSync(cc, args, { stdio: 'inherit' });
    if (result.status !== 0) {
      process.stderr.write(`build-native: ${cc} failed on ${name} (${result.status ?? result.signal}); ${fallback}\n`);
      status = 1;
      continue;
    }
    renameSync(partial, out);
    process.stdout.write(`build-native: built ${out}\n`);
  }
  return status;
}

process.exitCode = main();

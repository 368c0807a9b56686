#!/usr/bin/env node
// The `cordon` command: a thin launcher for the TypeScript CLI, which Node 24 runs directly.
// Three things keep the long-running daemon small (issue 4; bench/memory.bench.ts measures them):
// - Node's module compile cache, in a private per-user directory (the one the hook program uses):
//   a warm start reuses the stripped JavaScript and V8's code cache instead of loading the
//   TypeScript stripper (a WebAssembly module that stays resident) and recompiling every file.
//   NODE_DISABLE_COMPILE_CACHE=1 turns it off.
// - `cordon daemon` runs with DAEMON_NODE_FLAGS, however it is started (service unit, tray app,
//   shell): the launcher replaces itself with node plus the flags (process.execve: same process id,
//   so service managers see no difference). With the default list it also starts without V8's
//   optimizing compilers, which the daemon turns back on once it has started
//   (app/daemon/startupTiering.ts). CORDON_DAEMON_NODE_FLAGS replaces the list ("" for none); a
//   flag already given on node's command line or in NODE_OPTIONS is left as it is.
// - The daemon's ESM view of node:http is made without the three exports that load undici.
import * as nodeModule from 'node:module';
import { enablePrivateCompileCache } from './compileCache.js';

/**
 * --expose-gc: start-up (module loading, schema compilation, the first scan) leaves some 30 MB of
 * garbage and a grown young generation that V8's memory reducer gives back only minutes later;
 * with gc() exposed the daemon collects them once, a few seconds after it has started
 * (app/daemon/daemon.ts). Capping the young generation (--max-semi-space-size) was measured too:
 * it saves nothing more once that collection has run, idle or after load.
 */
const DAEMON_NODE_FLAGS = ['--expose-gc'];

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`cordon: needs Node.js 24 or newer (this is ${process.version}); run: source scripts/ensure-node.sh\n`);
  process.exit(1);
}

/** Re-executes this process in place with the daemon's Node flags, when some are missing. */
async function execWithDaemonFlags() {
  // process.execve does not exist on Windows: the daemon runs there without the flags.
  if (typeof process.execve !== 'function') return;
  const tiering = await import('../app/daemon/startupTiering.ts');
  const configured = process.env.CORDON_DAEMON_NODE_FLAGS;
  const wanted = configured === undefined ? [...DAEMON_NODE_FLAGS, tiering.STARTUP_TIERING_FLAG] : configured.split(/\s+/).filter((f) => f.startsWith('--'));
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((f) => f.split('=')[0]);
  const missing = wanted.filter((flag) => !given.includes(flag.split('=')[0]));
  if (missing.length === 0) return;
  // Only the launcher's own start-up flag is marked for the daemon to lift; one the user chose stays.
  const held = configured === undefined && missing.includes(tiering.STARTUP_TIERING_FLAG);
  const env = held ? { ...process.env, [tiering.STARTUP_TIERING_ENV]: tiering.STARTUP_TIERING_FLAG } : process.env;
  try {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], env);
  } catch (error) {
    process.stderr.write(`cordon: running the daemon without ${missing.join(' ')} (${error instanceof Error ? error.message : String(error)})\n`);
  }
}

/**
 * Node 24 makes the ESM view of node:http by reading every export, the lazy WebSocket, CloseEvent
 * and MessageEvent getters included, and so loads its bundled undici, which the daemon never uses
 * (nodejs/node#59686; 4 to 5 MB resident in the daemon, measured with bench/memory.bench.ts). The view is made once, here, without those three;
 * require('node:http').WebSocket and globalThis.WebSocket work as before. Only
 * `import { WebSocket } from 'node:http'` would see undefined, and nothing in Cordon does that.
 */
async function importHttpWithoutUndici() {
  const http = nodeModule.createRequire(import.meta.url)('node:http');
  const lazy = ['WebSocket', 'CloseEvent', 'MessageEvent']
    .map((name) => [name, Object.getOwnPropertyDescriptor(http, name)])
    .filter(([, d]) => d?.configurable === true && typeof d.get === 'function');
  for (const [name] of lazy) delete http[name];
  try {
    await import('node:http');
  } finally {
    for (const [name, descriptor] of lazy) Object.defineProperty(http, name, descriptor);
  }
}

const compileCache = enablePrivateCompileCache();
if (process.argv[2] === 'daemon') {
  await execWithDaemonFlags();
  await importHttpWithoutUndici();
}
if (compileCache) {
  // Node writes the cache when the process exits; a daemon runs for days, so its start-up modules
  // are written once it is up (short commands exit long before, and the timer does not hold them).
  setTimeout(() => nodeModule.flushCompileCache?.(), 15_000).unref();
}
const { main } = await import('../app/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

// The daemon's start-up runs without V8's optimizing compilers (issue 4, idle memory).
//
// Start-up is code that runs once: some 1,400 module resolutions, the first inventory scan, the
// policy compile. A few of those functions still get hot enough for Maglev and TurboFan, and
// optimizing them buys nothing, yet it pulls the compilers' own code (megabytes of the node
// binary) and their zone memory into the resident set for as long as the daemon is idle. So
// bin/cordon.js starts `cordon daemon` with STARTUP_TIERING_FLAG (interpreter and Sparkplug only)
// and marks in STARTUP_TIERING_ENV that the flag is its own; once the daemon has started, before it
// serves its first request, releaseStartupTiering() turns both compilers back on, so the proxy's
// and the policy's hot paths are optimized exactly as without the flag. bench/memory.bench.ts
// measures the saving, bench/proxy.bench.ts the request path. A --max-opt the user gave (on node's
// command line, in NODE_OPTIONS or in CORDON_DAEMON_NODE_FLAGS) is never marked, so never undone.
import { setFlagsFromString } from 'node:v8';

export const STARTUP_TIERING_FLAG = '--max-opt=1';
export const STARTUP_TIERING_ENV = 'CORDON_DAEMON_STARTUP_TIERING';

/**
 * V8 decides at each tier-up whether Maglev and TurboFan may run; these are its defaults. Raising
 * --max-opt alone is not enough: a low --max-opt at start-up also turned the compilers off.
 */
const DEFAULT_TIERING = '--maglev --turbofan --max-opt=999';

/**
 * Turns the optimizing compilers back on when bin/cordon.js held them off for start-up. Returns
 * whether it did. Removes the mark from the environment either way, so no child inherits it.
 */
export function releaseStartupTiering(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): boolean {
  const marked = env[STARTUP_TIERING_ENV] === STARTUP_TIERING_FLAG;
  delete env[STARTUP_TIERING_ENV];
  if (!marked || !execArgv.includes(STARTUP_TIERING_FLAG)) return false;
  setFlagsFromString(DEFAULT_TIERING);
  return true;
}

// Node's module compile cache for Cordon's entry points (bin/cordon.js, bin/cordon-hook.js), in a
// private per-user directory. Whoever can write the cache can change the code Cordon runs, so the
// directory must be this user's own and closed to others; otherwise Cordon runs without it (only
// slower). NODE_DISABLE_COMPILE_CACHE=1 turns it off; NODE_COMPILE_CACHE=dir is the user's choice.
import { lstatSync, mkdirSync } from 'node:fs';
// A namespace import: on a Node without the API this module still links, so the entry points can
// print their own 'needs Node 24' message (the hook must block, not crash open).
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Turns the cache on; true when it is on. Never throws. */
export function enablePrivateCompileCache() {
  try {
    if (typeof nodeModule.enableCompileCache !== 'function') return false;
    if (process.env.NODE_COMPILE_CACHE) return isOn(nodeModule.enableCompileCache().status);
    const base = process.env.CORDON_HOME || process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), '.cache');
    const dir = join(base, process.env.CORDON_HOME ? 'cache' : 'cordon', 'node-compile-cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') {
      const st = lstatSync(dir);
      if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return false;
    }
    return isOn(nodeModule.enableCompileCache(dir).status);
  } catch {
    return false;
  }
}

function isOn(status) {
  const known = nodeModule.constants?.compileCacheStatus;
  return known !== undefined && (status === known.ENABLED || status === known.ALREADY_ENABLED);
}

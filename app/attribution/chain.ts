/**
 * The principal chain of a process: itself, then its parents up to the human's session (the
 * leader of a terminal session, e.g. the login or terminal shell) or up to pid 1, bounded in depth.
 * Detached sessions (setsid without a terminal, as agents spawn tools) do not stop the walk.
 */
import type { ProcessInfo } from '../api/enforcement.ts';
import type { ProcessSource } from './types.ts';

/** Deep enough for IDE -> extension host -> agent -> shell -> tool trees, small enough to bound cost. */
export const MAX_CHAIN_DEPTH = 32;

/**
 * Reads the chain of `pid`, self first. Null when `pid` itself cannot be read (exited). A parent
 * that cannot be read ends the chain where it is. pid 1 (init) is not included.
 */
export async function buildChain(source: ProcessSource, pid: number, maxDepth: number = MAX_CHAIN_DEPTH): Promise<ProcessInfo[] | null> {
  const first = await source.readProcess(pid);
  if (first === null) return null;
  const chain: ProcessInfo[] = [first.info];
  const seen = new Set<number>([pid]);
  let current = first;
  while (chain.length < maxDepth && !current.sessionLeader) {
    const ppid = current.info.ppid;
    if (ppid === null || ppid <= 1 || seen.has(ppid)) break;
    const parent = await source.readProcess(ppid);
    if (parent === null) break;
    // A parent that started after its child is a reused pid, not the real parent.
    if (parent.info.startTimeMs !== null && current.info.startTimeMs !== null && parent.info.startTimeMs > current.info.startTimeMs) break;
    seen.add(ppid);
    chain.push(parent.info);
    current = parent;
  }
  return chain;
}

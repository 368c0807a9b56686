/**
 * The in-process sock_diag lookup: a small Node-API addon (native/sockdiag.c, built into
 * dist/native/ by scripts/build-native.ts) that sends the kernel's exact socket lookup from the
 * daemon's own thread. No pipe, no helper process to wake: a lookup costs a few microseconds of
 * system calls instead of a round trip to python3. Optional: when the addon is not built, cannot
 * load or misbehaves, createSockDiag() uses the python3 helper.
 */
import { nativeAddonPath, oncePerPath, requireLinuxAddon } from '../../util/nativeAddon.ts';
import type { SockDiagQuery, SockDiagResult } from './sockDiag.ts';

const ENOENT = 2;

type Addon = { lookup(family: number, srcIp: string, srcPort: number, dstIp: string, dstPort: number): unknown };

/** The synchronous lookup, or an explanation of why the addon is not usable. */
export type NativeLookup = (query: SockDiagQuery) => SockDiagResult;

const loadOnce = oncePerPath(load);

/** Loads the addon once per process and path. A string says why it is unavailable. */
export function loadNativeSockDiag(path: string = nativeAddonPath('sockdiag')): NativeLookup | string {
  return loadOnce(path);
}

function load(path: string): NativeLookup | string {
  const addon = requireLinuxAddon(path, 'sock_diag') as Addon | string;
  if (typeof addon === 'string') return addon;
  if (typeof addon?.lookup !== 'function') return `addon at ${path} has no lookup()`;
  return (query) => {
    let answer: unknown;
    try {
      answer = addon.lookup(query.localIp.includes(':') ? 6 : 4, query.localIp, query.localPort, query.remoteIp, query.remotePort);
    } catch (error) {
      return { kind: 'unavailable', message: `sock_diag addon: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (Array.isArray(answer) && answer.length === 3 && answer.every((n) => Number.isSafeInteger(n) && n >= 0)) {
      const [state, uid, inode] = answer as [number, number, number];
      return { kind: 'found', state, uid, inode };
    }
    if (answer === -ENOENT) return { kind: 'not-found' };
    return { kind: 'unavailable', message: `sock_diag addon: ${typeof answer === 'number' ? `errno ${-answer}` : 'unexpected answer'}` };
  };
}

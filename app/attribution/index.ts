/**
 * Connection attribution: which local process, chain of parents and coding agent is behind a
 * connection the proxy accepted. createAttributor() is the entry point; the per-OS work lives in
 * linux/, darwin.ts and win32.ts behind one ProcessSource interface.
 */
import { realpathSync, statSync } from 'node:fs';
import type { Principal, ProcessInfo } from '../api/enforcement.ts';
import type { Inventory } from '../api/inventory.ts';
import { buildAgentIndex, matchAgent, type AgentIndex, type PathInfo } from './agentMatch.ts';
import { buildChain } from './chain.ts';
import { createDarwinSource } from './darwin.ts';
import { createLinuxSource } from './linux/linuxSource.ts';
import { redactArgv } from './redact.ts';
import type { Attributor, AttributorOptions, ConnectionEndpoints, PidExplanation, ProcessSource, UnattributedCode } from './types.ts';
import { createWin32Source } from './win32.ts';

export type { Attributor, AttributorOptions, ConnectionEndpoints, LocalSocket, PidExplanation, UnattributedCode } from './types.ts';
export type { AgentMatch, MatchVia } from './agentMatch.ts';

const MAX_REALPATH_CACHE = 2048;
/** How many processes' principals attributePid keeps, and for how long one is reused. */
const MAX_PRINCIPAL_CACHE = 256;
export const PRINCIPAL_CACHE_TTL_MS = 10_000;

/** A principal attributePid worked out, valid while its process is the same one (pid and start time). */
type CachedPrincipal = Readonly<{ startTimeMs: number; exe: string | null; at: number; index: AgentIndex | null; principal: Principal }>;

/**
 * Creates the attributor the daemon keeps for its lifetime. `inventory` is read on every
 * attribution (cheap: the agent index is rebuilt only when it returns a different object).
 */
export function createAttributor(options: AttributorOptions): Attributor {
  const platform = options.platform ?? process.platform;
  const source = options.source ?? sourceFor(platform, options);
  const allowOtherUsers = options.allowOtherUsers ?? false;
  const realpaths = new Map<string, string>();
  const principals = new Map<number, CachedPrincipal>();
  const now = options.now ?? Date.now;
  let indexedInventory: Inventory | null | undefined;
  let index: AgentIndex | null = null;
  let attributions = 0;
  let unattributedCount = 0;
  let principalCacheHits = 0;

  const currentIndex = (): AgentIndex => {
    let inventory: Inventory | null;
    try {
      inventory = options.inventory();
    } catch {
      inventory = null;
    }
    if (index === null || inventory !== indexedInventory) {
      realpaths.clear();
      principals.clear();
      index = buildAgentIndex(inventory, { platform, resolve: resolvePathInfo });
      indexedInventory = inventory;
    }
    return index;
  };

  const realpath = (path: string): string => {
    let real = realpaths.get(path);
    if (real === undefined) {
      try {
        real = realpathSync.native(path);
      } catch {
        real = path;
      }
      if (realpaths.size >= MAX_REALPATH_CACHE) realpaths.clear();
      realpaths.set(path, real);
    }
    return real;
  };

  const unattributed = (code: UnattributedCode, message: string): Principal => {
    unattributedCount++;
    return { attributed: false, reason: `${code}: ${message}`, chain: [], agent: null };
  };

  const explain = async (pid: number): Promise<PidExplanation> => {
    if (!Number.isSafeInteger(pid) || pid <= 0) return { principal: unattributed('bad-input', `'${String(pid)}' is not a process id`), match: null };
    const chain = await buildChain(source, pid);
    if (chain === null) return { principal: unattributed('process-exited', `process ${pid} no longer exists (or cannot be read)`), match: null };
    const match = matchAgent(chain, currentIndex(), realpath);
    return { principal: { attributed: true, chain: chain.map(redacted), agent: match?.agent ?? null }, match };
  };

  /**
   * The principal attributePid found for this pid, when it is recent and the process is still the
   * same one (start time and executable: a reused pid or an exec is a new principal); else null.
   * The MCP gateway asks about the same pid on every tools/call: one process read instead of a
   * read per ancestor.
   */
  const cachedPrincipal = async (pid: number): Promise<Principal | null> => {
    const hit = principals.get(pid);
    if (hit === undefined) return null;
    principals.delete(pid);
    if (now() - hit.at >= PRINCIPAL_CACHE_TTL_MS) return null;
    try {
      // Under a new inventory the same chain may match another agent.
      if (currentIndex() !== hit.index) return null;
      const self = await source.readProcess(pid);
      if (self === null || self.info.startTimeMs !== hit.startTimeMs || self.info.exe !== hit.exe) return null;
    } catch {
      return null;
    }
    principals.set(pid, hit); // most recently used last
    attributions++;
    principalCacheHits++;
    return hit.principal;
  };

  const explainPid = async (pid: number): Promise<PidExplanation> => {
    attributions++;
    try {
      return await explain(pid);
    } catch (error) {
      return { principal: unattributed('lookup-failed', error instanceof Error ? error.message : String(error)), match: null };
    }
  };

  return {
    async attribute(conn: ConnectionEndpoints): Promise<Principal> {
      attributions++;
      try {
        const owner = await source.findSocketOwner(conn, { allowOtherUsers });
        if (!owner.found) return unattributed(owner.code, owner.message);
        return (await explain(owner.pid)).principal;
      } catch (error) {
        return unattributed('lookup-failed', error instanceof Error ? error.message : String(error));
      }
    },
    async attributePid(pid) {
      const cached = await cachedPrincipal(pid);
      if (cached !== null) return cached;
      const { principal } = await explainPid(pid);
      const self = principal.chain[0];
      if (principal.attributed && self !== undefined && self.pid === pid && self.startTimeMs !== null) {
        if (principals.size >= MAX_PRINCIPAL_CACHE) principals.delete(principals.keys().next().value as number);
        principals.set(pid, { startTimeMs: self.startTimeMs, exe: self.exe, at: now(), index, principal });
      }
      return principal;
    },
    explainPid,
    async socketsByLocalPort(port) {
      try {
        return await source.socketsByLocalPort(port);
      } catch {
        return [];
      }
    },
    stats: () => ({ attributions, unattributed: unattributedCount, principalCacheHits, ...source.counters() }),
    clearCaches() {
      source.clearCaches();
      principals.clear();
      realpaths.clear();
      index = null;
    },
    close() {
      source.close();
    },
  };
}

/** The ProcessSource for a platform; platforms without one attribute nothing (with a reason). */
export function sourceFor(platform: NodeJS.Platform, options: Pick<AttributorOptions, 'procRoot' | 'passwdFile' | 'sockDiag'> = {}): ProcessSource {
  switch (platform) {
    case 'linux':
      return createLinuxSource({
        ...(options.procRoot ? { procRoot: options.procRoot } : {}),
        ...(options.passwdFile ? { passwdFile: options.passwdFile } : {}),
        ...(options.sockDiag !== undefined ? { sockDiag: options.sockDiag } : {}),
      });
    case 'darwin':
      return createDarwinSource();
    case 'win32':
      return createWin32Source();
    default:
      return unsupportedSource(platform);
  }
}

function unsupportedSource(platform: string): ProcessSource {
  return {
    platform,
    findSocketOwner: async () => ({ found: false, code: 'unsupported-platform', message: `connection attribution is not implemented on ${platform}` }),
    readProcess: async () => null,
    socketsByLocalPort: async () => [],
    counters: () => ({ ownerCacheHits: 0, ownerScans: 0, processCacheHits: 0, processReads: 0, netlinkLookups: 0, tableScans: 0 }),
    clearCaches: () => {},
    close: () => {},
  };
}

/** Redacted argv per argv array: process readers reuse the array of a cached process, so each is redacted once. */
const redactedArgvs = new WeakMap<readonly string[], string[]>();

function redacted(info: ProcessInfo): ProcessInfo {
  let argv = redactedArgvs.get(info.argv);
  if (argv === undefined) {
    argv = redactArgv(info.argv);
    redactedArgvs.set(info.argv, argv);
  }
  return { ...info, argv };
}

function resolvePathInfo(path: string): PathInfo | null {
  try {
    const real = realpathSync.native(path);
    return { real, isDirectory: statSync(real).isDirectory() };
  } catch {
    return null;
  }
}

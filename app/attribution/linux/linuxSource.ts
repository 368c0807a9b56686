/**
 * The Linux ProcessSource: the client's socket (its local end is the proxy's remote end) by an
 * exact sock_diag lookup, or by scanning /proc/net/tcp{,6} when that is unavailable; its holder
 * from the fd links (inodeIndex.ts); processes from procFs.ts. The /proc reads per process are
 * synchronous (microseconds each, cheaper than a thread-pool trip); the table scan, which can take
 * milliseconds, is asynchronous and stops at the line it needs.
 */
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { clientView, formatEndpoint, type ClientView } from '../address.ts';
import type { LocalSocket, ProcessSource, SocketOwner } from '../types.ts';
import { createInodeIndex } from './inodeIndex.ts';
import { createProcReader } from './procFs.ts';
import { findTcpEntry, isHeld, parseProcNetTcp, TCP_STATES, type TcpEntry } from './procNet.ts';
import { createSockDiag, type SockDiag } from './sockDiag.ts';
import { createUserNames } from './users.ts';

const TABLE_CHUNK_BYTES = 64 * 1024;

export type LinuxSourceOptions = Readonly<{
  procRoot?: string;
  passwdFile?: string;
  /** The uid this daemon runs as (sockets of other uids are "other-user"); defaults to process.getuid(). */
  uid?: number;
  /** Byte order of the hex addresses in /proc/net (the host's; fixture tests set it). */
  littleEndian?: boolean;
  /** Exact lookups through the sock_diag helper (default: on for the real /proc, off for fixtures). */
  sockDiag?: boolean | SockDiag;
}>;

/** What a socket lookup needs from either path. */
type SocketState = Readonly<{ state: number; uid: number; inode: number }>;

export function createLinuxSource(options: LinuxSourceOptions = {}): ProcessSource {
  const procRoot = options.procRoot ?? '/proc';
  const myUid = options.uid ?? (typeof process.getuid === 'function' ? process.getuid() : -1);
  const index = createInodeIndex(procRoot);
  const reader = createProcReader(procRoot, createUserNames(options.passwdFile));
  const wantDiag = options.sockDiag ?? procRoot === '/proc';
  const diag: SockDiag | null = typeof wantDiag === 'object' ? wantDiag : wantDiag ? createSockDiag() : null;
  let netlinkLookups = 0;
  let tableScans = 0;

  /**
   * The socket with these endpoints: netlink first, then the tables. Null when there is none.
   * While either is in flight, the processes started since the last lookup are read: the owner is
   * usually among them, and its socket is then found without listing /proc.
   */
  const lookup = async (view: ClientView): Promise<SocketState | null> => {
    if (diag) {
      const pending = diag.lookup(view);
      index.prefetchNew();
      const answer = await pending;
      if (answer.kind !== 'unavailable') {
        netlinkLookups++;
        return answer.kind === 'found' ? answer : null;
      }
    }
    tableScans++;
    const pending = scanTables(view);
    if (!diag) index.prefetchNew();
    return pending;
  };

  const scanTables = async (view: ClientView): Promise<TcpEntry | null> => {
    let best: TcpEntry | null = null;
    // An IPv4 client is in tcp (or, from a dual-stack socket, in tcp6 as a mapped address).
    for (const table of view.localIp.includes(':') ? ['tcp6'] : ['tcp', 'tcp6']) {
      const found = await scanTable(`${procRoot}/net/${table}`, view, options.littleEndian);
      if (found && isHeld(found)) return found;
      best ??= found;
    }
    return best;
  };

  return {
    platform: 'linux',
    async findSocketOwner(conn, { allowOtherUsers }): Promise<SocketOwner> {
      const view = clientView(conn);
      if (typeof view === 'string') return { found: false, code: 'bad-input', message: view };
      const entry = await lookup(view);
      const from = formatEndpoint(view.localIp, view.localPort);
      if (entry === null) {
        return { found: false, code: 'socket-not-found', message: `no local TCP socket from ${from} to ${formatEndpoint(view.remoteIp, view.remotePort)}: the client closed it, or it is in another network namespace` };
      }
      if (!isHeld(entry)) {
        return { found: false, code: 'socket-orphaned', message: `the socket from ${from} is ${TCP_STATES[entry.state] ?? `in state ${entry.state}`} and no process holds it` };
      }
      if (entry.uid !== myUid && !allowOtherUsers) {
        return { found: false, code: 'other-user', message: `the socket from ${from} belongs to another user (uid ${entry.uid})` };
      }
      const pid = index.findOwner(entry.inode, entry.uid);
      if (pid === null) {
        return { found: false, code: 'owner-not-found', message: `no process holding the socket from ${from} could be found (it exited, or Cordon may not inspect it)` };
      }
      return { found: true, pid };
    },
    async readProcess(pid) {
      return reader.read(pid);
    },
    async socketsByLocalPort(port) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) return [];
      const out: LocalSocket[] = [];
      for (const table of ['tcp', 'tcp6'] as const) {
        let text: string;
        try {
          text = readFileSync(`${procRoot}/net/${table}`, 'latin1');
        } catch {
          continue; // tcp6 is absent when IPv6 is disabled
        }
        for (const e of parseProcNetTcp(text, options.littleEndian)) {
          if (e.localPort !== port) continue;
          const pid = e.inode !== 0 ? index.findOwner(e.inode, e.uid) : null;
          out.push({ localAddress: e.localIp, localPort: e.localPort, remoteAddress: e.remoteIp, remotePort: e.remotePort, state: TCP_STATES[e.state] ?? String(e.state), pid });
        }
      }
      return out;
    },
    counters: () => ({ ...index.counters(), ...reader.counters(), netlinkLookups, tableScans }),
    clearCaches() {
      index.clear();
      reader.clear();
    },
    close() {
      diag?.close();
    },
  };
}

/**
 * Reads a /proc/net table a chunk at a time and stops at the first live socket with these
 * endpoints. Null when the table does not exist (no IPv6) or holds no such socket.
 */
async function scanTable(path: string, view: ClientView, littleEndian: boolean | undefined): Promise<TcpEntry | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.allocUnsafe(TABLE_CHUNK_BYTES);
    let carry = '';
    let best: TcpEntry | null = null;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      const text = carry + buffer.toString('latin1', 0, bytesRead);
      // Only whole lines are searched; the tail waits for the next chunk (or the end).
      const cut = bytesRead === 0 ? text.length : text.lastIndexOf('\n') + 1;
      const found = findTcpEntry(text.slice(0, cut), view, littleEndian);
      if (found && isHeld(found)) return found;
      best ??= found;
      carry = text.slice(cut);
      if (bytesRead === 0) return best;
    }
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

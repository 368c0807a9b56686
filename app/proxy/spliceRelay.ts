/**
 * Opaque tunnels relayed by the kernel (Linux): once a tunnel's bytes need no more looking at,
 * each direction is handed to the splice relay addon (linux/native/splicerelay.c), which moves
 * them from socket to socket with splice(2) on its own thread. No copy through user space and no
 * wake-up of the event loop per read: the proxy's CPU per byte tunneled falls to the kernel's own
 * TCP work. Optional: without the addon (not built, not Linux, no descriptor) tunnels are relayed
 * in JavaScript (relay.ts and stream pipes), and the proxy says which at start.
 *
 * A hand-off keeps the byte order: Node stops reading the source, what Node had already read is
 * written to the sink, and the relay starts only once Node's write queue on the sink is empty.
 * After it Node neither reads the source nor writes the sink; the sockets stay open in Node (to
 * be destroyed by their owner), and the relay holds its own duplicates of the descriptors.
 */
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { nativeAddonPath, oncePerPath, requireLinuxAddon } from '../util/nativeAddon.ts';

/** How a relayed direction ended: errno 0 when the source ended its stream (the sink's sending side is then shut). */
export type RelayEnd = Readonly<{ bytes: number; errno: number; side: 'source' | 'sink' | null }>;

/**
 * A direction the kernel did not take: nothing was moved, Node has stopped reading the source.
 * `closed` when a socket closed or failed during the hand-off (the tunnel is ending anyway);
 * otherwise the caller can relay the direction itself.
 */
export type HandOffRefused = Readonly<{ refused: string; closed: boolean }>;

export type KernelRelay = Readonly<{
  /** Hands the bytes from `from` to `to` over to the kernel. Resolves when that direction ends, or at once when it was refused. */
  relay(from: Socket, to: Socket): Promise<RelayEnd | HandOffRefused>;
  /** Shuts a socket down both ways, so a relay using it ends now (its owner then destroys it). */
  shutdown(socket: Socket): void;
  /** Directions being relayed now. */
  active(): number;
}>;

type Addon = {
  start(onDone: (id: number, bytes: number, errno: number, side: number) => void): void;
  relay(fromFd: number, toFd: number): number;
  shutdown(fd: number, how: number): number;
  active(): number;
};

const SHUT_RDWR = 2;
const EMPTY = Buffer.alloc(0);
const loadOnce = oncePerPath(load);

/** The kernel relay, once per process and path; a string says why it is not available. */
export function loadSpliceRelay(path: string = nativeAddonPath('splicerelay')): KernelRelay | string {
  return loadOnce(path);
}

function load(path: string): KernelRelay | string {
  const addon = requireLinuxAddon(path, 'splice') as Addon | string;
  if (typeof addon === 'string') return addon;
  if (typeof addon?.start !== 'function' || typeof addon.relay !== 'function' || typeof addon.shutdown !== 'function') return `addon at ${path} is not the splice relay`;
  const pending = new Map<number, (end: RelayEnd) => void>();
  try {
    addon.start((id, bytes, errno, side) => {
      const settle = pending.get(id);
      pending.delete(id);
      settle?.({ bytes, errno, side: errno === 0 ? null : side === 0 ? 'source' : 'sink' });
    });
  } catch (error) {
    return `splice relay did not start: ${error instanceof Error ? error.message : String(error)}`;
  }
  return {
    relay: async (from, to) => {
      const fromFd = fdOf(from);
      const toFd = fdOf(to);
      if (fromFd === null || toFd === null) return { refused: 'a socket has no descriptor', closed: from.destroyed || to.destroyed };
      stopReading(from);
      // What Node read before the hand-off goes first, through Node.
      const buffered = from.readableLength > 0 ? (from.read() as Buffer | null) : null;
      stopReading(from);
      if (!(await flushed(to, buffered))) return { refused: 'the sink closed before the hand-off', closed: true };
      if (fdOf(from) !== fromFd || fdOf(to) !== toFd) return { refused: 'a socket closed before the hand-off', closed: true };
      const id = addon.relay(fromFd, toFd);
      if (id <= 0) return { refused: `the splice relay refused the sockets (${errnoName(-id)})`, closed: false };
      return new Promise<RelayEnd>((resolve) => pending.set(id, resolve));
    },
    shutdown: (socket) => {
      const fd = fdOf(socket);
      if (fd !== null) addon.shutdown(fd, SHUT_RDWR);
    },
    active: () => addon.active(),
  };
}

/** EMFILE, ENOBUFS (over the user's pipe quota), ...: the name of an errno on this system. */
function errnoName(errno: number): string {
  const name = Object.entries(constants.errno).find(([, value]) => value === errno)?.[0];
  return name ?? `errno ${errno}`;
}

type StreamHandle = { fd?: unknown; reading?: boolean; readStop?: () => number };

function handleOf(socket: Socket): StreamHandle | null {
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  return handle ?? null;
}

/** The socket's descriptor while Node has it open (Unix TCP handles expose it). */
function fdOf(socket: Socket): number | null {
  if (socket.destroyed) return null;
  const fd = handleOf(socket)?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

/** Node reads no more from socket (the kernel relay does). */
function stopReading(socket: Socket): void {
  socket.pause();
  const handle = handleOf(socket);
  if (handle?.readStop === undefined) return;
  handle.readStop();
  handle.reading = false;
}

/** Resolves once everything written to socket (and `more`) has reached the kernel; false if it closed first. */
function flushed(socket: Socket, more: Buffer | null): Promise<boolean> {
  if (socket.destroyed || !socket.writable) return Promise.resolve(false);
  if (more === null && socket.writableLength === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = (): void => resolve(false);
    socket.once('close', onClose);
    // Writes complete in order: an empty write's callback comes after every earlier write's.
    socket.write(more ?? EMPTY, (error) => {
      socket.removeListener('close', onClose);
      resolve(error === null || error === undefined);
    });
  });
}

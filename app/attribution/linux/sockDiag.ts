/**
 * Exact TCP socket lookup through the kernel's sock_diag netlink interface (what `ss` uses), for
 * the cost of a hash lookup instead of /proc/net/tcp's walk over every bucket of the established
 * table (milliseconds on machines with much memory). Node cannot open netlink sockets, so the
 * request goes through Cordon's small Node-API addon when it is built (nativeSockDiag.ts: in
 * process, microseconds), else through a tiny fixed Python script (python3 -I -S, stdlib only)
 * answering over pipes (a round trip and a process wake-up per lookup). Both are accelerators
 * only: when neither works, callers fall back to /proc/net/tcp.
 * @see sock_diag(7), linux/inet_diag.h (inet_diag_req_v2, inet_diag_msg)
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadNativeSockDiag } from './nativeSockDiag.ts';

/** One query: the socket as its own process sees it (local = client). IPs in canonical form. */
export type SockDiagQuery = Readonly<{ localIp: string; localPort: number; remoteIp: string; remotePort: number }>;

export type SockDiagResult =
  | Readonly<{ kind: 'found'; state: number; uid: number; inode: number }>
  | Readonly<{ kind: 'not-found' }>
  | Readonly<{ kind: 'unavailable'; message: string }>;

export type SockDiag = {
  /** The in-process addon answers at once (a plain result); the python3 helper with a promise. */
  lookup(query: SockDiagQuery): SockDiagResult | Promise<SockDiagResult>;
  /** Which way lookups go: 'addon' (in process) or 'python3 helper'. */
  readonly via: 'addon' | 'python3 helper';
  /** Ends the helper; later lookups answer "unavailable". */
  close(): void;
};

export type SockDiagOptions = Readonly<{
  /**
   * The in-process addon: true (default) loads it from dist/native when it is built, a string
   * loads it from that path, false never uses it (the python3 helper only).
   */
  native?: boolean | string;
  /** Interpreter to run; default /usr/bin/python3, else python3 from PATH. */
  python?: string;
  /** Per-query limit before the caller falls back (the helper answers in microseconds). */
  timeoutMs?: number;
}>;

const DEFAULT_TIMEOUT_MS = 250;
const RETRY_AFTER_MS = 60_000;
const MAX_PENDING = 1024;

/**
 * The helper: reads "id family src sport dst dport" lines, sends one SOCK_DIAG_BY_FAMILY request
 * (NLM_F_REQUEST without DUMP: the kernel's exact lookup, no cookie check), writes
 * "id ok state uid inode", "id err errno" or "id fail reason". Exits when stdin closes.
 */
export const SOCK_DIAG_HELPER = `
import socket, struct, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 4)
s.settimeout(1.0)
seq = 0
sys.stdout.write('ready\\n'); sys.stdout.flush()
for line in sys.stdin:
    p = line.split()
    rid = p[0] if p else '0'
    try:
        fam = socket.AF_INET if p[1] == '4' else socket.AF_INET6
        src = socket.inet_pton(fam, p[2]).ljust(16, b'\\0')
        dst = socket.inet_pton(fam, p[4]).ljust(16, b'\\0')
        seq = (seq + 1) & 0x7fffffff
        req = struct.pack('=BBBBI', fam, 6, 0, 0, 0xffffffff) + struct.pack('>HH', int(p[3]), int(p[5])) + src + dst + struct.pack('=III', 0, 0xffffffff, 0xffffffff)
        s.send(struct.pack('=IHHII', 16 + len(req), 20, 1, seq, 0) + req)
        while True:
            data = s.recv(65536)
            typ, rseq = struct.unpack_from('=4xH2xI', data, 0)
            if rseq == seq:
                break
        if typ == 2:
            sys.stdout.write('%s err %d\\n' % (rid, -struct.unpack_from('=i', data, 16)[0]))
        else:
            uid, inode = struct.unpack_from('=II', data, 80)
            sys.stdout.write('%s ok %d %d %d\\n' % (rid, data[17], uid, inode))
    except Exception as e:
        sys.stdout.write('%s fail %s\\n' % (rid, type(e).__name__))
    sys.stdout.flush()
`;

const ENOENT = 2;

export function createSockDiag(options: SockDiagOptions = {}): SockDiag {
  if (options.native !== false) {
    const native = typeof options.native === 'string' ? loadNativeSockDiag(options.native) : loadNativeSockDiag();
    if (typeof native === 'function') {
      let closed = false;
      return {
        via: 'addon',
        lookup: (query) => (closed ? { kind: 'unavailable', message: 'closed' } : native(query)),
        close: () => void (closed = true),
      };
    }
  }
  return createHelperSockDiag(options);
}

/** sock_diag through the python3 helper process. */
function createHelperSockDiag(options: SockDiagOptions): SockDiag {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let child: ChildProcessWithoutNullStreams | null = null;
  let ready = false;
  let closed = false;
  let failedAt = 0;
  let lastFailure = '';
  let nextId = 1;
  let buffered = '';
  const pending = new Map<number, (r: SockDiagResult) => void>();

  const fail = (message: string): void => {
    failedAt = Date.now();
    lastFailure = message;
    ready = false;
    const helper = child;
    child = null;
    if (helper && helper.exitCode === null) helper.kill('SIGKILL');
    for (const resolve of pending.values()) resolve({ kind: 'unavailable', message });
    pending.clear();
  };

  const setRef = (on: boolean): void => {
    // Idle, the helper must not keep the daemon or a CLI run alive; busy, it must.
    // The stdio pipes are net.Sockets at run time, though typed as plain streams.
    for (const handle of [child, child?.stdin, child?.stdout] as ({ ref?: () => void; unref?: () => void } | null | undefined)[]) {
      if (on) handle?.ref?.();
      else handle?.unref?.();
    }
  };

  const onLine = (line: string): void => {
    if (line === 'ready') {
      ready = true;
      return;
    }
    const [idText, kind, a, b, c] = line.split(' ');
    const id = Number(idText);
    const resolve = pending.get(id);
    if (!resolve) return;
    pending.delete(id);
    if (pending.size === 0) setRef(false);
    if (kind === 'ok') resolve({ kind: 'found', state: Number(a), uid: Number(b), inode: Number(c) });
    else if (kind === 'err' && Number(a) === ENOENT) resolve({ kind: 'not-found' });
    else resolve({ kind: 'unavailable', message: `sock_diag helper: ${kind ?? '?'} ${a ?? ''}`.trim() });
  };

  const start = (): void => {
    const python = options.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
    let helper: ChildProcessWithoutNullStreams;
    try {
      // -I -S: no PYTHON* variables, user site-packages, cwd or site imports; the script uses the stdlib only.
      helper = spawn(python, ['-I', '-S', '-c', SOCK_DIAG_HELPER], { stdio: 'pipe', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    } catch (error) {
      fail(`cannot start ${python}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    child = helper;
    buffered = '';
    helper.stderr.resume();
    helper.stdout.setEncoding('utf8');
    helper.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
      if (buffered.length > 4096) fail('sock_diag helper wrote garbage');
    });
    helper.on('error', (error) => child === helper && fail(`sock_diag helper: ${error.message}`));
    helper.on('exit', (code, signal) => child === helper && fail(`sock_diag helper exited (${signal ?? code})`));
    helper.stdin.on('error', () => {});
    setRef(false);
  };

  return {
    via: 'python3 helper',
    lookup(query) {
      if (closed) return Promise.resolve({ kind: 'unavailable', message: 'closed' });
      if (child === null) {
        if (failedAt !== 0 && Date.now() - failedAt < RETRY_AFTER_MS) return Promise.resolve({ kind: 'unavailable', message: lastFailure });
        start();
      }
      // Until the helper has started (tens of ms, once), the caller uses /proc/net/tcp.
      if (!ready || child === null) return Promise.resolve({ kind: 'unavailable', message: 'sock_diag helper starting' });
      if (pending.size >= MAX_PENDING) return Promise.resolve({ kind: 'unavailable', message: 'sock_diag helper busy' });
      const family = query.localIp.includes(':') ? '6' : '4';
      const id = nextId++;
      const helper = child;
      return new Promise<SockDiagResult>((resolve) => {
        const timer = setTimeout(() => {
          // A helper that stops answering is replaced later; until then every lookup scans the table.
          if (pending.has(id) && child === helper) fail(`sock_diag helper did not answer in ${timeoutMs} ms`);
        }, timeoutMs);
        timer.unref();
        pending.set(id, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        setRef(true);
        helper.stdin.write(`${id} ${family} ${query.localIp} ${query.localPort} ${query.remoteIp} ${query.remotePort}\n`);
      });
    },
    close() {
      closed = true;
      fail('closed');
    },
  };
}

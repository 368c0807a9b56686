/**
 * One daemon per user. On Linux the lock is a socket bound in the abstract namespace: binding is
 * atomic and the kernel releases it when the process dies, so a crash never leaves a stale lock.
 * Elsewhere it is a pid file created with O_EXCL whose owner must be alive. Either way a pid file
 * says who holds it.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, constants } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { CoreError } from '../api/errors.ts';
import type { CordonPaths } from '../util/paths.ts';

export type DaemonLock = Readonly<{ release(): void }>;

export async function acquireDaemonLock(paths: CordonPaths): Promise<DaemonLock> {
  if (process.platform === 'linux') {
    const server = await bindAbstract(`\0cordon-daemon-${createHash('sha256').update(paths.runtimeDir).digest('hex').slice(0, 24)}`, paths);
    writeFileSync(paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
    return {
      release() {
        server.close();
        removePidFileIfOurs(paths.pidFile);
      },
    };
  }
  acquirePidFile(paths.lockFile);
  writeFileSync(paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
  return {
    release() {
      removePidFileIfOurs(paths.lockFile);
      removePidFileIfOurs(paths.pidFile);
    },
  };
}

/** The pid in the daemon's pid file, when that process is alive. */
export function runningDaemonPid(paths: CordonPaths): number | null {
  const pid = readPid(paths.pidFile);
  return pid !== null && isAlive(pid) ? pid : null;
}

function bindAbstract(name: string, paths: CordonPaths): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        const pid = readPid(paths.pidFile);
        reject(new CoreError('ERR_DAEMON_RUNNING', `a Cordon daemon is already running for this user${pid ? ` (pid ${pid})` : ''}`));
      } else {
        reject(new CoreError('ERR_INTERNAL', `cannot take the daemon lock: ${error.message}`, { cause: error }));
      }
    });
    server.listen({ path: name }, () => {
      server.unref();
      resolve(server);
    });
  });
}

function acquirePidFile(file: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = readPid(file);
      if (pid !== null && isAlive(pid)) throw new CoreError('ERR_DAEMON_RUNNING', `a Cordon daemon is already running for this user (pid ${pid})`);
      rmSync(file, { force: true });
    }
  }
  throw new CoreError('ERR_DAEMON_RUNNING', 'another Cordon daemon is starting at the same time');
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removePidFileIfOurs(file: string): void {
  if (readPid(file) === process.pid) rmSync(file, { force: true });
}

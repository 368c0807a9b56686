/**
 * `cordon ui [--no-open] [--print-url]`: opens the local web console. Uses the console the daemon
 * serves (its port and secret in <runtimeDir>/console.json); when the daemon serves none, serves
 * it from this process over the control socket until interrupted.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalConsole } from '../../console/server.ts';
import { consoleOpenUrl, readConsoleSession } from '../../console/sessionFile.ts';
import { connectSocketBackend } from '../../console/socketBackend.ts';
import { DEFAULT_STATIC_DIR } from '../../console/staticFiles.ts';
import { silentLogger } from '../../util/log.ts';
import { ensurePrivateDir } from '../../util/paths.ts';
import { flag, type Command, type CommandContext } from '../command.ts';

const ui: Command = {
  name: 'ui',
  summary: 'open the Cordon console in a browser (--print-url: print the URL with its session secret)',
  usage: '[--no-open] [--print-url]',
  options: { 'no-open': { type: 'boolean' }, 'print-url': { type: 'boolean' } },
  async run(ctx, args) {
    const open = !flag(args, 'no-open');
    const printUrl = flag(args, 'print-url');
    const session = readConsoleSession(ctx.paths.runtimeDir);
    if (session && (await answers(session.port))) {
      await present(ctx, session, open, printUrl);
      return 0;
    }
    // The daemon serves no console (older daemon, or it could not start one): serve it from here.
    const backend = await connectSocketBackend(ctx.paths.socketPath);
    const local = await startLocalConsole({ call: backend.call, subscribe: backend.subscribe, staticDir: DEFAULT_STATIC_DIR, log: silentLogger });
    try {
      ctx.stderr.write('the daemon does not serve the console: serving it from this process (Ctrl-C to stop)\n');
      await present(ctx, local, open, printUrl);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      return 0;
    } finally {
      await local.close();
      backend.close();
    }
  },
};

export const uiCommands: readonly Command[] = [ui];

/** Prints the URL (with the secret only when asked) and opens the browser. */
async function present(ctx: CommandContext, session: { port: number; secret: string }, open: boolean, printUrl: boolean): Promise<void> {
  const full = consoleOpenUrl(session);
  const plain = `http://127.0.0.1:${session.port}/`;
  if (printUrl) ctx.stdout.write(`${full}\n`);
  if (!open) {
    if (!printUrl) ctx.stdout.write(`the console is at ${plain} (use --print-url for a URL that signs you in)\n`);
    return;
  }
  const opened = await openInBrowser(ctx, full);
  if (opened) ctx.stdout.write(`opened the console at ${plain}\n`);
  else if (!printUrl) ctx.stdout.write(`no browser opener found; open this URL yourself:\n${full}\n`);
}

/**
 * Opens the console through a 0600 launcher page in the private runtime dir, so the secret never
 * appears in a process argument list that other users could read.
 */
async function openInBrowser(ctx: CommandContext, url: string): Promise<boolean> {
  ensurePrivateDir(ctx.paths.runtimeDir);
  const launcher = join(ctx.paths.runtimeDir, 'open-console.html');
  const escaped = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  writeFileSync(launcher, `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${escaped}"><title>Cordon</title>\n`, { mode: 0o600 });
  const [command, argv] =
    process.platform === 'darwin' ? ['open', [launcher]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', launcher]] : ['xdg-open', [launcher]];
  return new Promise((resolve) => {
    try {
      const child = spawn(command, argv as string[], { stdio: 'ignore', detached: true, env: ctx.env });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}

/** True when something answers HTTP on 127.0.0.1:port within a second. */
async function answers(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD', signal: AbortSignal.timeout(1000) });
    return response.status > 0;
  } catch {
    return false;
  }
}

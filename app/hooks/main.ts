/**
 * The hook program (`cordon hook <agent>`, bin/cordon-hook.js): reads the agent's JSON on stdin,
 * asks the daemon over the control socket, prints the answer in the agent's format and exits.
 * Imports only what that needs, so it starts fast; every wait is bounded by a deadline.
 */
import type { Readable, Writable } from 'node:stream';
import { connectControl, type ControlClient } from '../client/controlClient.ts';
import { cordonPaths } from '../util/paths.ts';
import { HOOK_ADAPTERS } from './adapters.ts';
import { decideHook } from './decide.ts';
import { configuredMode, daemonMode } from './fallbackMode.ts';
import { HOOK_AGENTS, isHookAgent, type HookAgent, type HookOutput } from './types.ts';

/** The most stdin the hook reads (a Write tool's content can be large); more is refused. */
export const MAX_HOOK_INPUT = 16 * 1024 * 1024;
const STDIN_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 1000;
/**
 * How long the hook waits for the daemon (an "ask" waits for the user's approval): below the
 * agent's own hook timeout (which `cordon agents protect` sets to HOOK_AGENT_TIMEOUT_SECONDS where
 * the agent has one), so the hook denies before the agent gives up and runs the action.
 */
export const HOOK_WAIT_MS: Readonly<Record<HookAgent, number>> = {
  'claude-code': 125_000,
  codex: 125_000,
  'gemini-cli': 125_000,
  cursor: 55_000,
  windsurf: 55_000,
};
export const HOOK_AGENT_TIMEOUT_SECONDS = 130;

export type HookIo = Readonly<{ stdin: Readable; stdout: Writable; stderr: Writable; env: NodeJS.ProcessEnv }>;

/** Runs one hook invocation; returns the exit code. argv is what follows `hook`: [agent]. */
export async function hookMain(argv: readonly string[], io: HookIo): Promise<number> {
  const agent = argv[0];
  if (argv.length !== 1 || agent === undefined || !isHookAgent(agent)) {
    // No agent format to answer in: exit 2, which every agent treats as "block".
    io.stderr.write(`cordon hook: usage: cordon hook <${HOOK_AGENTS.join('|')}>; blocking the action\n`);
    return 2;
  }
  const waitMs = waitFor(agent, io.env);
  const paths = cordonPaths(io.env);
  // Connect while stdin is read: the daemon accepts while this process parses. A failure only
  // surfaces if the daemon is needed (ask, or the mode after bad input).
  const connection = connectControl(paths.socketPath, CONNECT_TIMEOUT_MS);
  connection.catch(() => undefined);
  let client: ControlClient | null = null;
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<HookOutput>((resolve) => {
    timer = setTimeout(() => {
      resolve(HOOK_ADAPTERS[agent].format({ decision: 'deny', reason: `Cordon blocked this action: the hook did not finish within ${Math.round((waitMs + STDIN_TIMEOUT_MS) / 1000)} s, so it fails closed.` }, null));
    }, waitMs + STDIN_TIMEOUT_MS + 2000);
  });
  const work = (async (): Promise<HookOutput> => {
    const stdin = await readBounded(io.stdin, MAX_HOOK_INPUT, STDIN_TIMEOUT_MS);
    return decideHook(agent, stdin ?? '', {
      async ask(request) {
        client = await connection;
        return client.call('localAction', request, waitMs);
      },
      async fallbackMode() {
        const open = client ?? (await connection.catch(() => null));
        return (await daemonMode(open)) ?? (await configuredMode(paths, io.env));
      },
    }, { pid: process.pid });
  })();
  try {
    const output = await Promise.race([work, watchdog]);
    await write(io.stdout, output.stdout);
    await write(io.stderr, output.stderr);
    return output.exitCode;
  } finally {
    clearTimeout(timer);
    // Also when the daemon was never asked (bad input, a tool Cordon does not judge).
    void connection.then((c) => c.close(), () => undefined);
  }
}

function waitFor(agent: HookAgent, env: NodeJS.ProcessEnv): number {
  const fromEnv = Number(env.CORDON_HOOK_TIMEOUT_MS);
  if (Number.isFinite(fromEnv) && fromEnv >= 100) return Math.min(fromEnv, 3_600_000);
  return HOOK_WAIT_MS[agent];
}

/** Reads a stream to its end: null when it is larger than max or does not end in time. */
function readBounded(stream: Readable, max: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.off('data', onData);
      stream.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > max) finish(null);
      else chunks.push(buf);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    stream.on('data', onData);
    stream.once('end', () => finish(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', () => finish(null));
  });
}

function write(stream: Writable, text: string): Promise<void> {
  if (text === '') return Promise.resolve();
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

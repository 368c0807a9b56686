/**
 * `cordon mcp wrap`: sits between an MCP client (our stdin/stdout) and a local MCP server (a
 * spawned child), parsing newline-delimited JSON-RPC both ways and letting the gateway core
 * decide. The server's non-JSON stdout is logged (redacted) to stderr, never forwarded.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { redactText } from '../audit/redact.ts';
import type { GatewayCore } from './gateway.ts';
import { errorResponse, idKey, INVALID_REQUEST, isNotification, isRequest, isResponse, parseJsonRpc, PARSE_ERROR, type JsonRpcMessage } from './jsonRpc.ts';
import { createLineFramer } from './lineFramer.ts';

const STOP_GRACE_MS = 2000;

export type StdioGatewayOptions = Readonly<{
  core: GatewayCore;
  command: string;
  args: readonly string[];
  /** The server's environment. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  maxLineBytes?: number;
}>;

export type StdioGateway = Readonly<{
  /** Resolves with the exit code to return: the server's, or 127 when it could not start. */
  done: Promise<number>;
  /** Stops the server (SIGTERM, then SIGKILL). */
  stop(): void;
}>;

/** Starts the server and relays until either side closes. */
export function startStdioGateway(options: StdioGatewayOptions): StdioGateway {
  const { core, stdin, stdout, stderr } = options;
  const log = (message: string): void => void stderr.write(`${message}\n`);
  const child = spawn(options.command, [...options.args], { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.on('data', (chunk: Buffer) => stderr.write(chunk));
  child.stdin.on('error', () => undefined);

  const listIds = new Set<string>();
  const held = new Map<string, { cancelled: boolean }>();
  let serverQueue: Promise<void> = Promise.resolve();

  const write = (dest: Writable, source: Readable, message: unknown): void => {
    if (dest.destroyed || dest.writableEnded) return;
    if (!dest.write(`${JSON.stringify(message)}\n`)) {
      source.pause();
      dest.once('drain', () => source.resume());
    }
  };
  const toServer = (message: unknown): void => write(child.stdin, stdin, message);
  const toClient = (message: unknown): void => write(stdout, child.stdout, message);

  const fromClient = (message: JsonRpcMessage): void => {
    if (isNotification(message) && message.method === 'notifications/cancelled') {
      const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
      const entry = typeof requestId === 'string' || typeof requestId === 'number' ? held.get(idKey(requestId)) : undefined;
      if (entry) {
        // The call is still waiting for a decision: it will never be forwarded or answered.
        entry.cancelled = true;
        return;
      }
    }
    if (!isRequest(message) || message.method !== 'tools/call') {
      if (isRequest(message) && message.method === 'tools/list') listIds.add(idKey(message.id));
      toServer(message);
      return;
    }
    const key = idKey(message.id);
    const entry = { cancelled: false };
    held.set(key, entry);
    void core.onClientMessage(message).then((verdict) => {
      held.delete(key);
      if (entry.cancelled) return;
      if (verdict.kind === 'reply') toClient(verdict.message);
      else toServer(verdict.message);
    });
  };

  const fromServer = async (message: JsonRpcMessage): Promise<JsonRpcMessage> => {
    if (!isResponse(message) || message.id === null || !('result' in message)) return message;
    const key = idKey(message.id);
    if (!listIds.delete(key)) return message;
    return { ...message, result: await core.filterToolsList(message.result) };
  };

  const clientFramer = createLineFramer({
    maxBytes: options.maxLineBytes,
    onOversize: (bytes) => {
      log(`cordon mcp: dropped a ${bytes}-byte message from the client: larger than the ${options.maxLineBytes ?? 'default'} byte limit`);
      toClient(errorResponse(null, INVALID_REQUEST, `Cordon: message of ${bytes} bytes exceeds the gateway's size limit`));
    },
    onLine: (line) => {
      const parsed = parseJsonRpc(line);
      if (parsed.kind === 'invalid') toClient(errorResponse(null, parsed.reason === 'not JSON' ? PARSE_ERROR : INVALID_REQUEST, `Cordon: ${parsed.reason}`));
      else if (parsed.kind === 'single') fromClient(parsed.message);
      // Batches (protocol 2025-03-26) are split: each element is decided and relayed on its own.
      else for (const m of parsed.messages) fromClient(m);
    },
  });
  const serverFramer = createLineFramer({
    maxBytes: options.maxLineBytes,
    onOversize: (bytes) => log(`cordon mcp: dropped a ${bytes}-byte message from server ${core.server}: larger than the size limit`),
    onLine: (line) => {
      const parsed = parseJsonRpc(line);
      if (parsed.kind === 'invalid') {
        log(`cordon mcp: server ${core.server} wrote non-JSON-RPC to stdout (not forwarded): ${redactText(line.slice(0, 200))}`);
        return;
      }
      const messages = parsed.kind === 'single' ? [parsed.message] : parsed.messages;
      // Serialized so server messages reach the client in the order the server sent them.
      serverQueue = serverQueue.then(async () => {
        const out = await Promise.all(messages.map(fromServer));
        toClient(parsed.kind === 'single' ? out[0] : out);
      }).catch((error: unknown) => log(`cordon mcp: internal error relaying a server message: ${(error as Error).message}`));
    },
  });

  stdin.on('data', (chunk: Buffer | string) => clientFramer.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
  stdin.on('end', () => child.stdin.end());
  stdin.on('error', () => child.stdin.end());
  child.stdout.on('data', (chunk: Buffer) => serverFramer.push(chunk));

  let killTimer: NodeJS.Timeout | null = null;
  const stop = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    killTimer.unref();
  };
  // The client closed its side: give the server a moment to exit on EOF, as MCP clients do.
  stdin.on('close', () => setTimeout(stop, STOP_GRACE_MS).unref());

  const done = new Promise<number>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      log(`cordon mcp: cannot start MCP server '${options.command}': ${error.code ?? error.message}`);
      resolve(127);
    });
    child.once('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      void serverQueue.then(() => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
  });
  return { done, stop };
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15;
}

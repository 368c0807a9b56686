/**
 * The remote MCP gateway: a loopback HTTP endpoint per remote server (streamable HTTP and the
 * older SSE transport) that forwards to the real URL under the same policy as `mcp wrap`, adding
 * the server's credential from the keychain. Refuses foreign Hosts and Origins (DNS rebinding).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreError } from '../api/errors.ts';
import type { KeyStore } from '../identity/keyStore.ts';
import type { CordonPaths } from '../util/paths.ts';
import { createGatewayCore, type GatewayCore } from './gateway.ts';
import { createDaemonPolicy, type GatewayPolicy } from './gatewayPolicy.ts';
import { errorResponse, idKey, isRequest, isResponse, parseJsonRpc, PARSE_ERROR, type JsonRpcMessage, type JsonRpcResponse } from './jsonRpc.ts';
import { createSseParser, formatSseEvent, type SseEvent } from './sse.ts';
import { createToolStore } from './toolSet.ts';
import { createUpstreamAuth, type DpopMode } from './upstreamAuth.ts';

export type { DpopMode } from './upstreamAuth.ts';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const FORWARD_REQUEST_HEADERS = ['accept', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'user-agent'];
const RETURN_RESPONSE_HEADERS = ['content-type', 'mcp-session-id', 'mcp-protocol-version', 'cache-control'];

export type RemoteGatewayOptions = Readonly<{
  server: string;
  upstreamUrl: string;
  /** Name of a credential (`cordon credentials set`) bound to the upstream host; null for none. */
  credential: string | null;
  dpop: DpopMode;
  /** Loopback port (0: any free port). */
  port?: number;
  agent: string;
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  keyStore: KeyStore;
  warn: (message: string) => void;
  /** Default: the daemon's policy (what the daemon itself would pass is its own in-process policy). */
  policy?: GatewayPolicy;
}>;

export type RemoteGateway = Readonly<{
  /** The URL to give the client: same path as upstream, on 127.0.0.1. */
  url: string;
  port: number;
  close(): Promise<void>;
}>;

/** Starts the endpoint. Throws ERR_BAD_REQUEST for a bad URL, ERR_NOT_FOUND for a missing credential. */
export async function startRemoteGateway(options: RemoteGatewayOptions): Promise<RemoteGateway> {
  let upstream: URL;
  try {
    upstream = new URL(options.upstreamUrl);
  } catch {
    throw new CoreError('ERR_BAD_REQUEST', `invalid upstream URL '${options.upstreamUrl.slice(0, 200)}'`);
  }
  if (upstream.protocol !== 'https:' && upstream.protocol !== 'http:') throw new CoreError('ERR_BAD_REQUEST', 'the upstream URL must be http(s)');
  if (upstream.username || upstream.password) throw new CoreError('ERR_BAD_REQUEST', 'put credentials in the keychain (cordon credentials set), not in the URL');
  const auth = await createUpstreamAuth({ credential: options.credential, upstream, dpop: options.dpop, keyStore: options.keyStore, dataDir: options.paths.dataDir, agent: options.agent });
  const policy = options.policy ?? createDaemonPolicy({ paths: options.paths, env: options.env, server: options.server, agent: options.agent, warn: options.warn });
  const core = createGatewayCore({ server: options.server, policy, tools: createToolStore(options.paths.dataDir, options.server), warn: options.warn });
  const state: State = { core, upstream, auth, listIds: new Set(), legacyStreams: new Map(), port: 0, warn: options.warn, hasCredential: options.credential !== null };

  const server = createServer((req, res) => {
    handle(state, req, res).catch((error: unknown) => {
      options.warn(`cordon mcp: ${options.server}: ${(error as Error).message}`);
      if (!res.headersSent) sendJson(res, 502, errorResponse(null, -32603, `Cordon could not reach the upstream MCP server ${options.server}`));
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  state.port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${state.port}${upstream.pathname}${upstream.search}`,
    port: state.port,
    async close() {
      policy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type State = {
  core: GatewayCore;
  upstream: URL;
  auth: Awaited<ReturnType<typeof createUpstreamAuth>>;
  /** "<session>|<id>" of tools/list requests whose responses are still to come. */
  listIds: Set<string>;
  /** Legacy SSE transport: session id -> writer of that session's event stream. */
  legacyStreams: Map<string, (message: JsonRpcMessage) => void>;
  port: number;
  warn: (message: string) => void;
  hasCredential: boolean;
};

async function handle(state: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const refusal = refuseForeign(state.port, req);
  if (refusal) return sendJson(res, 403, errorResponse(null, -32600, refusal));
  const local = new URL(req.url ?? '/', 'http://127.0.0.1');
  const target = new URL(`${local.pathname}${local.search}`, state.upstream);
  const session = headerOf(req, 'mcp-session-id') ?? local.searchParams.get('sessionId') ?? '';
  let body: Buffer | undefined;
  if (req.method === 'POST') {
    const read = await readBody(req);
    if (read === null) return sendJson(res, 413, errorResponse(null, -32600, `Cordon: request body larger than ${MAX_BODY_BYTES} bytes`));
    body = read;
    const parsed = parseJsonRpc(body.toString('utf8'));
    if (parsed.kind === 'invalid') return sendJson(res, 400, errorResponse(null, PARSE_ERROR, `Cordon: ${parsed.reason}`));
    const messages = parsed.kind === 'single' ? [parsed.message] : parsed.messages;
    const verdicts = await Promise.all(messages.map((m) => state.core.onClientMessage(m)));
    const replies = verdicts.filter((v) => v.kind === 'reply').map((v) => v.message);
    if (replies.length > 0) {
      // Nothing of a message with a refused call is forwarded; its other requests get an error too.
      const all: JsonRpcResponse[] = messages.map((m, i) => {
        const v = verdicts[i];
        if (v?.kind === 'reply') return v.message;
        return isRequest(m) ? errorResponse(m.id, -32001, 'Cordon: not forwarded because another call in the same batch was blocked') : null;
      }).filter((r): r is JsonRpcResponse => r !== null);
      const legacy = state.legacyStreams.get(session);
      if (legacy) {
        for (const r of all) legacy(r);
        res.writeHead(202).end();
        return;
      }
      return sendJson(res, 200, parsed.kind === 'single' ? all[0] : all);
    }
    for (const m of messages) if (isRequest(m) && m.method === 'tools/list') state.listIds.add(`${session}|${idKey(m.id)}`);
  }
  const upstreamRes = await forward(state, req, target, body);
  const headers: Record<string, string> = {};
  for (const name of RETURN_RESPONSE_HEADERS) {
    const v = upstreamRes.headers.get(name);
    if (v !== null) headers[name] = v;
  }
  if (!state.hasCredential) {
    const challenge = upstreamRes.headers.get('www-authenticate');
    if (challenge !== null) headers['www-authenticate'] = challenge;
  } else if (upstreamRes.status === 401) {
    return sendJson(res, 502, errorResponse(null, -32603, `Cordon: the upstream MCP server ${state.core.server} refused the stored credential`));
  }
  const type = upstreamRes.headers.get('content-type') ?? '';
  const responseSession = upstreamRes.headers.get('mcp-session-id') ?? session;
  if (!upstreamRes.body) {
    res.writeHead(upstreamRes.status, headers).end();
  } else if (type.startsWith('application/json')) {
    const text = await upstreamRes.text();
    const parsed = parseJsonRpc(text);
    let out = text;
    if (parsed.kind === 'single') out = JSON.stringify(await fromServer(state, responseSession, parsed.message));
    else if (parsed.kind === 'batch') out = JSON.stringify(await Promise.all(parsed.messages.map((m) => fromServer(state, responseSession, m))));
    res.writeHead(upstreamRes.status, headers).end(out);
  } else if (type.startsWith('text/event-stream')) {
    res.writeHead(upstreamRes.status, headers);
    await relaySse(state, upstreamRes.body, res, session, req.method === 'GET');
  } else {
    res.writeHead(upstreamRes.status, headers);
    for await (const chunk of upstreamRes.body) res.write(chunk);
    res.end();
  }
}

async function forward(state: State, req: IncomingMessage, target: URL, body: Buffer | undefined): Promise<Response> {
  const base: Record<string, string> = {};
  for (const name of FORWARD_REQUEST_HEADERS) {
    const v = headerOf(req, name);
    if (v !== undefined) base[name] = v;
  }
  if (!state.hasCredential) {
    const a = headerOf(req, 'authorization');
    if (a !== undefined) base.authorization = a;
  }
  const method = req.method ?? 'GET';
  const controller = new AbortController();
  req.once('close', () => {
    if (!req.complete || req.destroyed) controller.abort();
  });
  for (let attempt = 0; ; attempt++) {
    const headers = { ...base, ...(await state.auth.headers(method, target)) };
    const init: RequestInit = { method, headers, signal: controller.signal, redirect: 'manual' };
    if (body !== undefined) init.body = new Uint8Array(body);
    const res = await fetch(target, init);
    if (state.auth.learn(res.status, res.headers) && attempt < 2) {
      await res.body?.cancel();
      continue;
    }
    return res;
  }
}

async function fromServer(state: State, session: string, message: JsonRpcMessage): Promise<JsonRpcMessage> {
  if (!isResponse(message) || message.id === null || !('result' in message)) return message;
  if (!state.listIds.delete(`${session}|${idKey(message.id)}`)) return message;
  return { ...message, result: await state.core.filterToolsList(message.result) };
}

async function relaySse(state: State, body: ReadableStream<Uint8Array>, res: ServerResponse, requestSession: string, isGet: boolean): Promise<void> {
  let session = requestSession;
  let queue: Promise<void> = Promise.resolve();
  const write = (text: string): void => void (res.writableEnded || res.write(text));
  const parser = createSseParser(
    (event) => {
      queue = queue.then(async () => write(formatSseEvent(await rewriteEvent(event))));
    },
    (comment) => (queue = queue.then(() => write(`:${comment}\n\n`))),
    () => state.warn(`cordon mcp: ${state.core.server}: dropped an oversized event`),
  );
  const rewriteEvent = async (event: SseEvent): Promise<SseEvent> => {
    if (event.event === 'endpoint' && isGet) {
      // Legacy SSE transport: the POST URL must point at us, and names this stream's session.
      const url = new URL(event.data, state.upstream);
      session = url.searchParams.get('sessionId') ?? '';
      state.legacyStreams.set(session, (m) => (queue = queue.then(() => write(formatSseEvent({ event: 'message', data: JSON.stringify(m), id: null, retry: null })))));
      return { ...event, data: `${url.pathname}${url.search}` };
    }
    if (event.event !== null && event.event !== 'message') return event;
    const parsed = parseJsonRpc(event.data);
    if (parsed.kind === 'single') return { ...event, data: JSON.stringify(await fromServer(state, session, parsed.message)) };
    if (parsed.kind === 'batch') return { ...event, data: JSON.stringify(await Promise.all(parsed.messages.map((m) => fromServer(state, session, m)))) };
    return event;
  };
  const decoder = new TextDecoder();
  try {
    for await (const chunk of body) parser.push(decoder.decode(chunk, { stream: true }));
  } catch {
    // The upstream or the client went away; end our side.
  } finally {
    await queue;
    if (state.legacyStreams.has(session) && isGet) state.legacyStreams.delete(session);
    res.end();
  }
}

/** Null when the request may be served; else why not (DNS rebinding, cross-site pages). */
export function refuseForeign(port: number, req: IncomingMessage): string | null {
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  const host = (headerOf(req, 'host') ?? '').toLowerCase();
  if (!allowed.includes(host)) return 'Cordon: this endpoint only answers requests addressed to 127.0.0.1 (Host header refused)';
  const origin = headerOf(req, 'origin');
  if (origin !== undefined && !allowed.some((a) => origin.toLowerCase() === `http://${a}`)) return 'Cordon: requests from web pages are refused (Origin header refused)';
  return null;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

// The remote gateway end to end: a streamable-HTTP MCP server (official SDK) that demands a
// DPoP-bound token, fronted by the loopback endpoint, and the SDK client connecting with no
// credential. Policy comes from a real daemon; the token from the real keychain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedJWK, jwtVerify } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createCredentialStore } from '../../app/identity/credentials.ts';
import { createOsKeyStore } from '../../app/identity/keyStore.ts';
import { startRemoteGateway, type RemoteGateway } from '../../app/mcp/remoteGateway.ts';
import { cordonPaths } from '../../app/util/paths.ts';
import { startDaemonProcess, testEnv, type DaemonHandle } from '../helpers/daemonProcess.ts';
import { writeCordonConfig } from './helpers.ts';

const TOKEN = 'upstream-token-Zx81kQ0pL2vN7cJ4';
const keychain = `cordon-test-mcp-remote-${process.pid}`;
let daemon: DaemonHandle;
let home: string;
let cordonHome: string;
let upstream: HttpServer;
let upstreamUrl: string;
let gateway: RemoteGateway;
const seen: { auth: string[]; calls: string[] } = { auth: [], calls: [] };

function mcpServer(): Server {
  const server = new Server({ name: 'remote', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      { name: 'echo', description: 'Echoes', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
      { name: 'drop-tables', description: 'Dangerous', inputSchema: { type: 'object', properties: {} } },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    seen.calls.push(req.params.name);
    return { content: [{ type: 'text', text: `remote says ${String((req.params.arguments as { text?: string } | undefined)?.text)}` }] };
  });
  return server;
}

/** Accepts only `Authorization: DPoP <TOKEN>` with a valid proof for this request (RFC 9449 §7.1). */
async function authorized(method: string, url: string, auth: string | undefined, proof: string | undefined): Promise<boolean> {
  if (auth !== `DPoP ${TOKEN}` || !proof) return false;
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    return protectedHeader.typ === 'dpop+jwt' && payload.htm === method && payload.htu === url && typeof payload.ath === 'string';
  } catch {
    return false;
  }
}

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'cordon-mcpr-home-'));
  cordonHome = mkdtempSync(join(tmpdir(), 'cordon-mcpr-'));
  writeCordonConfig(cordonHome, { mode: 'enforce', approvalTimeoutSeconds: 5 }, [
    'version: 1',
    'defaults: {local: allow}',
    'local:',
    '  - {id: no-drop, action: deny, mcp: [{server: remote, tools: [drop-tables]}]}',
  ]);
  daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: keychain } });
  upstream = createServer((req, res) => {
    void (async () => {
      const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}${req.url?.split('?')[0]}`;
      seen.auth.push(req.headers.authorization ?? '');
      if (!(await authorized(req.method ?? '', url, req.headers.authorization, req.headers.dpop as string | undefined))) {
        res.writeHead(401, { 'www-authenticate': 'DPoP algs="ES256", error="invalid_token"' }).end();
        return;
      }
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      const server = mcpServer();
      res.on('close', () => void transport.close().then(() => server.close()));
      await server.connect(transport);
      await transport.handleRequest(req, res);
    })();
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
  const env = testEnv(cordonHome, { CORDON_KEYCHAIN_SERVICE: keychain });
  const paths = cordonPaths(env);
  const keyStore = createOsKeyStore({ service: keychain });
  await createCredentialStore(keyStore, paths.dataDir).set('remote-cred', TOKEN, ['127.0.0.1']);
  gateway = await startRemoteGateway({ server: 'remote', upstreamUrl, credential: 'remote-cred', dpop: 'auto', agent: 'claude-code', paths, env, keyStore, warn: () => undefined });
});

after(async () => {
  await gateway?.close();
  upstream?.close();
  await daemon?.cleanup();
  await createOsKeyStore({ service: keychain }).delete('credential:remote-cred').catch(() => undefined);
  for (const dir of [home, cordonHome]) rmSync(dir, { recursive: true, force: true });
});

test('the SDK client reaches a DPoP-protected streamable-HTTP server through the gateway with no credential of its own', async () => {
  const client = new Client({ name: 'cordon-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.deepEqual(names, ['echo'], 'the denied tool is filtered out');
    const result = await client.callTool({ name: 'echo', arguments: { text: 'via cordon' } });
    assert.match(JSON.stringify(result.content), /remote says via cordon/);
    await assert.rejects(client.callTool({ name: 'drop-tables', arguments: {} }), /Cordon blocked MCP tool remote\/drop-tables/);
    assert.deepEqual(seen.calls, ['echo'], 'the denied call never reached the upstream');
    assert.ok(seen.auth.includes(`Bearer ${TOKEN}`), 'auto mode tried bearer first');
    assert.ok(seen.auth.includes(`DPoP ${TOKEN}`), 'then switched to DPoP after the challenge');
  } finally {
    await client.close();
  }
});

test('the endpoint refuses web pages (foreign Origin) and DNS rebinding (foreign Host)', async () => {
  const port = gateway.port;
  const post = (headers: Record<string, string>): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/mcp', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    });
  assert.equal(await post({ origin: 'https://evil.example' }), 403);
  assert.equal(await post({ host: `attacker.example:${port}` }), 403);
  assert.notEqual(await post({ host: `localhost:${port}`, accept: 'application/json, text/event-stream' }), 403);
});

// Shared setup for the MCP gateway tests: a real daemon with local MCP rules, and SDK clients
// that spawn `cordon mcp wrap` in front of real servers from the npm registry.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const MCP_LAUNCHER = fileURLToPath(new URL('./fixtures/cordonMcp.ts', import.meta.url));
export const CHANGING_SERVER = fileURLToPath(new URL('./fixtures/changingServer.ts', import.meta.url));
const modules = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/', import.meta.url));
export const EVERYTHING_BIN = join(modules, 'server-everything', 'dist', 'index.js');
export const FILESYSTEM_BIN = join(modules, 'server-filesystem', 'dist', 'index.js');

/** Writes settings and a user policy into a fresh CORDON_HOME. */
export function writeCordonConfig(cordonHome: string, settings: Record<string, unknown>, policyLines: readonly string[]): void {
  mkdirSync(join(cordonHome, 'config'), { recursive: true });
  writeFileSync(join(cordonHome, 'config', 'settings.json'), JSON.stringify(settings));
  writeFileSync(join(cordonHome, 'config', 'policy.yaml'), [...policyLines, ''].join('\n'));
}

export type WrappedClient = { client: Client; stderr(): string; close(): Promise<void> };

/** An official SDK client talking to `cordon mcp wrap --server NAME -- node SERVER ARGS...`. */
export async function connectWrapped(env: NodeJS.ProcessEnv, server: string, serverArgv: readonly string[]): Promise<WrappedClient> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_LAUNCHER, 'mcp', 'wrap', '--server', server, '--', process.execPath, ...serverArgv],
    env: env as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'cordon-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}

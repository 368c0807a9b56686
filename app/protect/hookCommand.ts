/**
 * What protecting an agent installs: the hook command (absolute node and hook program, so PATH
 * does not matter), the proxy environment, and with --mcp the launcher MCP servers are routed
 * through (absolute node and bin/cordon.js, the same way). Shared by `cordon agents protect` and
 * the daemon, which re-applies protection after drift in managed mode.
 */
import { fileURLToPath } from 'node:url';
import { HOOK_AGENT_TIMEOUT_SECONDS } from '../hooks/main.ts';
import type { McpLauncher, ProtectAgent, ProtectSettings } from './types.ts';

/** Loopback only: a user's NO_PROXY=* cannot widen it, because the agent's settings env wins. */
export const DEFAULT_NO_PROXY = 'localhost,127.0.0.1,::1';
const HOOK_BIN = fileURLToPath(new URL('../../bin/cordon-hook.js', import.meta.url));
const CORDON_BIN = fileURLToPath(new URL('../../bin/cordon.js', import.meta.url));

/** The shell command an agent runs as its pre-action hook. */
export function hookCommandFor(agent: ProtectAgent, nodePath = process.execPath, hookBin = HOOK_BIN): string {
  return `${shellQuote(nodePath)} ${shellQuote(hookBin)} hook ${agent}`;
}

/** What an MCP client runs instead of a server: `node bin/cordon.js mcp wrap ... -- SERVER...` (no shell involved). */
export function mcpLauncher(nodePath = process.execPath, cordonBin = CORDON_BIN): McpLauncher {
  return { command: nodePath, args: [cordonBin] };
}

export function protectSettingsFor(
  agent: ProtectAgent,
  proxy: Readonly<{ proxyUrl?: string; caFile?: string; noProxy?: string }> = {},
  options: Readonly<{ mcp?: boolean }> = {},
): ProtectSettings {
  return {
    hookCommand: hookCommandFor(agent),
    ...(options.mcp ? { mcp: mcpLauncher() } : {}),
    hookTimeoutSeconds: HOOK_AGENT_TIMEOUT_SECONDS,
    noProxy: proxy.noProxy ?? DEFAULT_NO_PROXY,
    ...(proxy.proxyUrl !== undefined ? { proxyUrl: proxy.proxyUrl } : {}),
    ...(proxy.caFile !== undefined ? { caFile: proxy.caFile } : {}),
  };
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

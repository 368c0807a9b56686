/**
 * The gateway's policy questions. A tools/call is decided by the daemon (`localAction`: audited,
 * "ask" waits for an approval); tools/list filtering evaluates the same policy files locally, so
 * listing never prompts a person or writes N audit events. Fails closed in enforce mode.
 */
import type { McpCallDetails } from '../api/control.ts';
import type { Principal } from '../api/enforcement.ts';
import type { PolicyMode } from '../api/policy.ts';
import { CoreError } from '../api/errors.ts';
import { connectControl, type ControlClient } from '../client/controlClient.ts';
import { loadEffectivePolicy } from '../policy/load.ts';
import { decideLocalAction } from '../policy/local.ts';
import type { CordonPaths } from '../util/paths.ts';

/** An approval can take as long as the daemon's approval timeout; this only bounds a lost daemon. */
const CALL_TIMEOUT_MS = 15 * 60 * 1000;
const CONNECT_TIMEOUT_MS = 1000;

export type CallVerdict = Readonly<{
  action: 'allow' | 'log' | 'deny';
  /** The sentence to show the client (names Cordon and the audit id on deny). */
  message: string;
  auditId: string | null;
}>;

export type GatewayPolicy = Readonly<{
  /** The final decision for one tools/call (after any approval). Never throws. */
  decideCall(tool: string, details: McpCallDetails): Promise<CallVerdict>;
  /** Records a rug pull (changed or new tools) in the daemon's audit trail. Never throws. */
  reportToolsChange(changed: readonly string[], added: readonly string[]): Promise<void>;
  /** The subset of `tools` the policy denies outright (enforce mode only). Never throws. */
  deniedTools(tools: readonly string[]): Promise<ReadonlySet<string>>;
  close(): void;
}>;

export type DaemonPolicyOptions = Readonly<{
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  server: string;
  /** Agent kind to report ("claude-code", ...); the daemon also attributes our parent chain. */
  agent: string;
  /** Where warnings go (stderr for `cordon mcp wrap`). */
  warn: (message: string) => void;
  /** Reported as the asking process (default: this one). */
  pid?: number;
}>;

export function createDaemonPolicy(options: DaemonPolicyOptions): GatewayPolicy {
  const { paths, env, server, agent, warn } = options;
  const source = `mcp-gateway:${server}`;
  let client: ControlClient | null = null;
  let connecting: Promise<ControlClient> | null = null;

  const connect = async (): Promise<ControlClient> => {
    if (client) return client;
    connecting ??= connectControl(paths.socketPath, CONNECT_TIMEOUT_MS).finally(() => (connecting = null));
    client = await connecting;
    return client;
  };

  return {
    async decideCall(tool, details) {
      try {
        const c = await connect();
        const result = await c.call('localAction', { action: { kind: 'mcp', server, tool }, agent, pid: options.pid ?? process.pid, source, details }, CALL_TIMEOUT_MS);
        return { action: result.action, message: result.message, auditId: result.auditId };
      } catch (error) {
        const failed = client;
        client = null;
        failed?.close();
        const code = error instanceof CoreError ? error.code : 'ERR_INTERNAL';
        const why = code === 'ERR_DAEMON_UNREACHABLE' ? 'the Cordon daemon is not reachable' : `the Cordon daemon refused the question (${code})`;
        const mode = await modeOf(paths, env);
        if (mode === 'enforce') return { action: 'deny', message: `Cordon blocked MCP tool ${server}/${tool}: ${why}, and enforce mode fails closed`, auditId: null };
        warn(`cordon mcp: ${why}; monitor mode: forwarding ${server}/${tool} unrecorded`);
        return { action: 'allow', message: `${why}; forwarded in monitor mode`, auditId: null };
      }
    },
    async reportToolsChange(changed, added) {
      try {
        const c = await connect();
        await c.call('mcpToolsChanged', { server, agent, changed: [...changed], added: [...added], pid: options.pid ?? process.pid }, CALL_TIMEOUT_MS);
      } catch (error) {
        warn(`cordon mcp: could not record the tool change in the audit trail: ${(error as Error).message}`);
      }
    },
    async deniedTools(tools) {
      const denied = new Set<string>();
      try {
        const loaded = await loadEffectivePolicy({ paths, env });
        const principal: Principal = { attributed: true, chain: [], agent: { id: `kind:${agent}`, kind: agent, name: agent, pid: process.ppid, exe: null } };
        for (const tool of tools) {
          const decision = decideLocalAction(loaded.policy, { action: { kind: 'mcp', server, tool }, principal, mode: loaded.settingsMode });
          if (decision.action === 'deny') denied.add(tool);
        }
      } catch (error) {
        // Listing stays usable; every call is still decided (and failed closed) by decideCall.
        warn(`cordon mcp: could not load the policy to filter tools/list: ${(error as Error).message}`);
      }
      return denied;
    },
    close() {
      client?.close();
      client = null;
    },
  };
}

/** The enforcement mode from the local settings and policy; enforce when they cannot be read. */
export async function modeOf(paths: CordonPaths, env: NodeJS.ProcessEnv): Promise<PolicyMode> {
  try {
    const loaded = await loadEffectivePolicy({ paths, env });
    return loaded.settingsMode === 'enforce' || loaded.policy.mode === 'enforce' ? 'enforce' : 'monitor';
  } catch {
    return 'enforce';
  }
}

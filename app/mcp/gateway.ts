/**
 * The transport-free heart of the MCP gateway: decides each client message (tools/call goes
 * through policy and rug-pull checks; everything else passes) and filters tools/list results.
 * The stdio wrapper and the remote endpoint both drive it.
 */
import { callDetails } from './callRecord.ts';
import type { GatewayPolicy } from './gatewayPolicy.ts';
import { CORDON_BLOCKED, errorResponse, isRequest, type JsonRpcMessage, type JsonRpcResponse } from './jsonRpc.ts';
import { compareToolSets, toolFingerprint, type ApprovedTool, type ToolStore } from './toolSet.ts';

const INVALID_PARAMS = -32602;

export type ClientVerdict =
  | Readonly<{ kind: 'forward'; message: JsonRpcMessage }>
  | Readonly<{ kind: 'reply'; message: JsonRpcResponse }>;

export type GatewayCore = Readonly<{
  server: string;
  /** Decides one message from the client. Never throws. */
  onClientMessage(message: JsonRpcMessage): Promise<ClientVerdict>;
  /** Filters one tools/list result: changed tools and policy-denied tools are removed. Never throws. */
  filterToolsList(result: unknown): Promise<unknown>;
  /** Tools blocked now because they differ from the approved set. */
  blockedTools(): readonly string[];
}>;

export type GatewayCoreOptions = Readonly<{
  server: string;
  policy: GatewayPolicy;
  tools: ToolStore;
  warn: (message: string) => void;
}>;

export function createGatewayCore(options: GatewayCoreOptions): GatewayCore {
  const { server, policy, tools: store, warn } = options;
  const blocked = new Set<string>();
  /** True while the first-ever listing of this server is being read (trust on first use). */
  let firstUse: boolean | null = null;
  /** The last tool change reported to the audit trail. */
  let lastReported = '';
  const initial = loadInitialBlocks().catch((error: unknown) => warn(`cordon mcp: ${(error as Error).message}`));

  async function loadInitialBlocks(): Promise<void> {
    // A change seen by an earlier run stays blocked even if this client calls without listing.
    const [approved, pending] = await Promise.all([store.approved(), store.pending()]);
    if (!approved || !pending) return;
    const change = compareToolSets(approved.tools, pending.tools);
    for (const name of [...change.changed, ...change.added]) blocked.add(name);
  }

  const blockedMessage = (tool: string): string =>
    `Cordon blocked MCP tool ${server}/${tool}: its definition (description or input schema) changed since it was approved, or it is new. Review it with 'cordon mcp tools --server ${server}' and accept it with 'cordon mcp approve --server ${server}'`;

  return {
    server,
    blockedTools: () => [...blocked].sort(),
    async onClientMessage(message) {
      if (!isRequest(message) || message.method !== 'tools/call') return { kind: 'forward', message };
      const params = message.params as { name?: unknown; arguments?: unknown } | undefined;
      const tool = params?.name;
      if (typeof tool !== 'string' || tool.length === 0 || tool.length > 256) {
        return { kind: 'reply', message: errorResponse(message.id, INVALID_PARAMS, 'Cordon: tools/call needs params.name, a tool name of at most 256 characters') };
      }
      await initial;
      if (blocked.has(tool)) return { kind: 'reply', message: errorResponse(message.id, CORDON_BLOCKED, blockedMessage(tool), { cordon: { server, tool, reason: 'tool-changed' } }) };
      const verdict = await policy.decideCall(tool, callDetails(params?.arguments));
      if (verdict.action === 'deny') {
        return { kind: 'reply', message: errorResponse(message.id, CORDON_BLOCKED, verdict.message, { cordon: { server, tool, reason: 'policy', auditId: verdict.auditId } }) };
      }
      return { kind: 'forward', message };
    },
    async filterToolsList(result) {
      const r = result as { tools?: unknown; nextCursor?: unknown } | null;
      if (!r || typeof r !== 'object' || !Array.isArray(r.tools)) return result;
      await initial;
      const offered: Record<string, ApprovedTool> = {};
      const valid: Record<string, unknown>[] = [];
      for (const t of r.tools) {
        if (typeof t !== 'object' || t === null || typeof (t as { name?: unknown }).name !== 'string') continue;
        const tool = t as Record<string, unknown>;
        offered[tool.name as string] = toolFingerprint(tool);
        valid.push(tool);
      }
      const lastPage = typeof r.nextCursor !== 'string';
      const held = await checkAgainstApproved(offered, lastPage);
      const denied = await policy.deniedTools(valid.map((t) => t.name as string).filter((n) => !held.has(n)));
      return { ...r, tools: valid.filter((t) => !held.has(t.name as string) && !denied.has(t.name as string)) };
    },
  };

  /** Updates the blocked set from one page of tools; returns the names to hide. */
  async function checkAgainstApproved(offered: Record<string, ApprovedTool>, lastPage: boolean): Promise<Set<string>> {
    const held = new Set<string>();
    try {
      const approved = await store.approved();
      firstUse ??= approved === null;
      const base = approved?.tools ?? {};
      const change = compareToolSets(base, offered);
      if (firstUse) {
        // Trust on first use: the first complete listing becomes the approved set; a tool that
        // changes during that very listing is still caught.
        const merged: Record<string, ApprovedTool> = { ...base };
        for (const name of change.added) merged[name] = offered[name] as ApprovedTool;
        await store.approve(merged);
        for (const name of change.changed) held.add(name);
        if (lastPage) firstUse = false;
      } else {
        for (const name of [...change.changed, ...change.added]) held.add(name);
      }
      for (const name of Object.keys(offered)) {
        if (held.has(name)) blocked.add(name);
        else blocked.delete(name);
      }
      if (held.size > 0) {
        const pending = await store.pending().catch(() => null);
        await store.setPending({ ...(pending?.tools ?? base), ...offered });
        const changed = change.changed.filter((n) => held.has(n));
        const added = change.added.filter((n) => held.has(n));
        warn(`cordon mcp: server ${server} offers tools that differ from the approved set${changed.length ? `; changed: ${changed.join(', ')}` : ''}${added.length ? `; new: ${added.join(', ')}` : ''}. They are hidden and blocked until 'cordon mcp approve --server ${server}'`);
        // Once per distinct change in this process, so a client that lists often does not flood the trail.
        const key = JSON.stringify([changed, added]);
        if (key !== lastReported) {
          lastReported = key;
          await policy.reportToolsChange(changed, added);
        }
      } else if (lastPage && !firstUse) {
        await store.clearPending();
      }
    } catch (error) {
      // Without a readable approved set nothing can be vouched for: hide every offered tool.
      warn(`cordon mcp: ${(error as Error).message}; hiding the tools of ${server}`);
      for (const name of Object.keys(offered)) {
        held.add(name);
        blocked.add(name);
      }
    }
    return held;
  }
}

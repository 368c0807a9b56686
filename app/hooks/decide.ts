/**
 * The hook's decision flow, independent of process IO: parse the agent's input, ask the daemon,
 * and answer in the agent's format. Anything that goes wrong (bad input, daemon down or slow)
 * fails closed unless Cordon is known to be in monitor mode: agents run the action when a hook
 * crashes, so this function never throws.
 */
import type { LocalActionRequest, LocalActionResult } from '../api/control.ts';
import type { LocalAction } from '../api/policy.ts';
import { HOOK_ADAPTERS } from './adapters.ts';
import type { HookAgent, HookEvent, HookOutput, HookVerdict } from './types.ts';

/** Limits the daemon enforces on a request; larger input is refused here, not sent. */
const MAX_COMMAND = 65_536;
const MAX_PATH = 4096;
const MAX_NAME = 256;

export type HookMode = 'enforce' | 'monitor' | 'unknown';

export type HookDeps = Readonly<{
  /** Asks the daemon; rejects when it cannot be reached or does not answer in time. */
  ask(request: LocalActionRequest): Promise<LocalActionResult>;
  /** The mode to apply when the daemon gave no answer ("unknown" fails closed). */
  fallbackMode(): Promise<HookMode>;
}>;

export type HookRunOptions = Readonly<{ pid?: number }>;

/** Decides one hook invocation from the raw stdin text. */
export async function decideHook(agent: HookAgent, stdinText: string, deps: HookDeps, options: HookRunOptions = {}): Promise<HookOutput> {
  const adapter = HOOK_ADAPTERS[agent];
  let event: HookEvent | null = null;
  try {
    let input: unknown;
    try {
      input = JSON.parse(stdinText);
    } catch {
      return adapter.format(await failure(deps, `the ${agent} hook input is not valid JSON`), null);
    }
    const parsed = adapter.parse(input);
    if (!parsed.ok) return adapter.format(await failure(deps, parsed.message), null);
    event = parsed.event;
    if (event.action === null) return adapter.format({ decision: 'allow', reason: `Cordon does not judge ${event.tool}` }, event);
    const tooLarge = oversized(event.action);
    if (tooLarge) return adapter.format(await failure(deps, tooLarge), event);
    let result: LocalActionResult;
    try {
      result = await deps.ask(requestOf(agent, event, event.action, options.pid));
    } catch (error) {
      return adapter.format(await failure(deps, `the Cordon daemon gave no answer (${messageOf(error)})`), event);
    }
    if (result.action === 'deny') return adapter.format({ decision: 'deny', reason: result.message || 'Cordon blocked this action' }, event);
    return adapter.format({ decision: 'allow', reason: result.message }, event);
  } catch (error) {
    // A bug in an adapter must still not let the action through in enforce mode.
    return adapter.format(await failure(deps, `internal error in the Cordon hook (${messageOf(error)})`), event);
  }
}

/** The verdict when Cordon could not decide: deny unless the mode is known to be monitor. */
async function failure(deps: HookDeps, problem: string): Promise<HookVerdict> {
  let mode: HookMode;
  try {
    mode = await deps.fallbackMode();
  } catch {
    mode = 'unknown';
  }
  if (mode === 'monitor') return { decision: 'allow', reason: problem, warning: `cordon hook: ${problem}; allowed because Cordon is in monitor mode` };
  const why = mode === 'enforce' ? 'Cordon is in enforce mode' : 'Cordon could not tell its mode';
  return { decision: 'deny', reason: `Cordon blocked this action: ${problem}, and ${why}, so it fails closed.` };
}

function requestOf(agent: HookAgent, event: HookEvent, action: LocalAction, pid: number | undefined): LocalActionRequest {
  return {
    action,
    agent,
    source: `hook:${agent}`,
    ...(pid !== undefined ? { pid } : {}),
    ...(event.sessionId && event.sessionId.length <= 256 ? { sessionId: event.sessionId } : {}),
    ...(event.cwd && event.cwd.length <= MAX_PATH ? { cwd: event.cwd } : {}),
  };
}

function oversized(action: LocalAction): string | null {
  switch (action.kind) {
    case 'command':
      return action.command.length > MAX_COMMAND ? `the command is longer than ${MAX_COMMAND} characters` : null;
    case 'file':
      return action.path.length > MAX_PATH ? `the path is longer than ${MAX_PATH} characters` : null;
    case 'mcp':
      return action.server.length > MAX_NAME || action.tool.length > MAX_NAME ? `the MCP server or tool name is longer than ${MAX_NAME} characters` : null;
    default:
      return 'unknown action';
  }
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/**
 * The shapes shared by the per-agent hook adapters: what an agent's pre-action hook input means
 * (a LocalAction, or nothing Cordon judges) and what the hook program answers (stdout, stderr, exit code).
 */
import type { LocalAction } from '../api/policy.ts';

/** The agents whose pre-action hooks run `cordon hook <agent>`. */
export const HOOK_AGENTS = ['claude-code', 'codex', 'cursor', 'gemini-cli', 'windsurf'] as const;
export type HookAgent = (typeof HOOK_AGENTS)[number];

/** One pre-action event, as Cordon understands it. */
export type HookEvent = Readonly<{
  /** The action to judge; null for a tool Cordon does not judge (it is allowed). */
  action: LocalAction | null;
  /** The agent's own event name ("PreToolUse", "beforeShellExecution", ...). */
  event: string;
  /** The agent's tool name, when it has one ("Bash", "run_shell_command", ...). */
  tool: string;
  sessionId?: string;
  cwd?: string;
}>;

export type ParseOutcome = { readonly ok: true; readonly event: HookEvent } | { readonly ok: false; readonly message: string };

/** What the hook decided: deny carries the sentence the agent shows. */
export type HookVerdict = Readonly<{
  decision: 'allow' | 'deny';
  reason: string;
  /** A note for the user on stderr that does not block (monitor mode, daemon down). */
  warning?: string;
}>;

/** What the hook program writes and how it exits. */
export type HookOutput = Readonly<{ stdout: string; stderr: string; exitCode: number }>;

/** One agent family: its input parser and its answer format. */
export type HookAdapter = Readonly<{
  agent: HookAgent;
  parse(input: unknown): ParseOutcome;
  format(verdict: HookVerdict, event: HookEvent | null): HookOutput;
}>;

export function isHookAgent(name: string): name is HookAgent {
  return (HOOK_AGENTS as readonly string[]).includes(name);
}

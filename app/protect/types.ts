/**
 * Shapes for putting agents behind Cordon: which agents, which of their files, what Cordon
 * writes into them, and the outcome of protect / unprotect / state checks.
 */
import type { ProtectScope } from '../api/settings.ts';

export type { ProtectScope };

export const PROTECT_AGENTS = ['claude-code', 'cursor', 'gemini-cli', 'codex', 'windsurf'] as const;
export type ProtectAgent = (typeof PROTECT_AGENTS)[number];

export function isProtectAgent(name: string): name is ProtectAgent {
  return (PROTECT_AGENTS as readonly string[]).includes(name);
}

/** Where the agent's files are: home, the environment (CODEX_HOME, test overrides), the platform. */
export type ProtectWhere = Readonly<{ home: string; env: NodeJS.ProcessEnv; platform: NodeJS.Platform }>;

/** What Cordon installs. */
export type ProtectSettings = Readonly<{
  /** The shell command the agent runs as its pre-action hook. */
  hookCommand: string;
  /** Seconds the agent waits for the hook, where its format has a timeout. */
  hookTimeoutSeconds: number;
  /** The Cordon proxy (http://127.0.0.1:PORT); absent = install the hook only. */
  proxyUrl?: string;
  caFile?: string;
  /** NO_PROXY written with the proxy: loopback only, so a user's NO_PROXY=* cannot defeat it. */
  noProxy: string;
  /** Route the agent's stdio MCP servers through `cordon mcp wrap` (user scope), started by this launcher. */
  mcp?: McpLauncher;
}>;

/** How an MCP client starts `cordon`: an absolute program and the arguments before `mcp wrap`. */
export type McpLauncher = Readonly<{ command: string; args: readonly string[] }>;

/** One MCP server Cordon routed through the gateway. */
export type RoutedServer = {
  /** The name passed to `cordon mcp wrap --server` (the config's name, made valid when it was not). */
  gateway: string;
  /** The entry had an `args` list before Cordon's edit (an empty one goes back only then). */
  hadArgs: boolean;
  /** Env variables whose literal secret Cordon moved to the keychain: variable -> credential name. */
  secrets: Record<string, string>;
};

export type FileFormat = 'jsonc' | 'toml';

/** What Cordon recorded about one file it edited. */
export type FileRecord = {
  path: string;
  existed: boolean;
  /** The backup of the file as it was before Cordon's first edit (null when it did not exist). */
  backup: string | null;
  /** sha256 of what Cordon last wrote. */
  writtenHash: string;
  /** Environment keys Cordon set: its value and the value it replaced (null = none). */
  env: Record<string, { ours: string; previous: string | null }>;
  /** MCP servers of this file Cordon routed through the gateway, by their name in the file. */
  mcp?: Record<string, RoutedServer>;
};

export type ProtectRecord = {
  version: 1;
  agent: ProtectAgent;
  scope: ProtectScope;
  installedAt: string;
  hookCommand: string;
  /** Protected with --mcp: re-applying (over drift) routes MCP servers again. */
  routeMcp?: boolean;
  files: FileRecord[];
};

export type ProtectOutcome = Readonly<{
  agent: ProtectAgent;
  scope: ProtectScope;
  /** protected / unprotected: done; unchanged: nothing to do; conflict: a file changed under us; failed: refused (see message). */
  status: 'protected' | 'unprotected' | 'unchanged' | 'conflict' | 'failed';
  files: readonly string[];
  /** Sentences for the user (what was done, what was kept, what is not covered). */
  notes: readonly string[];
}>;

export type FileState = Readonly<{
  path: string;
  exists: boolean;
  /** ok: Cordon's hook is there as written; altered: a Cordon hook with other content; missing: none. */
  hook: 'ok' | 'altered' | 'missing' | 'n/a';
  /** ok / missing / n/a: the proxy environment Cordon wrote. */
  env: 'ok' | 'missing' | 'n/a';
  /** ok: every MCP server Cordon routed still goes through the gateway; altered: one no longer does. */
  mcp?: 'ok' | 'altered';
  problems: readonly string[];
}>;

export type ProtectionState = Readonly<{
  agent: ProtectAgent;
  scope: ProtectScope;
  /** Cordon has a record of protecting this agent in this scope. */
  recorded: boolean;
  /** Cordon's hook is installed and intact in every hook file. */
  protected: boolean;
  /** Recorded, but the protection was removed or altered (or the agent is set to skip hooks). */
  drifted: boolean;
  files: readonly FileState[];
}>;

/** A refusal inside an editor (unexpected file shape); protect turns it into a "failed" outcome. */
export class ProtectRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtectRefusal';
  }
}

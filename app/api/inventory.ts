/**
 * The inventory: what coding agents and MCP servers are on one machine. This is a published,
 * versioned contract: `cordon scan --json` prints it, the daemon keeps it current, the fleet
 * server ingests it and the UI renders it. The JSON Schema in ./inventorySchema.ts describes the
 * same shape. Bump INVENTORY_SCHEMA_VERSION on any incompatible change.
 *
 * Secret values never appear here: only names of env vars and headers, redacted URLs and args,
 * and a credential posture.
 */

export const INVENTORY_SCHEMA_VERSION = 1;

export type Inventory = {
  readonly schemaVersion: typeof INVENTORY_SCHEMA_VERSION;
  /** ISO 8601 time the scan finished. */
  readonly scannedAt: string;
  readonly host: InventoryHost;
  readonly agents: readonly AgentRecord[];
  readonly mcpServers: readonly McpServerRecord[];
  /** Files or entries that could not be read; the good entries beside them are still listed. */
  readonly errors: readonly ScanError[];
  readonly stats: ScanStats;
};

export type InventoryHost = {
  readonly hostname: string;
  readonly platform: string;
  readonly user: string;
  readonly home: string;
};

export type ScanStats = {
  readonly durationMs: number;
  readonly filesRead: number;
  readonly projectsScanned: number;
};

/** How an agent is installed. */
export type AgentInstallType = 'cli' | 'desktop-app' | 'ide-extension';

export type AgentRecord = {
  /** Stable id: same agent, same install location, same id across scans and upgrades. */
  readonly id: string;
  /** Machine-readable kind, e.g. "claude-code", "codex", "gemini-cli", "cline". */
  readonly kind: string;
  /** Display name, e.g. "Claude Code". */
  readonly name: string;
  readonly installType: AgentInstallType;
  /** Version from package metadata (or a bounded --version run); null when it cannot be told. */
  readonly version: string | null;
  /** Executable, app bundle or extension directory. */
  readonly path: string;
  /** For IDE extensions: the editor that loads it ("vscode", "cursor", "windsurf", ...). */
  readonly host?: string;
  /** For IDE extensions: the marketplace id, e.g. "saoudrizwan.claude-dev". */
  readonly extensionId?: string;
  /** How it was found, e.g. "npm-global", "path", "native-installer", "extensions.json", "app-bundle". */
  readonly source: string;
  /** Hash of kind, path and version: a change under the same id means an upgrade or a swap. */
  readonly fingerprint: string;
};

export type McpTransport = 'stdio' | 'http' | 'sse' | 'ws' | 'unknown';

export type McpScope = 'user' | 'project' | 'local' | 'managed' | 'plugin' | 'extension';

/** none: no credential; reference: ${VAR}, ${input:..}, env pass-through, keyring, OAuth...; literal: a secret value in the file. */
export type CredentialPosture = 'none' | 'reference' | 'literal';

export type CredentialFinding = {
  /** Where the credential sits: "env", "header", "arg", "url-query", "url-userinfo". */
  readonly location: 'env' | 'header' | 'arg' | 'url-query' | 'url-userinfo';
  /** The env var, header, argument flag or query parameter name (never the value). */
  readonly name: string;
  readonly posture: Exclude<CredentialPosture, 'none'>;
  /** What kind of reference or secret, e.g. "env-var", "vscode-input", "bearer", "github-token", "api-key". */
  readonly kind: string;
};

export type McpServerRecord = {
  /** Stable id from client, config path, project and server name. */
  readonly id: string;
  /** Client whose config defines it, e.g. "claude-code", "cursor", "vscode", "codex". */
  readonly client: string;
  readonly configPath: string;
  readonly scope: McpScope;
  /** Project root for project/local scope; null otherwise. */
  readonly project: string | null;
  readonly name: string;
  readonly transport: McpTransport;
  /** stdio: the command; args with literal secret values replaced by "<redacted>". */
  readonly command?: string;
  readonly args?: readonly string[];
  /** Remote: the URL with query values and userinfo redacted. */
  readonly url?: string;
  /**
   * Stdio bridges to a remote server (npx mcp-remote URL, supergateway, mcp-proxy): the remote
   * URL found in the args, redacted like `url`. The real endpoint, although the transport is stdio.
   */
  readonly remoteUrl?: string;
  /** Names of env vars handed to the server (values never). */
  readonly envNames: readonly string[];
  /** Names of HTTP headers sent to the server (values never). */
  readonly headerNames: readonly string[];
  readonly credential: {
    readonly posture: CredentialPosture;
    readonly findings: readonly CredentialFinding[];
  };
  /** False when the config disables it ("disabled": true, "enabled": false). */
  readonly enabled: boolean;
  /**
   * Hash of the definition (transport, command, args, URL, env and header names), never of secret
   * values: a different fingerprint under the same id is a changed definition ("rug pull").
   */
  readonly fingerprint: string;
};

export type ScanErrorCategory =
  | 'parse'
  | 'schema'
  | 'permission'
  | 'too-large'
  | 'not-a-file'
  | 'symlink-loop'
  | 'encoding'
  | 'timeout'
  | 'io';

export type ScanError = {
  readonly path: string;
  readonly category: ScanErrorCategory;
  readonly message: string;
  /** The client whose config this is, when known. */
  readonly client?: string;
  /** The server entry name, for an error in one entry of an otherwise good file. */
  readonly entry?: string;
};

/** A change between two inventories, as the daemon records it. */
export type InventoryChangeType =
  | 'agent.installed'
  | 'agent.upgraded'
  | 'agent.changed'
  | 'agent.removed'
  | 'server.added'
  | 'server.changed'
  | 'server.removed';

export type InventoryChange = {
  readonly type: InventoryChangeType;
  /** AgentRecord.id or McpServerRecord.id. */
  readonly id: string;
  /** Human summary, e.g. "claude-code 2.1.0 -> 2.1.197". */
  readonly summary: string;
  readonly before?: AgentRecord | McpServerRecord;
  readonly after?: AgentRecord | McpServerRecord;
  /** For changes: which fields differ ("command", "args", "url", "version", ...). */
  readonly fields?: readonly string[];
};

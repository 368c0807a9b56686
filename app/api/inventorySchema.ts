/**
 * JSON Schema (draft 2020-12) of the Inventory in ./inventory.ts: what `cordon scan --json` prints
 * and the fleet server ingests. It must describe that type exactly; a test validates real scan
 * output against it. Imports nothing, so browser code can load it.
 */

const nonEmptyString = { type: 'string', minLength: 1 } as const;
const stringList = { type: 'array', items: { type: 'string' } } as const;

/** The schema object; `$id` names version 1 of the inventory. */
export const inventoryJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://cordon.dev/schemas/inventory-v1.json',
  title: 'Cordon inventory',
  description: 'Coding agents and MCP servers on one machine. Secret values never appear: only names, redacted URLs and args, and a credential posture.',
  type: 'object',
  additionalProperties: false,
  required: ['schemaVersion', 'scannedAt', 'host', 'agents', 'mcpServers', 'errors', 'stats'],
  properties: {
    schemaVersion: { const: 1 },
    scannedAt: { type: 'string', format: 'date-time', description: 'ISO 8601 time the scan finished.' },
    host: { $ref: '#/$defs/host' },
    agents: { type: 'array', items: { $ref: '#/$defs/agent' } },
    mcpServers: { type: 'array', items: { $ref: '#/$defs/mcpServer' } },
    errors: { type: 'array', items: { $ref: '#/$defs/scanError' } },
    stats: { $ref: '#/$defs/stats' },
  },
  $defs: {
    host: {
      type: 'object',
      additionalProperties: false,
      required: ['hostname', 'platform', 'user', 'home'],
      properties: {
        hostname: { type: 'string' },
        platform: { type: 'string' },
        user: { type: 'string' },
        home: { type: 'string' },
      },
    },
    stats: {
      type: 'object',
      additionalProperties: false,
      required: ['durationMs', 'filesRead', 'projectsScanned'],
      properties: {
        durationMs: { type: 'number', minimum: 0 },
        filesRead: { type: 'integer', minimum: 0 },
        projectsScanned: { type: 'integer', minimum: 0 },
      },
    },
    agent: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'kind', 'name', 'installType', 'version', 'path', 'source', 'fingerprint'],
      properties: {
        id: { ...nonEmptyString, description: 'Stable id: same agent, same install location, same id across scans and upgrades.' },
        kind: { ...nonEmptyString, description: 'Machine-readable kind, e.g. "claude-code", "codex".' },
        name: { type: 'string' },
        installType: { enum: ['cli', 'desktop-app', 'ide-extension'] },
        version: { type: ['string', 'null'] },
        path: { type: 'string' },
        host: { type: 'string', description: 'For IDE extensions: the editor that loads it.' },
        extensionId: { type: 'string', description: 'For IDE extensions: the marketplace id.' },
        source: { type: 'string', description: 'How it was found, e.g. "npm-global", "path", "extensions.json".' },
        fingerprint: nonEmptyString,
      },
    },
    mcpServer: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'client', 'configPath', 'scope', 'project', 'name', 'transport', 'envNames', 'headerNames', 'credential', 'enabled', 'fingerprint'],
      properties: {
        id: { ...nonEmptyString, description: 'Stable id from client, config path, project and server name.' },
        client: { ...nonEmptyString, description: 'Client whose config defines it, e.g. "claude-code", "cursor", "vscode".' },
        configPath: { type: 'string' },
        scope: { enum: ['user', 'project', 'local', 'managed', 'plugin', 'extension'] },
        project: { type: ['string', 'null'], description: 'Project root for project/local scope; null otherwise.' },
        name: { type: 'string' },
        transport: { enum: ['stdio', 'http', 'sse', 'ws', 'unknown'] },
        command: { type: 'string' },
        args: { ...stringList, description: 'Literal secret values replaced by "<redacted>".' },
        url: { type: 'string', description: 'Query values and userinfo redacted.' },
        remoteUrl: { type: 'string', description: 'Stdio bridges (mcp-remote ...): the remote URL in the args, redacted.' },
        envNames: stringList,
        headerNames: stringList,
        credential: { $ref: '#/$defs/credential' },
        enabled: { type: 'boolean' },
        fingerprint: { ...nonEmptyString, description: 'Hash of the definition, never of secret values.' },
      },
    },
    credential: {
      type: 'object',
      additionalProperties: false,
      required: ['posture', 'findings'],
      properties: {
        posture: { enum: ['none', 'reference', 'literal'] },
        findings: { type: 'array', items: { $ref: '#/$defs/credentialFinding' } },
      },
    },
    credentialFinding: {
      type: 'object',
      additionalProperties: false,
      required: ['location', 'name', 'posture', 'kind'],
      properties: {
        location: { enum: ['env', 'header', 'arg', 'url-query', 'url-userinfo'] },
        name: { type: 'string', description: 'Env var, header, flag or parameter name; never the value.' },
        posture: { enum: ['reference', 'literal'] },
        kind: { type: 'string', description: 'e.g. "env-var", "vscode-input", "bearer", "github-token".' },
      },
    },
    scanError: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'category', 'message'],
      properties: {
        path: { type: 'string' },
        category: { enum: ['parse', 'schema', 'permission', 'too-large', 'not-a-file', 'symlink-loop', 'encoding', 'timeout', 'io'] },
        message: { type: 'string' },
        client: { type: 'string' },
        entry: { type: 'string', description: 'The server entry, for an error in one entry of an otherwise good file.' },
      },
    },
  },
} as const;

/**
 * THE settings JSON Schema (draft 2020-12): the single source for validation, `cordon settings
 * schema`, and the generated MDM artifacts (.mobileconfig, ADMX/ADML, Linux managed.json example).
 * Every key has a title, a description, a type, a default, and an enum where the set is closed.
 */
import type { SettingKey, Settings } from '../api/settings.ts';
import { MANAGED_DEFAULTS_KEY } from '../api/settings.ts';

/** The JSON types a setting may have; each maps to one plist type and one registry value type. */
export type SettingType = 'string' | 'boolean' | 'integer' | 'array' | 'object';

/** The schema of one setting. Constraint keywords beyond these are plain JSON Schema. */
export type SettingSchema = Readonly<{
  title: string;
  description: string;
  type: SettingType;
  default: unknown;
  enum?: readonly string[];
  [keyword: string]: unknown;
}>;

const ABSOLUTE_PATH = String.raw`^$|^/|^[A-Za-z]:[\\/]|^\\\\`;
const AGENT_KIND = String.raw`^[a-z0-9][a-z0-9._-]{0,63}$`;
const HOST = String.raw`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`;
const FLEET_URL = String.raw`^$|^https://[^\s/?#@]+([/?#]\S*)?$|^http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?([/?#]\S*)?$`;

const agentList = (title: string, description: string, allowStar: boolean): SettingSchema => ({
  title,
  description,
  type: 'array',
  default: [],
  items: { type: 'string', pattern: allowStar ? String.raw`^\*$|${AGENT_KIND}` : AGENT_KIND },
  uniqueItems: true,
  maxItems: 256,
});

/** Every setting's schema, in display order. Keys are the plist keys and registry value names. */
export const SETTINGS_PROPERTIES = {
  fleetServerUrl: {
    title: 'Fleet server URL',
    description: 'Base URL of the Cordon fleet server this machine enrolls with and syncs policy from. https:// is required (http:// only for localhost). Empty: standalone, no fleet.',
    type: 'string',
    default: '',
    maxLength: 2048,
    pattern: FLEET_URL,
  },
  enrollSecret: {
    title: 'Enroll secret',
    description: 'Secret presented once to the fleet server to enroll this machine. Never shown in output. Prefer enrollSecretFile so the secret is not readable by users.',
    type: 'string',
    default: '',
    maxLength: 4096,
    writeOnly: true,
  },
  enrollSecretFile: {
    title: 'Enroll secret file',
    description: 'Absolute path of a root-owned file that holds the enroll secret (used when enrollSecret is empty). Empty: none.',
    type: 'string',
    default: '',
    maxLength: 4096,
    pattern: ABSOLUTE_PATH,
  },
  mode: {
    title: 'Mode',
    description: 'monitor: observe agents and record what they do; enforce: also block what policy denies.',
    type: 'string',
    default: 'monitor',
    enum: ['monitor', 'enforce'],
  },
  lockedPolicy: {
    title: 'Locked policy',
    description: 'A policy document (JSON object) whose rules users cannot loosen; it is combined with the user policy, stricter rule wins. Empty object: no locked policy.',
    type: 'object',
    default: {},
  },
  lockedPolicyFile: {
    title: 'Locked policy file',
    description: 'Absolute path of a root-owned JSON file holding a locked policy document, applied in addition to lockedPolicy. Empty: none.',
    type: 'string',
    default: '',
    maxLength: 4096,
    pattern: ABSOLUTE_PATH,
  },
  allowedAgents: agentList(
    'Allowed agents',
    'Agent kinds allowed to run (e.g. "claude-code", "codex", "gemini-cli"). Empty: every agent not blocked is allowed.',
    false,
  ),
  blockedAgents: agentList('Blocked agents', 'Agent kinds that are blocked; blocking wins over allowedAgents.', false),
  protectAgents: agentList(
    'Agents to protect automatically',
    'Agent kinds Cordon configures (hooks and proxy environment; with protectMcpServers also their MCP servers) as soon as they are discovered. "*": every supported agent. Empty: none until the user opts in.',
    true,
  ),
  protectScope: {
    title: 'Protection scope',
    description: "Where Cordon writes agent configuration: user (the agent's per-user settings, which the user can edit) or managed (the agent's system-wide managed settings; needs the privileged helper).",
    type: 'string',
    default: 'user',
    enum: ['user', 'managed'],
  },
  protectMcpServers: {
    title: 'Route MCP servers through the gateway',
    description: "When Cordon protects an agent automatically (protectAgents, user scope), also route the stdio MCP servers of the agent's user config through the Cordon MCP gateway and move their literal env secrets into the OS keychain (what `cordon agents protect --mcp` does; `cordon agents unprotect` reverses it).",
    type: 'boolean',
    default: false,
  },
  allowPause: {
    title: 'Allow pause',
    description: 'Whether users may pause enforcement for a while from the tray or CLI.',
    type: 'boolean',
    default: true,
  },
  syncIntervalSeconds: {
    title: 'Sync interval (seconds)',
    description: 'How often the agent syncs policy and uploads audit events to the fleet server.',
    type: 'integer',
    default: 300,
    minimum: 30,
    maximum: 86400,
  },
  tlsInspectionHosts: {
    title: 'TLS inspection hosts',
    description: 'Hosts whose HTTPS traffic from agents the proxy decrypts and inspects ("*.example.com" matches subdomains). Empty: no TLS inspection.',
    type: 'array',
    default: [],
    items: { type: 'string', maxLength: 253, pattern: HOST },
    uniqueItems: true,
    maxItems: 1024,
  },
  caDistribution: {
    title: 'CA distribution',
    description: "How agents are made to trust Cordon's inspection CA: none; user-env (CA bundle env vars such as NODE_EXTRA_CA_CERTS for agents Cordon launches or configures); system-trust-store (installed in the OS trust store; needs the privileged helper).",
    type: 'string',
    default: 'user-env',
    enum: ['none', 'user-env', 'system-trust-store'],
  },
  projectRoots: {
    title: 'Project roots',
    description: 'Directories under which discovery looks for project-level agent and MCP configuration (absolute, or starting with ~). Empty: only projects the agents themselves list.',
    type: 'array',
    default: [],
    items: { type: 'string', minLength: 1, maxLength: 4096, pattern: String.raw`^(~([/\\]|$)|/|[A-Za-z]:[\\/]|\\\\)` },
    uniqueItems: true,
    maxItems: 256,
  },
  watchEnabled: {
    title: 'Watch for changes',
    description: 'Whether the daemon watches agent configuration files and rescans on change (otherwise it rescans only on start and on demand).',
    type: 'boolean',
    default: true,
  },
  logLevel: {
    title: 'Log level',
    description: 'Minimum level of the daemon log.',
    type: 'string',
    default: 'info',
    enum: ['debug', 'info', 'warn', 'error'],
  },
  proxyPort: {
    title: 'Proxy port',
    description: 'Loopback TCP port of the local enforcement proxy. 0: pick a free port at start.',
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 65535,
  },
  approvalTimeoutSeconds: {
    title: 'Approval timeout (seconds)',
    description: 'How long an action waits for the user to approve it before approvalTimeoutAction applies.',
    type: 'integer',
    default: 120,
    minimum: 5,
    maximum: 3600,
  },
  approvalTimeoutAction: {
    title: 'Approval timeout action',
    description: 'What happens to an action nobody approved in time (or when no UI is running): deny or allow.',
    type: 'string',
    default: 'deny',
    enum: ['deny', 'allow'],
  },
  auditRetentionDays: {
    title: 'Audit retention (days)',
    description: 'How long audit events are kept in the local database.',
    type: 'integer',
    default: 90,
    minimum: 1,
    maximum: 3650,
  },
} as const satisfies Record<SettingKey, SettingSchema>;

const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/**
 * The schema of a user settings file (and of the enforced top level of a managed source).
 * `$schema` is tolerated so editors can point at this document.
 */
export const SETTINGS_SCHEMA = {
  $schema: SCHEMA_DIALECT,
  $id: 'https://cordon.dev/schemas/settings.schema.json',
  title: 'Cordon settings',
  description: 'Cordon agent settings. Precedence: built-in defaults < IT Defaults < user settings file < IT-enforced (managed) settings.',
  type: 'object',
  properties: SETTINGS_PROPERTIES,
  patternProperties: { '^\\$schema$': { type: 'string' } },
  additionalProperties: false,
} as const;

/**
 * The schema of a managed source (Linux managed.json, the macOS managed-preferences plist, the
 * Windows policy key): top-level keys are enforced; keys under `Defaults` are defaults users may change.
 */
export const MANAGED_SETTINGS_SCHEMA = {
  $schema: SCHEMA_DIALECT,
  $id: 'https://cordon.dev/schemas/managed-settings.schema.json',
  title: 'Cordon managed settings',
  description: `Settings set by IT. Top-level keys are enforced and users cannot change them; keys under ${MANAGED_DEFAULTS_KEY} are defaults users may change.`,
  type: 'object',
  properties: {
    ...SETTINGS_PROPERTIES,
    [MANAGED_DEFAULTS_KEY]: {
      title: 'Defaults users may change',
      description: 'Settings applied as defaults: a user settings file may override them.',
      type: 'object',
      default: {},
      properties: SETTINGS_PROPERTIES,
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** True when `key` names a setting (own property, so "constructor" or "__proto__" never match). */
export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS_PROPERTIES, key);
}

/** The schema of one setting. */
export function settingSchema(key: SettingKey): SettingSchema {
  return SETTINGS_PROPERTIES[key];
}

/** Built-in defaults, freshly copied (callers may keep them). */
export function settingsDefaults(): Settings {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(SETTINGS_PROPERTIES)) out[key] = structuredClone(schema.default);
  return out as Settings;
}

/**
 * THE policy file JSON Schema (draft 2020-12): what `cordon policy check` validates, what
 * `cordon policy schema` prints for editors, and what the fleet console edits against. Checks a
 * schema cannot express (CIDR syntax, port order, duplicate ids) live in app/policy/checks.ts.
 */
import { FLAG_CODES, POLICY_ACTIONS } from '../api/policy.ts';

export const POLICY_SCHEMA_ID = 'https://cordon.dev/schemas/policy-v1.json';

/** Rule ids and credential names: they appear in "layer:rule-id", headers and audit events. */
export const ID_PATTERN = String.raw`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`;
const AGENT_PATTERN = String.raw`^\*$|^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`;
/** Loose on purpose: app/policy/checks.ts validates each label and says what is wrong. */
const HOST_PATTERN = String.raw`^(\*\*|(\*\.)?[^*\s/:?#@\[\]\\]{1,253})$`;
const PORT_RANGE_PATTERN = String.raw`^[0-9]{1,5}(-[0-9]{1,5})?$`;
const METHOD_PATTERN = String.raw`^[A-Za-z]{1,20}$`;
const PATH_PATTERN = String.raw`^[/*]\S*$`;

const MAX_LIST = 10_000;
const action = { enum: [...POLICY_ACTIONS] };
const stringList = (items: Record<string, unknown>, description: string): Record<string, unknown> => ({
  type: 'array',
  description,
  items: { type: 'string', ...items },
  maxItems: MAX_LIST,
});

const common = {
  id: { type: 'string', pattern: ID_PATTERN, description: 'Unique id of the rule in this file (letters, digits, ".", "_", "-").' },
  description: { type: 'string', maxLength: 1000, description: 'Shown in explanations, prompts and the 403 body.' },
  agents: {
    ...stringList({ pattern: AGENT_PATTERN }, 'Agent kinds (e.g. "claude-code") or inventory agent ids, or "*" (default) for every principal.'),
    minItems: 1,
  },
  action: { ...action, description: 'allow, log (allow and record), ask (hold and ask the user) or deny.' },
};

const egressRule = {
  type: 'object',
  description: 'An egress rule: every criterion present must match; an omitted criterion matches anything.',
  additionalProperties: false,
  required: ['id', 'action'],
  properties: {
    ...common,
    hosts: stringList({ pattern: HOST_PATTERN, maxLength: 255 }, '"api.example.com", "*.example.com" (any subdomain) or "**" (any destination).'),
    ips: stringList({ maxLength: 64 }, 'IPv4 or IPv6 addresses (matched when the request names the IP).'),
    cidrs: stringList({ maxLength: 64 }, 'IPv4 or IPv6 networks, e.g. "10.0.0.0/8", "fd00::/8".'),
    ports: {
      type: 'array',
      description: 'Ports (443) or inclusive ranges ("8000-8999").',
      items: { type: ['integer', 'string'], minimum: 1, maximum: 65535, pattern: PORT_RANGE_PATTERN },
      maxItems: MAX_LIST,
    },
    methods: stringList({ pattern: METHOD_PATTERN }, 'HTTP methods; only visible on plain HTTP or inspected HTTPS.'),
    paths: stringList({ pattern: PATH_PATTERN, maxLength: 1024 }, 'Path prefixes ("/api/") or globs ("/repos/*/issues", "/v1/**"); only visible when inspected.'),
    data: {
      type: 'object',
      additionalProperties: false,
      description: 'Data criteria (need a visible request).',
      properties: { secrets: { const: true, description: 'The rule judges requests that carry a detected secret.' } },
    },
    flags: { type: 'array', items: { enum: [...FLAG_CODES] }, maxItems: FLAG_CODES.length, uniqueItems: true, description: 'The rule judges these raised signals (anomaly flags, secrets) instead of the destination.' },
    inspect: { type: 'boolean', description: 'Terminate TLS for matching destinations (methods, paths and data become visible).' },
    dpop: {
      type: 'object',
      additionalProperties: false,
      required: ['credential'],
      description: 'Attach a DPoP-bound credential held by Cordon to requests to matching destinations.',
      properties: { credential: { type: 'string', pattern: ID_PATTERN, description: 'The name of the credential in Cordon\'s keychain.' } },
    },
  },
};

const localRule = {
  type: 'object',
  description: 'A local-action rule (agent hooks): shell commands, file paths or MCP tools.',
  additionalProperties: false,
  required: ['id', 'action'],
  properties: {
    ...common,
    commands: stringList({ minLength: 1, maxLength: 1024 }, 'Command-line globs ("*" matches anything), e.g. "rm -rf *".'),
    files: stringList({ minLength: 1, maxLength: 1024 }, 'Path globs: "*" within a segment, "**" across, "~/" is the home directory.'),
    operations: { type: 'array', items: { enum: ['read', 'write', 'delete', 'execute'] }, uniqueItems: true, minItems: 1, description: 'Limits files to these operations (default: all).' },
    mcp: {
      type: 'array',
      maxItems: MAX_LIST,
      description: 'MCP tools: server name and tool names (globs with "*"; no tools: every tool).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['server'],
        properties: {
          server: { type: 'string', minLength: 1, maxLength: 256 },
          tools: stringList({ minLength: 1, maxLength: 256 }, 'Tool names or globs.'),
        },
      },
    },
  },
};

/** The policy file schema. */
export const POLICY_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: POLICY_SCHEMA_ID,
  title: 'Cordon policy',
  description: 'Egress and local-action policy for AI coding agents. Layers: builtin < user < managed < fleet; see `cordon policy explain`.',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    $schema: { type: 'string', description: 'Editor schema association; ignored.' },
    version: { const: 1, description: 'Policy format version.' },
    description: { type: 'string', maxLength: 1000 },
    mode: { enum: ['monitor', 'enforce'], description: 'enforce makes Cordon stricter than the settings mode; monitor changes nothing (a policy cannot loosen the mode).' },
    defaults: {
      type: 'object',
      additionalProperties: false,
      description: 'Actions when no rule decides.',
      properties: {
        egress: { ...action, description: 'Egress no rule decides.' },
        unattributed: { ...action, description: 'Connections not tied to a local process (never looser than this).' },
        local: { ...action, description: 'Local actions no rule decides.' },
      },
    },
    flags: {
      type: 'object',
      description: 'Signal -> action for raised signals that no rule judges.',
      propertyNames: { enum: [...FLAG_CODES] },
      additionalProperties: action,
    },
    rules: { type: 'array', items: egressRule, maxItems: 100_000, description: 'Egress rules; the first match in a file decides for that layer.' },
    local: { type: 'array', items: localRule, maxItems: 100_000, description: 'Local-action rules (shell commands, files, MCP tools).' },
  },
} as const;

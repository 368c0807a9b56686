/**
 * The built-in policy: the lowest layer, written in the policy format itself so `cordon policy
 * show` and explanations cite it by line like any file. Users override it (see layers.ts).
 */
import { CoreError } from '../api/errors.ts';
import type { LayerSource } from './compile.ts';
import { parsePolicyText } from './parse.ts';

export const BUILTIN_POLICY_FILE = '<builtin>';

export const BUILTIN_POLICY_TEXT = `# Cordon built-in policy (lowest layer: user, managed and fleet policies override it).
version: 1
description: Cordon built-in defaults
defaults:
  egress: log          # unknown destinations pass and are recorded
  unattributed: deny   # a connection no local process owns (blocked in enforce mode only)
  local: log
flags:
  first-seen-destination: log
  ip-literal: ask
  punycode-host: ask
  high-entropy-host: ask
  paste-service: ask
  webhook-service: ask
  tunnel-service: ask
  file-drop-service: ask
  image-proxy-abuse: ask
  upload-spike: ask
  rate-spike: log
  secret-in-url: deny
  secret-in-header: ask
  secret-in-body: ask
  secrets: ask
rules:
  - id: cloud-metadata
    description: instance metadata services hand out cloud credentials
    action: deny
    ips: [169.254.169.254, 100.100.100.200, "fd00:ec2::254"]
    hosts: [metadata.google.internal, metadata.goog]
  - id: claude-code-api
    agents: [claude-code]
    action: allow
    hosts: [api.anthropic.com]
    ports: [443]
  - id: claude-code-api-key
    description: Claude Code sends its own API key to Anthropic
    agents: [claude-code]
    action: allow
    hosts: [api.anthropic.com]
    flags: [secret-in-header]
    data: {secrets: true}
  - id: codex-api
    agents: [codex]
    action: allow
    hosts: [api.openai.com, chatgpt.com]
    ports: [443]
  - id: codex-api-key
    description: Codex sends its own API key to OpenAI
    agents: [codex]
    action: allow
    hosts: [api.openai.com, chatgpt.com]
    flags: [secret-in-header]
    data: {secrets: true}
  - id: gemini-cli-api
    agents: [gemini-cli]
    action: allow
    hosts: [generativelanguage.googleapis.com, cloudcode-pa.googleapis.com, oauth2.googleapis.com]
    ports: [443]
  - id: gemini-cli-api-key
    description: Gemini CLI sends its own credentials to Google
    agents: [gemini-cli]
    action: allow
    hosts: [generativelanguage.googleapis.com, cloudcode-pa.googleapis.com, oauth2.googleapis.com]
    flags: [secret-in-header]
    data: {secrets: true}
local:
  - id: cordon-config
    description: agents may not change Cordon's own configuration and policy
    action: deny
    files: ["~/.config/cordon/**", "~/Library/Application Support/Cordon/**"]
    operations: [write, delete]
`;

let cached: LayerSource | undefined;

/** The builtin layer, parsed once. */
export function builtinSource(): LayerSource {
  if (cached) return cached;
  const parsed = parsePolicyText(BUILTIN_POLICY_TEXT, BUILTIN_POLICY_FILE);
  // A broken builtin policy is a bug in Cordon, caught by the tests; never a user error.
  if (!parsed.ok) throw new CoreError('ERR_INTERNAL', `the built-in policy is invalid: ${parsed.problems.map((p) => `${p.line}: ${p.message}`).join('; ')}`);
  cached = { layer: 'builtin', file: BUILTIN_POLICY_FILE, status: 'loaded', policy: parsed.policy };
  return cached;
}

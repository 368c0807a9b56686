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
  - id: exfiltrate-credentials
    description: curl or wget sending a file from ~/.aws, ~/.ssh or a .env file
    action: deny
    commands: ${yamlList(exfilPatterns())}
  - id: remove-home
    description: recursive delete of the whole home directory
    action: deny
    commands: ${yamlList(removeHomePatterns())}
  - id: force-push-protected
    description: force push to main or master
    action: ask
    commands: ${yamlList(forcePushPatterns())}
`;

/** curl/wget options that send a local file: "@file" (-d, --data*, -F, --form), -T/--upload-file, --post-file/--body-file. */
function exfilPatterns(): string[] {
  const out: string[] = [];
  for (const dir of ['.aws/', '.ssh/']) {
    out.push(`*curl *@*${dir}*`, `*curl *-T *${dir}*`, `*curl *--upload-file*${dir}*`, `*wget *--post-file*${dir}*`, `*wget *--body-file*${dir}*`);
  }
  for (const end of ['', ' *']) {
    out.push(`*curl *@*.env${end}`, `*curl *-T *.env${end}`, `*curl *--upload-file*.env${end}`, `*wget *--post-file*.env${end}`, `*wget *--body-file*.env${end}`);
  }
  return out;
}

/** rm with recursive+force flags on ~ or $HOME itself (not a path below it), alone or before other commands. */
function removeHomePatterns(): string[] {
  const out: string[] = [];
  for (const flags of ['-rf', '-fr', '-Rf', '-fR', '-r -f', '-f -r', '--recursive --force', '--force --recursive']) {
    // A literal "*" cannot be written in a glob, so "rm -rf ~/*" is not listed (it would match every path under ~).
    for (const target of ['~', '~/', '$HOME', '$HOME/', '"$HOME"', '"$HOME/"', '${HOME}', '${HOME}/']) {
      out.push(`*rm ${flags} ${target}`, `*rm ${flags} ${target} *`, `*rm ${flags} ${target};*`, `*rm ${flags} ${target}&*`);
    }
  }
  return out;
}

/** git push with --force / -f (and --force-with-lease) naming main or master. */
function forcePushPatterns(): string[] {
  const out: string[] = [];
  for (const branch of ['main', 'master']) {
    for (const force of ['--force*', '-f']) {
      out.push(`*git push *${force} *${branch}`, `*git push *${force} *${branch} *`, `*git push *${force} *:${branch}`, `*git push *${branch} *${force}`, `*git push *${branch} ${force}`);
    }
    out.push(`*git push *+${branch}`, `*git push *+${branch} *`, `*git push *+*:${branch}`);
  }
  return out;
}

function yamlList(items: readonly string[]): string {
  return `[${items.map((i) => JSON.stringify(i)).join(', ')}]`;
}

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

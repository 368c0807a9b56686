/**
 * Names that identify a coding agent without an inventory: executable basenames, npm package dirs
 * and IDE extension ids. Used only as a low-confidence fallback (agent id "kind:<kind>") before
 * the first discovery scan; an inventory match by path always wins. Kinds match discovery's.
 */

export type KnownAgent = Readonly<{
  kind: string;
  name: string;
  /** Executable basenames (no extension). */
  bins: readonly string[];
  /** npm package names whose install dir (…/node_modules/<pkg>/) holds the agent's script. */
  npm: readonly string[];
  /** VS Code-style extension ids whose dir (…/extensions/<id>-<version>/) holds the agent. */
  extensions: readonly string[];
}>;

export const KNOWN_AGENTS: readonly KnownAgent[] = [
  { kind: 'claude-code', name: 'Claude Code', bins: ['claude'], npm: ['@anthropic-ai/claude-code'], extensions: ['anthropic.claude-code'] },
  { kind: 'codex', name: 'Codex CLI', bins: ['codex'], npm: ['@openai/codex'], extensions: ['openai.chatgpt'] },
  { kind: 'gemini-cli', name: 'Gemini CLI', bins: ['gemini'], npm: ['@google/gemini-cli'], extensions: [] },
  { kind: 'copilot-cli', name: 'GitHub Copilot CLI', bins: ['copilot'], npm: ['@github/copilot'], extensions: [] },
  { kind: 'amp', name: 'Amp', bins: ['amp'], npm: ['@sourcegraph/amp', '@ampcode/cli'], extensions: ['sourcegraph.amp'] },
  { kind: 'opencode', name: 'opencode', bins: ['opencode'], npm: ['opencode-ai'], extensions: [] },
  { kind: 'goose', name: 'Goose', bins: ['goose'], npm: [], extensions: [] },
  { kind: 'aider', name: 'Aider', bins: ['aider'], npm: [], extensions: [] },
  { kind: 'cursor-agent', name: 'Cursor Agent CLI', bins: ['cursor-agent'], npm: [], extensions: [] },
  { kind: 'kiro-cli', name: 'Kiro CLI', bins: ['kiro-cli'], npm: [], extensions: [] },
  { kind: 'crush', name: 'Crush', bins: ['crush'], npm: ['@charmland/crush'], extensions: [] },
  { kind: 'qwen-code', name: 'Qwen Code', bins: ['qwen'], npm: ['@qwen-code/qwen-code'], extensions: [] },
  { kind: 'continue-cli', name: 'Continue CLI', bins: ['cn'], npm: ['@continuedev/cli'], extensions: ['continue.continue'] },
  { kind: 'cline', name: 'Cline', bins: ['cline'], npm: ['cline'], extensions: ['saoudrizwan.claude-dev'] },
  { kind: 'roo-code', name: 'Roo Code', bins: [], npm: [], extensions: ['rooveterinaryinc.roo-cline'] },
  { kind: 'kilo-code', name: 'Kilo Code', bins: ['kilocode'], npm: ['@kilocode/cli'], extensions: ['kilocode.kilo-code'] },
  { kind: 'auggie', name: 'Auggie', bins: ['auggie'], npm: ['@augmentcode/auggie'], extensions: ['augment.vscode-augment'] },
  { kind: 'droid', name: 'Droid (Factory)', bins: ['droid'], npm: ['droid'], extensions: [] },
  { kind: 'github-copilot', name: 'GitHub Copilot', bins: [], npm: [], extensions: ['github.copilot', 'github.copilot-chat'] },
];

const BY_BIN: ReadonlyMap<string, KnownAgent> = new Map(KNOWN_AGENTS.flatMap((a) => a.bins.map((b) => [b, a] as const)));

/** The agent an executable basename names ("claude", "codex.exe", "Claude.EXE"), if any. */
export function knownAgentByBin(basename: string): KnownAgent | undefined {
  return BY_BIN.get(basename.toLowerCase().replace(/\.(exe|cmd|bat|com|js|mjs|cjs)$/, ''));
}

const PATH_MARKERS: readonly (readonly [RegExp, KnownAgent])[] = KNOWN_AGENTS.flatMap((agent) => [
  ...agent.npm.map((pkg) => [new RegExp(`/node_modules/${escapeRe(pkg)}/`), agent] as const),
  ...agent.extensions.map((id) => [new RegExp(`/extensions/${escapeRe(id)}-\\d[^/]*/`, 'i'), agent] as const),
]);

/** The agent whose npm package dir or extension dir contains this path (either separator). */
export function knownAgentByPath(path: string): KnownAgent | undefined {
  const p = path.replaceAll('\\', '/');
  return PATH_MARKERS.find(([re]) => re.test(p))?.[1];
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

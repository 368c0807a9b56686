/**
 * The table of known coding agents: the names, packages and install layouts each scanner matches
 * against. Data only; adding an agent is adding a row here. Kinds are shared across install types
 * (the "claude-code" CLI and the "claude-code" VS Code extension are one product).
 */

/** A command-line agent: found as an executable on PATH or in its usual install dirs. */
export type CliAgentSpec = Readonly<{
  kind: string;
  name: string;
  /** Executable names, without a Windows extension. */
  bins: readonly string[];
  /** npm packages that ship the bin; a bin that resolves into another package is not this agent. */
  npm?: readonly string[];
  /** Python distributions (pipx, uv tool, pip --user) that ship the bin. */
  pypi?: readonly string[];
  /** Native installers keeping `<root>/versions/<version>` (e.g. ~/.local/share/claude/versions). */
  versionRoots?: readonly string[];
  /** Home-relative dirs a native installer puts the binary in (e.g. ".opencode/bin"). */
  nativeBinDirs?: readonly string[];
  /** Homebrew formula or cask names (Cellar/<name>/<version>, Caskroom/<name>/<version>). */
  homebrew?: readonly string[];
}>;

/** A desktop app, by platform-specific install markers. */
export type DesktopAppSpec = Readonly<{
  kind: string;
  name: string;
  /** macOS bundle names in /Applications or ~/Applications. */
  macBundles: readonly string[];
  /** Windows: dir names under %LOCALAPPDATA%\Programs (per-user) or %ProgramFiles% (system). */
  windowsDirs: readonly string[];
  /** Windows: dir names directly under %LOCALAPPDATA% (Squirrel installs with app-<version> dirs). */
  windowsSquirrelDirs?: readonly string[];
  /** Linux: .desktop file ids (basename without .desktop) that certainly are this app. */
  desktopIds: readonly string[];
  /** Linux: lowercase tokens a .desktop id or AppImage file name contains. */
  tokens: readonly string[];
  /** Linux: `Name=` values (case-insensitive) that confirm a token match. */
  displayNames: readonly string[];
}>;

/** An IDE extension that is an agent. */
export type ExtensionAgentSpec = Readonly<{ kind: string; name: string; extensionId: string }>;

/** An editor that loads VS Code-style extensions from a dir under home. */
export type ExtensionHostSpec = Readonly<{
  host: string;
  /** Home-relative extensions dir. */
  dir: string;
  /** VS Code-style user-data dir name, whose User/profiles/<id>/extensions.json list more. */
  userDataApp?: string;
}>;

export const CLI_AGENTS: readonly CliAgentSpec[] = [
  { kind: 'claude-code', name: 'Claude Code', bins: ['claude'], npm: ['@anthropic-ai/claude-code'], versionRoots: ['claude'], homebrew: ['claude-code'] },
  { kind: 'codex', name: 'Codex CLI', bins: ['codex'], npm: ['@openai/codex'], homebrew: ['codex'] },
  { kind: 'gemini-cli', name: 'Gemini CLI', bins: ['gemini'], npm: ['@google/gemini-cli'], homebrew: ['gemini-cli'] },
  { kind: 'copilot-cli', name: 'GitHub Copilot CLI', bins: ['copilot'], npm: ['@github/copilot'], homebrew: ['copilot-cli'] },
  { kind: 'amp', name: 'Amp', bins: ['amp'], npm: ['@sourcegraph/amp', '@ampcode/cli'], versionRoots: ['amp'] },
  { kind: 'opencode', name: 'opencode', bins: ['opencode'], npm: ['opencode-ai'], nativeBinDirs: ['.opencode/bin'], homebrew: ['opencode'] },
  { kind: 'goose', name: 'Goose', bins: ['goose'], homebrew: ['block-goose-cli'] },
  { kind: 'aider', name: 'Aider', bins: ['aider'], pypi: ['aider-chat', 'aider-install'], homebrew: ['aider'] },
  { kind: 'cursor-agent', name: 'Cursor Agent CLI', bins: ['cursor-agent'], versionRoots: ['cursor-agent'] },
  { kind: 'kiro-cli', name: 'Kiro CLI', bins: ['kiro-cli'] },
  { kind: 'crush', name: 'Crush', bins: ['crush'], npm: ['@charmland/crush'], homebrew: ['crush'] },
  { kind: 'qwen-code', name: 'Qwen Code', bins: ['qwen'], npm: ['@qwen-code/qwen-code'], homebrew: ['qwen-code'] },
  { kind: 'amazon-q', name: 'Amazon Q CLI', bins: ['q', 'qchat'] },
  { kind: 'continue-cli', name: 'Continue CLI', bins: ['cn'], npm: ['@continuedev/cli'] },
  { kind: 'cline-cli', name: 'Cline CLI', bins: ['cline'], npm: ['cline'] },
  { kind: 'auggie', name: 'Auggie', bins: ['auggie'], npm: ['@augmentcode/auggie'] },
  { kind: 'droid', name: 'Droid (Factory)', bins: ['droid'], npm: ['droid'] },
  { kind: 'kilocode-cli', name: 'Kilo Code CLI', bins: ['kilocode', 'kilo'], npm: ['@kilocode/cli'] },
];

export const DESKTOP_APPS: readonly DesktopAppSpec[] = [
  {
    kind: 'claude-desktop', name: 'Claude Desktop', macBundles: ['Claude.app'], windowsDirs: [], windowsSquirrelDirs: ['AnthropicClaude'],
    desktopIds: ['claude-desktop', 'com.anthropic.claude'], tokens: ['claude'], displayNames: ['Claude', 'Claude Desktop'],
  },
  {
    kind: 'cursor', name: 'Cursor', macBundles: ['Cursor.app'], windowsDirs: ['cursor', 'Cursor'],
    desktopIds: ['cursor', 'co.anysphere.cursor'], tokens: ['cursor'], displayNames: ['Cursor'],
  },
  {
    kind: 'windsurf', name: 'Windsurf', macBundles: ['Windsurf.app'], windowsDirs: ['Windsurf'],
    desktopIds: ['windsurf'], tokens: ['windsurf'], displayNames: ['Windsurf'],
  },
  {
    kind: 'kiro', name: 'Kiro', macBundles: ['Kiro.app'], windowsDirs: ['Kiro'],
    desktopIds: ['kiro'], tokens: ['kiro'], displayNames: ['Kiro'],
  },
  {
    kind: 'antigravity', name: 'Antigravity', macBundles: ['Antigravity.app'], windowsDirs: ['Antigravity'],
    desktopIds: ['antigravity'], tokens: ['antigravity'], displayNames: ['Antigravity'],
  },
  {
    kind: 'zed', name: 'Zed', macBundles: ['Zed.app', 'Zed Preview.app'], windowsDirs: ['Zed'],
    desktopIds: ['dev.zed.zed', 'dev.zed.zed-preview', 'zed'], tokens: ['zed'], displayNames: ['Zed', 'Zed Preview'],
  },
  {
    // An agent host: agent mode and Copilot Chat ship with the editor.
    kind: 'vscode', name: 'Visual Studio Code', macBundles: ['Visual Studio Code.app'], windowsDirs: ['Microsoft VS Code'],
    desktopIds: ['code', 'com.visualstudio.code'], tokens: ['visual-studio-code', 'vscode'], displayNames: ['Visual Studio Code'],
  },
  {
    kind: 'goose', name: 'Goose', macBundles: ['Goose.app'], windowsDirs: ['Goose'],
    desktopIds: ['goose'], tokens: ['goose'], displayNames: ['Goose'],
  },
  {
    kind: 'amazon-q', name: 'Amazon Q', macBundles: ['Amazon Q.app'], windowsDirs: [],
    desktopIds: ['amazon-q'], tokens: ['amazon-q'], displayNames: ['Amazon Q'],
  },
];

export const EXTENSION_AGENTS: readonly ExtensionAgentSpec[] = [
  { kind: 'claude-code', name: 'Claude Code', extensionId: 'anthropic.claude-code' },
  { kind: 'codex', name: 'Codex', extensionId: 'openai.chatgpt' },
  { kind: 'cline', name: 'Cline', extensionId: 'saoudrizwan.claude-dev' },
  { kind: 'roo-code', name: 'Roo Code', extensionId: 'rooveterinaryinc.roo-cline' },
  { kind: 'kilo-code', name: 'Kilo Code', extensionId: 'kilocode.kilo-code' },
  { kind: 'continue', name: 'Continue', extensionId: 'continue.continue' },
  { kind: 'github-copilot', name: 'GitHub Copilot', extensionId: 'github.copilot' },
  { kind: 'github-copilot-chat', name: 'GitHub Copilot Chat', extensionId: 'github.copilot-chat' },
  { kind: 'gemini-code-assist', name: 'Gemini Code Assist', extensionId: 'google.geminicodeassist' },
  { kind: 'amazon-q', name: 'Amazon Q', extensionId: 'amazonwebservices.amazon-q-vscode' },
  { kind: 'augment', name: 'Augment', extensionId: 'augment.vscode-augment' },
  { kind: 'amp', name: 'Amp', extensionId: 'sourcegraph.amp' },
  { kind: 'cody', name: 'Cody', extensionId: 'sourcegraph.cody-ai' },
  { kind: 'windsurf-plugin', name: 'Windsurf Plugin', extensionId: 'codeium.codeium' },
];

export const EXTENSION_HOSTS: readonly ExtensionHostSpec[] = [
  { host: 'vscode', dir: '.vscode/extensions', userDataApp: 'Code' },
  { host: 'vscode-insiders', dir: '.vscode-insiders/extensions', userDataApp: 'Code - Insiders' },
  { host: 'vscodium', dir: '.vscode-oss/extensions', userDataApp: 'VSCodium' },
  { host: 'cursor', dir: '.cursor/extensions', userDataApp: 'Cursor' },
  { host: 'windsurf', dir: '.windsurf/extensions', userDataApp: 'Windsurf' },
  { host: 'kiro', dir: '.kiro/extensions', userDataApp: 'Kiro' },
  { host: 'antigravity', dir: '.antigravity/extensions', userDataApp: 'Antigravity' },
  // Remote hosts: the editor's server side on a dev box or container, with its own extensions.
  { host: 'vscode-server', dir: '.vscode-server/extensions' },
  { host: 'cursor-server', dir: '.cursor-server/extensions' },
  { host: 'windsurf-server', dir: '.windsurf-server/extensions' },
];

const EXTENSIONS_BY_ID: ReadonlyMap<string, ExtensionAgentSpec> = new Map(EXTENSION_AGENTS.map((spec) => [spec.extensionId, spec]));

/** The agent an extension id (any case) belongs to, if it is one. */
export function extensionAgent(extensionId: string): ExtensionAgentSpec | undefined {
  return EXTENSIONS_BY_ID.get(extensionId.toLowerCase());
}

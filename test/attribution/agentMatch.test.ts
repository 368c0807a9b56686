import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessInfo } from '../../app/api/enforcement.ts';
import type { AgentRecord } from '../../app/api/inventory.ts';
import { buildAgentIndex, isInterpreter, matchAgent, scriptArgument, type PathInfo } from '../../app/attribution/agentMatch.ts';
import { agent, inventoryOf } from '../discovery/inventoryFixtures.ts';

let nextPid = 1000;
function proc(exe: string | null, argv: string[], cwd: string | null = '/home/u/proj'): ProcessInfo {
  const pid = nextPid++;
  return { pid, ppid: pid + 1, exe, argv, uid: 1000, user: 'u', cwd, startTimeMs: 0 };
}

const NODE = '/usr/bin/node';
const CLAUDE_NPM = '/usr/lib/node_modules/@anthropic-ai/claude-code';
const CLINE_EXT = '/home/u/.vscode/extensions/saoudrizwan.claude-dev-3.20.1';

const records: AgentRecord[] = [
  agent('claude-code', { id: 'agent_claude_npm', name: 'Claude Code', path: '/usr/bin/claude' }),
  agent('codex', { id: 'agent_codex', name: 'Codex CLI', path: '/home/u/.local/bin/codex' }),
  agent('cline', { id: 'agent_cline', name: 'Cline', installType: 'ide-extension', path: CLINE_EXT }),
  agent('cursor', { id: 'agent_cursor', name: 'Cursor', installType: 'desktop-app', path: '/usr/bin/cursor' }),
  agent('aider', { id: 'agent_aider', name: 'Aider', path: '/home/u/.local/bin/aider' }),
];

/** The fake filesystem: symlinks as installed by npm, the native installer and a .deb. */
const FS: Record<string, PathInfo> = {
  '/usr/bin/claude': { real: `${CLAUDE_NPM}/cli.js`, isDirectory: false },
  '/home/u/.local/bin/codex': { real: '/home/u/.local/share/codex/versions/0.50.0', isDirectory: false },
  [CLINE_EXT]: { real: CLINE_EXT, isDirectory: true },
  '/usr/bin/cursor': { real: '/usr/share/cursor/cursor', isDirectory: false },
  '/home/u/.local/bin/aider': { real: '/home/u/.local/bin/aider', isDirectory: false },
};
const resolveInfo = (p: string): PathInfo | null => FS[p] ?? null;
const resolveReal = (p: string): string => FS[p]?.real ?? p;
const index = buildAgentIndex(inventoryOf(records, []), { resolve: resolveInfo, platform: 'linux' });

type Row = { name: string; chain: ProcessInfo[]; want: { id: string; at: number; via: string } | null };

const rows: Row[] = [
  {
    name: 'node running the npm package script through its bin symlink (node /usr/bin/claude)',
    chain: [proc('/usr/bin/curl', ['curl', 'x']), proc('/usr/bin/bash', ['bash', '-c', 'curl x']), proc(NODE, ['node', '/usr/bin/claude']), proc('/usr/bin/zsh', ['-zsh'])],
    want: { id: 'agent_claude_npm', at: 2, via: 'script' },
  },
  {
    name: 'node with flags before the script, script in the package dir (install-dir)',
    chain: [proc(NODE, ['node', '--no-warnings', '-r', 'x.js', `${CLAUDE_NPM}/dist/worker.js`])],
    want: { id: 'agent_claude_npm', at: 0, via: 'install-dir' },
  },
  {
    name: 'relative script resolved against the process cwd',
    chain: [proc(NODE, ['node', 'cli.js'], CLAUDE_NPM)],
    want: { id: 'agent_claude_npm', at: 0, via: 'script' },
  },
  {
    name: 'native binary: exe equals the resolved inventory path',
    chain: [proc('/usr/bin/git', ['git', 'fetch']), proc('/home/u/.local/share/codex/versions/0.50.0', ['codex'])],
    want: { id: 'agent_codex', at: 1, via: 'exe' },
  },
  {
    name: 'native binary replaced by an auto-update while running (exe " (deleted)", newer version dir)',
    chain: [proc('/home/u/.local/share/codex/versions/0.49.0 (deleted)', ['codex'])],
    want: { id: 'agent_codex', at: 0, via: 'install-dir' },
  },
  {
    name: 'IDE extension: a binary shipped inside the extension dir',
    chain: [proc(`${CLINE_EXT}/dist/bin/rg`, ['rg', 'x']), proc('/usr/share/code/code', ['code', '--type=extensionHost'])],
    want: { id: 'agent_cline', at: 0, via: 'install-dir' },
  },
  {
    name: 'desktop app: a helper beside the app binary',
    chain: [proc('/usr/share/cursor/chrome_crashpad_handler', ['crashpad']), proc('/usr/share/cursor/cursor', ['cursor'])],
    want: { id: 'agent_cursor', at: 0, via: 'install-dir' },
  },
  {
    name: 'python entry-point script',
    chain: [proc('/usr/bin/python3.12', ['/usr/bin/python3', '-u', '/home/u/.local/bin/aider', '--model', 'x'])],
    want: { id: 'agent_aider', at: 0, via: 'script' },
  },
  {
    name: 'the nearest agent wins (codex started from inside claude)',
    chain: [proc('/usr/bin/curl', ['curl']), proc('/home/u/.local/share/codex/versions/0.50.0', ['codex']), proc(NODE, ['node', '/usr/bin/claude'])],
    want: { id: 'agent_codex', at: 1, via: 'exe' },
  },
  { name: 'a plain shell and curl are no agent', chain: [proc('/usr/bin/curl', ['curl']), proc('/usr/bin/bash', ['bash'])], want: null },
  { name: 'node -e is no script', chain: [proc(NODE, ['node', '-e', '/usr/bin/claude'])], want: null },
  { name: 'a non-interpreter whose argv[1] is an agent path is not the agent', chain: [proc('/usr/bin/cat', ['cat', '/usr/bin/claude'])], want: null },
  { name: 'another binary in /usr/bin (beside the cursor symlink) is not cursor', chain: [proc('/usr/bin/wget', ['wget'])], want: null },
  { name: 'a name alone does not match when there is an inventory', chain: [proc('/tmp/x/claude', ['claude'])], want: null },
  { name: 'an unreadable process (exe null, argv empty) is skipped', chain: [proc(null, []), proc('/usr/bin/bash', ['bash'])], want: null },
];

for (const row of rows) {
  test(`inventory match: ${row.name}`, () => {
    const match = matchAgent(row.chain, index, resolveReal);
    if (row.want === null) return assert.equal(match, null);
    assert.equal(match?.agent.id, row.want.id);
    assert.equal(match?.chainIndex, row.want.at);
    assert.equal(match?.via, row.want.via);
    assert.equal(match?.agent.pid, row.chain[row.want.at]?.pid);
    assert.equal(match?.agent.exe, row.chain[row.want.at]?.exe);
  });
}

const noInventory = buildAgentIndex(null, { platform: 'linux' });
const nameRows: { name: string; chain: ProcessInfo[]; want: { id: string; at: number; via: string } | null }[] = [
  { name: 'bash running a script named claude', chain: [proc('/usr/bin/curl', ['curl']), proc('/usr/bin/bash', ['/bin/bash', '/tmp/x/claude', 'a'])], want: { id: 'kind:claude-code', at: 1, via: 'known-name' } },
  { name: 'native binary under a versions dir, known by argv[0]', chain: [proc('/home/u/.local/share/claude/versions/2.1.0', ['claude'])], want: { id: 'kind:claude-code', at: 0, via: 'known-name' } },
  { name: 'npm package dir of gemini', chain: [proc(NODE, ['node', '/opt/lib/node_modules/@google/gemini-cli/dist/index.js'])], want: { id: 'kind:gemini-cli', at: 0, via: 'known-path' } },
  { name: 'extension dir of cline', chain: [proc(`${CLINE_EXT}/bin/helper`, ['helper'])], want: { id: 'kind:cline', at: 0, via: 'known-path' } },
  { name: 'cursor-agent binary', chain: [proc('/home/u/.local/bin/cursor-agent', ['cursor-agent'])], want: { id: 'kind:cursor-agent', at: 0, via: 'known-name' } },
  { name: 'unknown names', chain: [proc('/usr/bin/curl', ['curl']), proc('/usr/bin/vim', ['vim'])], want: null },
];
for (const row of nameRows) {
  test(`no inventory, known names: ${row.name}`, () => {
    const match = matchAgent(row.chain, noInventory);
    if (row.want === null) return assert.equal(match, null);
    assert.deepEqual({ id: match?.agent.id, at: match?.chainIndex, via: match?.via }, row.want);
  });
}

test('with nameFallback, a name matches when the inventory does not', () => {
  const idx = buildAgentIndex(inventoryOf(records, []), { resolve: resolveInfo, platform: 'linux', nameFallback: true });
  assert.equal(matchAgent([proc('/tmp/x/codex', ['codex'])], idx)?.agent.id, 'kind:codex');
});

test('Windows paths compare case-insensitively with either separator', () => {
  const win = buildAgentIndex(inventoryOf([agent('claude-code', { id: 'w', path: 'C:\\Users\\U\\AppData\\Roaming\\npm\\node_modules\\@anthropic-ai\\claude-code\\cli.js' })], []), { platform: 'win32' });
  const chain = [proc('C:\\Program Files\\nodejs\\node.exe', ['node', 'c:/users/u/appdata/roaming/npm/node_modules/@anthropic-ai/claude-code/cli.js'])];
  assert.equal(matchAgent(chain, win)?.agent.id, 'w');
  const other = [proc('C:\\Program Files\\nodejs\\node.exe', ['node', 'C:\\Users\\U\\AppData\\Roaming\\npm\\node_modules\\@anthropic-ai\\claude-code\\x\\y.js'])];
  assert.equal(matchAgent(other, win)?.via, 'install-dir');
});

test('macOS app bundle: anything inside the bundle is the app', () => {
  const mac = buildAgentIndex(inventoryOf([agent('cursor', { id: 'c', installType: 'desktop-app', path: '/Applications/Cursor.app' })], []), {
    platform: 'darwin',
    resolve: (p) => ({ real: p, isDirectory: true }),
  });
  const chain = [proc('/Applications/Cursor.app/Contents/Frameworks/Cursor Helper (Plugin).app/Contents/MacOS/Cursor Helper (Plugin)', ['x'])];
  assert.equal(matchAgent(chain, mac)?.agent.id, 'c');
});

test('scriptArgument and isInterpreter', () => {
  const table: [string[], string | null][] = [
    [['node', 'cli.js'], 'cli.js'],
    [['node', '--inspect', '--import', 'tsx', 'a.ts', 'b'], 'a.ts'],
    [['node', '-e', 'x'], null],
    [['python3', '-m', 'aider'], null],
    [['python3', '-W', 'ignore', 'x.py'], 'x.py'],
    [['bun', 'run', 'x.ts'], 'x.ts'],
    [['bash', '-c', 'x'], null],
    [['bash', '--', 'x.sh'], 'x.sh'],
    [['node'], null],
  ];
  for (const [argv, want] of table) assert.equal(scriptArgument(argv), want, argv.join(' '));
  for (const exe of ['/usr/bin/node', '/usr/bin/python3.12', '/bin/bash', 'C:\\nodejs\\node.exe', '/usr/local/bin/bun']) assert.ok(isInterpreter(exe, exe.includes('\\') ? 'win32' : 'linux'), exe);
  for (const exe of ['/usr/bin/curl', '/usr/bin/nodemon', '/usr/bin/claude']) assert.ok(!isInterpreter(exe, 'linux'), exe);
});

// MCP discovery on macOS and Windows layouts (scanned on this Linux machine through
// ctx.platform), env-var overrides of every client's config location, and system/managed paths.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { discoveryContext, type DiscoveryContextInput } from '../../../app/discovery/context.ts';
import { scanMcpServers } from '../../../app/discovery/mcp/index.ts';
import type { McpScanResult } from '../../../app/discovery/types.ts';
import { makeTempDir, removeTempDir, writeTree } from '../../fixtures/homes/fs.ts';
import { buildMcpHome, writeOpencodeDb, type FixturePlatform, type McpFixture } from '../../fixtures/homes/mcp.ts';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeTempDir(root);
});

async function tempRoot(prefix: string): Promise<string> {
  const root = await makeTempDir(prefix);
  roots.push(root);
  return root;
}

async function scanFixture(platform: FixturePlatform, scanAs: NodeJS.Platform = platform): Promise<{ fixture: McpFixture; result: McpScanResult }> {
  const fixture = await buildMcpHome(await tempRoot(`cordon-mcp-${platform}-`), platform);
  const result = await scanMcpServers(discoveryContext({ home: fixture.home, env: fixture.env, platform: scanAs, projectRoots: fixture.projectRoots, includeSystem: false }));
  return { fixture, result };
}

function pathOf(result: McpScanResult, client: string, name: string): string {
  const server = result.servers.find((s) => s.client === client && s.name === name);
  assert.ok(server, `${client} ${name} found`);
  return server.configPath;
}

for (const platform of ['darwin', 'win32'] as const) {
  describe(`${platform} home layout`, () => {
    let fixture: McpFixture;
    let result: McpScanResult;
    before(async () => ({ fixture, result } = await scanFixture(platform)));

    test(`${platform}: every planted server is found, none extra, no errors`, () => {
      const key = (c: string, n: string, s: string): string => `${c}|${n}|${s}`;
      const got = result.servers.map((s) => key(s.client, s.name, s.scope)).sort();
      const want = fixture.expected.map((e) => key(e.client, e.name, e.scope)).sort();
      assert.deepEqual(got, want);
      assert.deepEqual(result.errors, []);
    });

    test(`${platform}: app-data clients are read from the ${platform} locations`, () => {
      const home = fixture.home;
      const ud = platform === 'darwin' ? join(home, 'Library', 'Application Support') : join(home, 'AppData', 'Roaming');
      assert.equal(pathOf(result, 'claude-desktop', 'slack'), join(ud, 'Claude', 'claude_desktop_config.json'));
      assert.equal(pathOf(result, 'vscode', 'postgres'), join(ud, 'Code', 'User', 'mcp.json'));
      assert.equal(pathOf(result, 'cline', 'cline-legacy'), join(ud, 'Code', 'User', 'globalStorage', 'saoudrizwan.claude-dev', 'settings', 'cline_mcp_settings.json'));
      if (platform === 'darwin') {
        // Zed, Goose and Crush follow ~/.config on macOS, not Application Support.
        assert.equal(pathOf(result, 'zed', 'zed-flat'), join(home, '.config', 'zed', 'settings.json'));
        assert.equal(pathOf(result, 'goose', 'github'), join(home, '.config', 'goose', 'config.yaml'));
      } else {
        assert.equal(pathOf(result, 'zed', 'zed-flat'), join(ud, 'Zed', 'settings.json'));
        assert.equal(pathOf(result, 'goose', 'github'), join(ud, 'Block', 'goose', 'config', 'config.yaml'));
        assert.equal(pathOf(result, 'crush', 'crush-gh'), join(home, 'AppData', 'Local', 'crush', 'crush.json'));
      }
    });
  });
}

test('a macOS-laid-out home scanned as Linux misses the Application Support clients (platform decides paths)', async () => {
  const { result } = await scanFixture('darwin', 'linux');
  assert.ok(!result.servers.some((s) => s.client === 'claude-desktop'));
  assert.ok(!result.servers.some((s) => s.client === 'vscode' && s.scope === 'user' && s.name === 'postgres'));
  assert.ok(result.servers.some((s) => s.client === 'claude-code'), 'home-relative clients are still found');
});

describe('env overrides of config locations', () => {
  let root: string;
  let result: McpScanResult;
  const server = (name: string): Record<string, unknown> => ({ mcpServers: { [name]: { command: `${name}-bin` } } });

  before(async () => {
    root = await tempRoot('cordon-mcp-env-');
    const alt = (p: string): string => join(root, 'alt', p);
    await writeTree(root, {
      'home/.keep': '',
      'alt/claude/.claude.json': { json: server('claude-via-env') },
      'alt/claude/plugins/cache/m/p/1/.mcp.json': { json: { 'claude-plugin-via-env': { command: 'x' } } },
      'alt/codex/config.toml': '[mcp_servers.codex-via-env]\ncommand = "c"\n',
      'alt/xdg/goose/config.yaml': 'extensions:\n  goose-via-xdg:\n    type: stdio\n    cmd: g\n',
      'alt/xdg/opencode/opencode.json': { json: { mcp: { 'opencode-via-xdg': { type: 'local', command: ['o'] } } } },
      'alt/xdg/crush/crush.json': { json: { mcp: { 'crush-via-xdg': { type: 'stdio', command: 'cr' } } } },
      'alt/xdg/Code/User/mcp.json': { json: { servers: { 'vscode-via-xdg': { command: 'v' } } } },
      'alt/flatpak/zed/settings.json': { json: { context_servers: { 'zed-via-flatpak': { command: 'z' } } } },
      'alt/gemini-system.json': { json: server('gemini-system-via-env') },
      'alt/continue/config.yaml': 'mcpServers:\n  - name: continue-via-env\n    command: cv\n',
      'alt/copilot/mcp-config.json': { json: server('copilot-via-env') },
      'alt/cline/data/settings/cline_mcp_settings.json': { json: server('cline-via-env') },
      'alt/opencode-file.json': { json: { mcp: { 'opencode-via-file': { type: 'remote', url: 'https://o.example.com' } } } },
      'alt/opencode-dir/opencode.jsonc': '{ "mcp": { "opencode-via-dir": { "type": "local", "command": ["d"] } }, }',
      'alt/portable/user-data/User/mcp.json': { json: { servers: { 'vscode-portable': { command: 'p' } } } },
      'alt/data-project/.mcp.json': { json: server('project-via-xdg-data') },
    });
    await writeOpencodeDb(join(root, 'alt', 'data', 'opencode', 'opencode.db'), [alt('data-project')]);
    const input: DiscoveryContextInput = {
      home: join(root, 'home'),
      platform: 'linux',
      includeSystem: false,
      env: {
        CLAUDE_CONFIG_DIR: alt('claude'),
        CODEX_HOME: alt('codex'),
        XDG_CONFIG_HOME: alt('xdg'),
        XDG_DATA_HOME: alt('data'),
        FLATPAK_XDG_CONFIG_HOME: alt('flatpak'),
        GEMINI_CLI_SYSTEM_SETTINGS_PATH: alt('gemini-system.json'),
        CONTINUE_GLOBAL_DIR: alt('continue'),
        COPILOT_HOME: alt('copilot'),
        CLINE_DIR: alt('cline'),
        OPENCODE_CONFIG: alt('opencode-file.json'),
        OPENCODE_CONFIG_DIR: alt('opencode-dir'),
        VSCODE_PORTABLE: alt('portable'),
      },
    };
    result = await scanMcpServers(discoveryContext(input));
  });

  const cases: readonly (readonly [string, string, string])[] = [
    ['CLAUDE_CONFIG_DIR moves ~/.claude.json', 'claude-code', 'claude-via-env'],
    ['CLAUDE_CONFIG_DIR moves the plugin dir', 'claude-code', 'claude-plugin-via-env'],
    ['CODEX_HOME moves config.toml', 'codex', 'codex-via-env'],
    ['XDG_CONFIG_HOME moves Goose', 'goose', 'goose-via-xdg'],
    ['XDG_CONFIG_HOME moves opencode', 'opencode', 'opencode-via-xdg'],
    ['XDG_CONFIG_HOME moves Crush', 'crush', 'crush-via-xdg'],
    ['XDG_CONFIG_HOME moves VS Code user data', 'vscode', 'vscode-via-xdg'],
    ['FLATPAK_XDG_CONFIG_HOME moves Zed', 'zed', 'zed-via-flatpak'],
    ['GEMINI_CLI_SYSTEM_SETTINGS_PATH is read even without includeSystem', 'gemini-cli', 'gemini-system-via-env'],
    ['CONTINUE_GLOBAL_DIR moves Continue', 'continue', 'continue-via-env'],
    ['COPILOT_HOME moves Copilot CLI', 'copilot-cli', 'copilot-via-env'],
    ['CLINE_DIR moves the Cline CLI', 'cline', 'cline-via-env'],
    ['OPENCODE_CONFIG names one more opencode file', 'opencode', 'opencode-via-file'],
    ['OPENCODE_CONFIG_DIR names one more opencode dir', 'opencode', 'opencode-via-dir'],
    ['VSCODE_PORTABLE moves VS Code user data', 'vscode', 'vscode-portable'],
    ['XDG_DATA_HOME moves opencode\'s project database', 'claude-code', 'project-via-xdg-data'],
  ];
  for (const [title, client, name] of cases) {
    test(title, () => {
      assert.ok(result.servers.some((s) => s.client === client && s.name === name), `${client} ${name}`);
    });
  }

  test('the managed Gemini file is managed scope; nothing under /etc is looked at without includeSystem', () => {
    assert.equal(result.servers.find((s) => s.name === 'gemini-system-via-env')?.scope, 'managed');
    assert.deepEqual(result.watchPaths.filter((p) => p.startsWith('/etc/') || p.startsWith('/Library/')), []);
    assert.deepEqual(result.errors, []);
  });
});

describe('system and managed locations with includeSystem', () => {
  test('linux: managed-mcp.json, /etc/codex and /etc/opencode are looked for', async () => {
    const root = await tempRoot('cordon-mcp-system-');
    const result = await scanMcpServers(discoveryContext({ home: join(root, 'home'), env: {}, platform: 'linux', includeSystem: true }));
    for (const path of ['/etc/claude-code/managed-mcp.json', '/etc/codex/config.toml', '/etc/gemini-cli/settings.json', '/etc/opencode/opencode.json']) {
      assert.ok(result.watchPaths.includes(path), path);
    }
  });

  test('darwin: managed files are looked for under /Library/Application Support', async () => {
    const root = await tempRoot('cordon-mcp-system-');
    const result = await scanMcpServers(discoveryContext({ home: join(root, 'home'), env: {}, platform: 'darwin', includeSystem: true }));
    assert.ok(result.watchPaths.includes('/Library/Application Support/ClaudeCode/managed-mcp.json'));
    assert.ok(result.watchPaths.includes('/Library/Application Support/GeminiCli/settings.json'));
  });

  test('win32: managed files are read from %ProgramW6432% and %ProgramData%', async () => {
    const root = await tempRoot('cordon-mcp-system-');
    await writeTree(root, {
      'home/.keep': '',
      'pf/ClaudeCode/managed-mcp.json': { json: { mcpServers: { 'corp-managed': { type: 'http', url: 'https://corp.example.com/mcp' } } } },
      'pd/OpenAI/Codex/config.toml': '[mcp_servers.corp-codex]\ncommand = "corp"\n',
      'pd/opencode/opencode.json': { json: { mcp: { 'corp-opencode': { type: 'local', command: ['corp'] } } } },
    });
    const env = { ProgramW6432: join(root, 'pf'), ProgramData: join(root, 'pd'), APPDATA: join(root, 'home', 'AppData', 'Roaming') };
    const result = await scanMcpServers(discoveryContext({ home: join(root, 'home'), env, platform: 'win32', includeSystem: true }));
    const managed = result.servers.filter((s) => s.scope === 'managed').map((s) => `${s.client}:${s.name}`).sort();
    assert.deepEqual(managed, ['claude-code:corp-managed', 'codex:corp-codex', 'opencode:corp-opencode']);
  });
});

// MCP discovery across every client on one Linux-layout fixture home: user, project and local
// scope; JSON, JSONC, TOML and YAML; projects found only through each client's registry.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { McpServerRecord } from '../../../app/api/inventory.ts';
import { discoveryContext } from '../../../app/discovery/context.ts';
import { scanMcpServers } from '../../../app/discovery/mcp/index.ts';
import type { McpScanResult } from '../../../app/discovery/types.ts';
import { makeTempDir, removeTempDir } from '../../fixtures/homes/fs.ts';
import { buildMcpHome, SECRETS, type McpFixture } from '../../fixtures/homes/mcp.ts';

let root: string;
let fixture: McpFixture;
let result: McpScanResult;

before(async () => {
  root = await makeTempDir('cordon-mcp-clients-');
  fixture = await buildMcpHome(root, 'linux');
  result = await scanMcpServers(discoveryContext({ home: fixture.home, env: fixture.env, platform: 'linux', projectRoots: fixture.projectRoots, includeSystem: false }));
});
after(async () => removeTempDir(root));

function find(client: string, name: string, scope?: string): McpServerRecord {
  const found = result.servers.filter((s) => s.client === client && s.name === name && (scope === undefined || s.scope === scope));
  assert.equal(found.length, 1, `expected exactly one ${client} server named ${name}, got ${found.length}`);
  return found[0] as McpServerRecord;
}

describe('every client in the Linux fixture home', () => {
  const clients = [
    'claude-code', 'claude-desktop', 'vscode', 'vscode-insiders', 'cline', 'roo-code', 'kilo-code', 'cursor', 'windsurf', 'copilot-cli', 'trae',
    'continue', 'goose', 'codex', 'gemini-cli', 'antigravity', 'kiro', 'zed', 'opencode', 'amazon-q', 'lm-studio', 'crush', 'sema4ai-studio',
    'jetbrains-ai', 'junie', 'jetbrains-air',
  ];
  for (const client of clients) {
    test(`${client}: each configured server has the expected scope, project, transport, posture and state`, () => {
      const expected = fixture.expected.filter((e) => e.client === client);
      assert.ok(expected.length > 0, `the fixture plants servers for ${client}`);
      for (const e of expected) {
        const s = find(e.client, e.name, e.scope);
        const project = e.project === null ? null : (fixture.projects[e.project] ?? 'unknown project key');
        assert.deepEqual(
          { scope: s.scope, project: s.project, transport: s.transport, posture: s.credential.posture, enabled: s.enabled },
          { scope: e.scope, project, transport: e.transport, posture: e.posture, enabled: e.enabled ?? true },
          `${client} ${e.name}`,
        );
      }
    });
  }

  test('no server is listed that the fixture did not plant, and no file failed', () => {
    const planted = new Set(fixture.expected.map((e) => `${e.client}|${e.name}|${e.scope}`));
    const extra = result.servers.filter((s) => !planted.has(`${s.client}|${s.name}|${s.scope}`)).map((s) => `${s.client}|${s.name}`);
    assert.deepEqual(extra, []);
    assert.deepEqual(result.errors, []);
    assert.equal(result.servers.length, fixture.expected.length);
  });

  test('no planted secret value appears anywhere in the result', () => {
    const text = JSON.stringify(result);
    for (const [name, value] of Object.entries(SECRETS)) assert.ok(!text.includes(value), `secret ${name} leaked`);
  });

  test('projects come from each registry; remote, missing and "/" roots are skipped', () => {
    assert.equal(result.projectsScanned, Object.keys(fixture.projects).length);
    assert.ok(!result.servers.some((s) => s.project === '/nonexistent/project/gone'));
  });

  test('ids are unique and stable in form', () => {
    const ids = result.servers.map((s) => s.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^mcp_[0-9a-f]{16}$/);
  });

  test('watchPaths hold files looked for (present or not) and directories whose listings were used', () => {
    const watch = new Set(result.watchPaths);
    const home = fixture.home;
    const p1 = fixture.projects.p1 ?? '';
    for (const path of [
      join(home, '.claude.json'),
      join(home, '.cursor', 'mcp.json'),
      join(home, '.codex', 'config.toml'),
      join(home, '.config', 'goose', 'config.yaml'),
      join(p1, '.mcp.json'),
      join(p1, '.vscode', 'mcp.json'), // absent, still watched
      join(p1, '.continue', 'mcpServers'),
      join(home, '.config', 'Code', 'User', 'workspaceStorage'),
    ]) {
      assert.ok(watch.has(path), `watches ${path}`);
    }
    assert.ok(watch.has(join(home, '.config', 'Code', 'User', 'profiles', '5f3a')), 'a listed profile dir is watched');
    assert.ok(result.filesRead > 0 && result.filesRead <= result.watchPaths.length);
  });
});

describe('details that matter to security teams', () => {
  test('claude-code: a .mcp.json server the user declined is listed as disabled', () => {
    assert.equal(find('claude-code', 'declined').enabled, false);
    assert.equal(find('claude-code', 'shared').enabled, true);
  });

  test('claude-code: local-scope servers name their project and the ~/.claude.json they live in', () => {
    const local = find('claude-code', 'local-db');
    assert.equal(local.configPath, join(fixture.home, '.claude.json'));
    assert.deepEqual(local.args, ['db.js', '--password=<redacted>']);
  });

  test('cursor: an mcp-remote bridge records the remote URL and header names, values redacted', () => {
    const bridge = find('cursor', 'cursor-bridge');
    assert.equal(bridge.transport, 'stdio');
    assert.equal(bridge.remoteUrl, 'https://bridge.example.com/sse?token=<redacted>');
    assert.deepEqual(bridge.headerNames, ['Authorization']);
    assert.deepEqual(bridge.args, ['-y', 'mcp-remote@latest', 'https://bridge.example.com/sse?token=<redacted>', '--header', 'Authorization: <redacted>']);
  });

  test('codex: env_vars, bearer_token_env_var and env_http_headers are references; inline secrets literal', () => {
    const http = find('codex', 'codex-http');
    assert.deepEqual(http.headerNames, ['Authorization', 'X-Region', 'X-Tenant-Key']);
    assert.ok(http.credential.findings.every((f) => f.posture === 'reference'));
    const stdio = find('codex', 'codex-stdio');
    assert.deepEqual(stdio.envNames, ['AWS_ACCESS_KEY_ID', 'GITHUB_TOKEN', 'HOME', 'LOG_LEVEL']);
    assert.ok(stdio.credential.findings.some((f) => f.name === 'GITHUB_TOKEN' && f.kind === 'env-passthrough'));
    assert.ok(stdio.credential.findings.some((f) => f.name === 'AWS_ACCESS_KEY_ID' && f.kind === 'aws-access-key' && f.posture === 'literal'));
    const literal = find('codex', 'codex-literal');
    assert.ok(literal.credential.findings.some((f) => f.name === 'bearer_token' && f.posture === 'literal'));
  });

  test('goose: env_keys are keyring references and builtin extensions are not servers', () => {
    const github = find('goose', 'github');
    assert.ok(github.credential.findings.some((f) => f.name === 'GITHUB_APP_SECRET' && f.kind === 'keyring' && f.posture === 'reference'));
    assert.ok(!result.servers.some((s) => s.client === 'goose' && s.name === 'developer'));
  });

  test('zed: a token inside an extension server\'s settings is a literal finding', () => {
    const ext = find('zed', 'mcp-server-github');
    assert.deepEqual(ext.credential.findings.map((f) => [f.name, f.kind]), [['settings.github_personal_access_token', 'github-token']]);
    assert.equal(find('zed', 'zed-nested').command, 'old-zed-mcp');
  });

  test('vscode: URL userinfo passwords and --token values are redacted', () => {
    assert.equal(find('vscode', 'project-vscode').url, 'https://user:<redacted>@internal.example.com/sse');
    assert.deepEqual(find('vscode', 'devcontainer-server').args, ['--token', '<redacted>']);
  });

  test('opencode: array commands split into command and args; {env:} and {file:} are references', () => {
    const local = find('opencode', 'opencode-local');
    assert.equal(local.command, 'bun');
    assert.deepEqual(local.args, ['x', 'my-mcp']);
    assert.equal(find('opencode', 'opencode-remote').credential.findings[0]?.kind, 'file');
  });

  test('crush: $(command) headers are helper references; a secret default in ${VAR:-x} is literal', () => {
    assert.equal(find('crush', 'crush-gh').credential.findings[0]?.kind, 'shell-command');
    assert.equal(find('crush', 'crush-project').credential.posture, 'literal');
  });
});

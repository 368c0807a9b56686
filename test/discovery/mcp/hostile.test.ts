// Hostile homes: each broken file becomes a ScanError with a category and its path, never a crash
// or a hang, and never hides the good entries and files beside it.
import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ScanErrorCategory } from '../../../app/api/inventory.ts';
import { discoveryContext, type DiscoveryContextInput } from '../../../app/discovery/context.ts';
import { scanMcpServers } from '../../../app/discovery/mcp/index.ts';
import type { McpScanResult } from '../../../app/discovery/types.ts';
import { makeTempDir, makeUnreadable, permissionsEnforced, removeTempDir, writeTree, type Tree } from '../../fixtures/homes/fs.ts';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeTempDir(root);
});

/** A good Windsurf config beside every hostile file: it must always still be found. */
const GOOD: Tree = { 'home/.codeium/windsurf/mcp_config.json': { json: { mcpServers: { 'good-neighbour': { command: 'ok' } } } } };

async function scanTree(tree: Tree, options: Partial<DiscoveryContextInput> = {}): Promise<{ home: string; root: string; result: McpScanResult; ms: number }> {
  const root = await makeTempDir('cordon-mcp-hostile-');
  roots.push(root);
  await writeTree(root, { ...GOOD, ...tree });
  const home = join(root, 'home');
  const started = performance.now();
  const result = await scanMcpServers(discoveryContext({ home, env: {}, platform: 'linux', includeSystem: false, ...options }));
  return { home, root, result, ms: performance.now() - started };
}

function assertNeighbourFound(result: McpScanResult): void {
  assert.ok(result.servers.some((s) => s.name === 'good-neighbour'), 'the good file beside the hostile one is still read');
}

function errorAt(result: McpScanResult, path: string): { category: ScanErrorCategory; message: string } {
  const error = result.errors.find((e) => e.path === path);
  assert.ok(error, `an error is reported for ${path}; got ${JSON.stringify(result.errors)}`);
  return error;
}

describe('hostile files become categorized errors', () => {
  test('a UTF-8 BOM is dropped and the file is read normally', async () => {
    const { result } = await scanTree({ 'home/.cursor/mcp.json': `\uFEFF${JSON.stringify({ mcpServers: { bom: { command: 'x' } } })}` });
    assert.ok(result.servers.some((s) => s.name === 'bom'));
    assert.deepEqual(result.errors, []);
  });

  test('UTF-16LE with a BOM is decoded', async () => {
    const text = JSON.stringify({ mcpServers: { utf16: { command: 'x' } } });
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const { result } = await scanTree({ 'home/.cursor/mcp.json': bytes });
    assert.ok(result.servers.some((s) => s.name === 'utf16'));
  });

  test('bytes that are not UTF-8: encoding error, neighbours still read', async () => {
    const { home, result } = await scanTree({ 'home/.cursor/mcp.json': Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xfd, 0x22, 0x7d]) });
    assert.equal(errorAt(result, join(home, '.cursor', 'mcp.json')).category, 'encoding');
    assertNeighbourFound(result);
  });

  test('a file over the size cap: too-large, neighbours still read', async () => {
    const big = JSON.stringify({ mcpServers: { big: { command: 'x', args: ['a'.repeat(5000)] } } });
    const { home, result } = await scanTree({ 'home/.cursor/mcp.json': big }, { maxFileBytes: 2048 });
    assert.equal(errorAt(result, join(home, '.cursor', 'mcp.json')).category, 'too-large');
    assertNeighbourFound(result);
  });

  test('a FIFO where ~/.claude.json belongs: not-a-file, and the scan does not block on it', async () => {
    const { home, result, ms } = await scanTree({ 'home/.claude.json': { fifo: true } });
    assert.equal(errorAt(result, join(home, '.claude.json')).category, 'not-a-file');
    assertNeighbourFound(result);
    assert.ok(ms < 5000, `scan took ${ms} ms`);
  });

  test('a symlink loop: symlink-loop, neighbours still read', async () => {
    const { home, result } = await scanTree({ 'home/.cursor/mcp.json': { symlink: 'mcp.json' } });
    assert.equal(errorAt(result, join(home, '.cursor', 'mcp.json')).category, 'symlink-loop');
    assertNeighbourFound(result);
  });

  test('a directory that is a symlink loop: files under it report symlink-loop', async () => {
    const { home, result } = await scanTree({ 'home/.kiro': { symlink: '.kiro' } });
    assert.equal(errorAt(result, join(home, '.kiro', 'settings', 'mcp.json')).category, 'symlink-loop');
    assertNeighbourFound(result);
  });

  test('a dangling symlink: not-a-file', async () => {
    const { home, result } = await scanTree({ 'home/.copilot/mcp-config.json': { symlink: '/nonexistent/cordon/target.json' } });
    assert.equal(errorAt(result, join(home, '.copilot', 'mcp-config.json')).category, 'not-a-file');
  });

  test('a directory where a config file belongs: not-a-file', async () => {
    const { home, result } = await scanTree({ 'home/.codex/config.toml': { dir: true } });
    assert.equal(errorAt(result, join(home, '.codex', 'config.toml')).category, 'not-a-file');
    assertNeighbourFound(result);
  });

  test('a symlink cycle inside a plugin tree: the walk ends and finds the plugin once', async () => {
    const { result, ms } = await scanTree({
      'home/.claude/plugins/cache/m/p/.mcp.json': { json: { 'looped-plugin': { command: 'x' } } },
      'home/.claude/plugins/cache/m/p/again': { symlink: '..' },
      'home/.claude/plugins/cache/m/p/self': { symlink: '.' },
    });
    assert.equal(result.servers.filter((s) => s.name === 'looped-plugin').length, 1);
    assert.ok(ms < 5000);
  });

  test('an unreadable file: permission (skipped as root, where permission bits are not enforced)', async (t) => {
    if (!permissionsEnforced()) return t.skip('running as root: chmod 000 does not stop root from reading');
    const root = await makeTempDir('cordon-mcp-perm-');
    roots.push(root);
    await writeTree(root, { ...GOOD, 'home/.cursor/mcp.json': { json: { mcpServers: {} } } });
    await makeUnreadable(join(root, 'home', '.cursor', 'mcp.json'));
    const result = await scanMcpServers(discoveryContext({ home: join(root, 'home'), env: {}, platform: 'linux', includeSystem: false }));
    assert.equal(errorAt(result, join(root, 'home', '.cursor', 'mcp.json')).category, 'permission');
    assertNeighbourFound(result);
    return undefined;
  });

  test('an unreadable directory: permission for the file under it (skipped as root)', async (t) => {
    if (!permissionsEnforced()) return t.skip('running as root: chmod 000 does not stop root from listing');
    const root = await makeTempDir('cordon-mcp-perm-');
    roots.push(root);
    await writeTree(root, { ...GOOD, 'home/.cursor/mcp.json': { json: { mcpServers: {} } } });
    await makeUnreadable(join(root, 'home', '.cursor'));
    const result = await scanMcpServers(discoveryContext({ home: join(root, 'home'), env: {}, platform: 'linux', includeSystem: false }));
    assert.equal(errorAt(result, join(root, 'home', '.cursor', 'mcp.json')).category, 'permission');
    assertNeighbourFound(result);
    return undefined;
  });
});

describe('malformed and wrong-shaped content', () => {
  const secret = 'ghp_HostileParseSecret0123456789abcdefXYZ';

  test('malformed JSON: parse error with line and column, never quoting the file', async () => {
    const text = `{\n  "mcpServers": {\n    "x": { "env": { "TOKEN": "${secret}" } \n`;
    const { home, result } = await scanTree({ 'home/.cursor/mcp.json': text });
    const error = errorAt(result, join(home, '.cursor', 'mcp.json'));
    assert.equal(error.category, 'parse');
    assert.match(error.message, /line \d+, column \d+/);
    assert.ok(!JSON.stringify(result).includes(secret));
    assertNeighbourFound(result);
  });

  test('malformed TOML and YAML: parse errors with positions, no content', async () => {
    const { home, result } = await scanTree({
      'home/.codex/config.toml': `[mcp_servers.x]\ncommand = "a"\nenv = { TOKEN = "${secret}" \n`,
      'home/.config/goose/config.yaml': `extensions:\n  x:\n    envs: { TOKEN: "${secret}"\n  - broken\n`,
    });
    const toml = errorAt(result, join(home, '.codex', 'config.toml'));
    const yaml = errorAt(result, join(home, '.config', 'goose', 'config.yaml'));
    assert.deepEqual([toml.category, yaml.category], ['parse', 'parse']);
    assert.match(toml.message, /TOML syntax error at line \d+/);
    assert.match(yaml.message, /YAML syntax error/);
    assert.ok(!JSON.stringify(result).includes(secret));
  });

  test('wrong shapes (top-level array, mcpServers as a string, a list where a map belongs): schema errors', async () => {
    const { home, result } = await scanTree({
      'home/.cursor/mcp.json': { json: [1, 2, 3] },
      'home/.kiro/settings/mcp.json': { json: { mcpServers: 'not a map' } },
      'home/.config/zed/settings.json': { json: { context_servers: ['a', 'b'] } },
    });
    for (const path of [join(home, '.cursor', 'mcp.json'), join(home, '.kiro', 'settings', 'mcp.json'), join(home, '.config', 'zed', 'settings.json')]) {
      assert.equal(errorAt(result, path).category, 'schema');
    }
    assertNeighbourFound(result);
  });

  test('one bad entry among good ones: the error names the entry, the good ones are listed', async () => {
    const { home, result } = await scanTree({
      'home/.cursor/mcp.json': {
        json: {
          mcpServers: {
            first: { command: 'a' },
            'no-command': { type: 'stdio' },
            'bad-args': { command: 'b', args: { not: 'a list' } },
            'not-an-object': 7,
            last: { url: 'https://last.example.com/mcp' },
          },
        },
      },
    });
    const names = result.servers.filter((s) => s.client === 'cursor').map((s) => s.name);
    assert.deepEqual(names, ['first', 'last']);
    const entries = result.errors.filter((e) => e.path === join(home, '.cursor', 'mcp.json')).map((e) => [e.entry, e.category]);
    assert.deepEqual(entries, [['no-command', 'schema'], ['bad-args', 'schema'], ['not-an-object', 'schema']]);
  });

  test('deep nesting and a YAML alias bomb end as parse errors, quickly', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`), 'extensions: *j', ''].join('\n');
    const { home, result, ms } = await scanTree({ 'home/.cursor/mcp.json': '['.repeat(100_000), 'home/.config/goose/config.yaml': bomb });
    assert.equal(errorAt(result, join(home, '.cursor', 'mcp.json')).category, 'parse');
    assert.equal(errorAt(result, join(home, '.config', 'goose', 'config.yaml')).category, 'parse');
    assertNeighbourFound(result);
    assert.ok(ms < 5000, `scan took ${ms} ms`);
  });

  test('a server named "__proto__" is an ordinary entry and pollutes nothing', async () => {
    const { result } = await scanTree({ 'home/.cursor/mcp.json': '{"mcpServers": {"__proto__": {"command": "proto"}, "constructor": {"command": "c"}}}' });
    assert.deepEqual(result.servers.filter((s) => s.client === 'cursor').map((s) => s.name).sort(), ['__proto__', 'constructor']);
    assert.equal(({} as Record<string, unknown>).command, undefined);
  });

  test('a registry listing thousands of missing projects is bounded and the scan finishes', async () => {
    const projects = Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`/nonexistent/cordon/p${i}`, {}]));
    const { home, result } = await scanTree({ 'home/.claude.json': { json: { projects } } });
    assert.equal(result.projectsScanned, 0);
    assert.ok(result.errors.some((e) => e.path === home && e.category === 'too-large'));
    assertNeighbourFound(result);
  });

  test('a corrupt opencode database is reported and the scan goes on', async () => {
    const { home, result } = await scanTree({ 'home/.local/share/opencode/opencode.db': 'this is not a sqlite database'.repeat(200) });
    assert.equal(errorAt(result, join(home, '.local', 'share', 'opencode', 'opencode.db')).category, 'parse');
    assertNeighbourFound(result);
  });

  test('a project root that is a symlink to another recorded root is scanned once', async () => {
    const root = await makeTempDir('cordon-mcp-alias-');
    roots.push(root);
    await writeTree(root, { 'work/real/.mcp.json': { json: { mcpServers: { once: { command: 'x' } } } }, 'home/.keep': '' });
    await symlink(join(root, 'work', 'real'), join(root, 'work', 'alias'));
    const projectRoots = [join(root, 'work', 'real'), join(root, 'work', 'alias')];
    const result = await scanMcpServers(discoveryContext({ home: join(root, 'home'), env: {}, platform: 'linux', includeSystem: false, projectRoots }));
    assert.equal(result.projectsScanned, 1);
    assert.equal(result.servers.filter((s) => s.name === 'once').length, 1);
  });
});

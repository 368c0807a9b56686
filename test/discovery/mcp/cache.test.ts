// The between-scans caches (parsed documents and the records built from them): a warm scan gives
// exactly what a cold one gives, and any change to a file (even one keeping its size) is seen.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { discoveryContext, type DiscoveryContext } from '../../../app/discovery/context.ts';
import { scanMcpServers } from '../../../app/discovery/mcp/index.ts';
import { clearParseCache, isTrusted, RACY_MS, type CachedParse, type FileIdentity } from '../../../app/discovery/mcp/parseCache.ts';
import { makeTempDir, removeTempDir, writeTree } from '../../fixtures/homes/fs.ts';
import { buildMcpHome } from '../../fixtures/homes/mcp.ts';

describe('isTrusted (racily-clean rule)', () => {
  const identity: FileIdentity = { dev: 1, ino: 2, size: 300, mtimeMs: 10_000, ctimeMs: 10_000, linkCtimeMs: 10_000 };
  const entry = (cachedAt: number, id: FileIdentity = identity): CachedParse => ({ identity: id, cachedAt, realPath: '/x', outcome: { ok: true, value: {} } });

  test('same identity, cached well after the last change: trusted', () => {
    assert.equal(isTrusted(entry(10_000 + RACY_MS), identity), true);
  });

  test('cached within the racy window of the last change: re-read', () => {
    assert.equal(isTrusted(entry(10_000 + RACY_MS - 1), identity), false);
  });

  const changes: readonly (readonly [string, Partial<FileIdentity>])[] = [
    ['size', { size: 301 }],
    ['mtime', { mtimeMs: 10_001 }],
    ['ctime (any rewrite, even with mtime put back)', { ctimeMs: 10_001 }],
    ['inode (replaced by rename, as editors save)', { ino: 3 }],
    ['device', { dev: 9 }],
    ['symlink re-pointed', { linkCtimeMs: 10_001 }],
  ];
  for (const [what, change] of changes) {
    test(`a changed ${what} is never trusted`, () => {
      assert.equal(isTrusted(entry(99_999), { ...identity, ...change }), false);
    });
  }
});

describe('warm scans', () => {
  let root: string;
  let ctx: DiscoveryContext;
  let config: string;

  before(async () => {
    clearParseCache();
    root = await makeTempDir('cordon-mcp-cache-');
    const fixture = await buildMcpHome(root, 'linux');
    config = join(fixture.home, '.cursor', 'mcp.json');
    await writeTree(root, {
      'home/.kiro/settings/mcp.json': '{ "mcpServers": { "broken": ',
      'home/.copilot/mcp-config.json': { json: { mcpServers: { ok: { command: 'x' }, bad: { args: 'nope' } } } },
    });
    ctx = discoveryContext({ home: fixture.home, env: fixture.env, platform: 'linux', projectRoots: fixture.projectRoots, includeSystem: false });
    // Let every file leave the racy window, so the second scan is served from the caches.
    await setTimeout(RACY_MS + 150);
  });
  after(async () => removeTempDir(root));

  test('a warm scan equals the cold one: servers, errors, files read and watch paths', async () => {
    const cold = await scanMcpServers(ctx);
    const warm = await scanMcpServers(ctx);
    assert.ok(cold.servers.length > 50);
    assert.ok(cold.errors.some((e) => e.category === 'parse') && cold.errors.some((e) => e.entry === 'bad'), 'cold scan reports both errors');
    assert.deepEqual(warm, cold);
  });

  test('a same-size rewrite is seen at once (new fingerprint under the same id)', async () => {
    const before = await scanMcpServers(ctx);
    const original = before.servers.find((s) => s.client === 'cursor' && s.name === 'cursor-remote');
    assert.ok(original);
    await writeFile(config, JSON.stringify({ mcpServers: { 'cursor-remote': { url: 'https://cursor.example.com/mcq' } } }).padEnd(200));
    await writeFile(config, JSON.stringify({ mcpServers: { 'cursor-remote': { url: 'https://evilor.example.com/x' } } }).padEnd(200));
    const afterScan = await scanMcpServers(ctx);
    const changed = afterScan.servers.find((s) => s.client === 'cursor' && s.name === 'cursor-remote');
    assert.equal(changed?.id, original.id);
    assert.equal(changed?.url, 'https://evilor.example.com/x');
    assert.notEqual(changed?.fingerprint, original.fingerprint);
  });

  test('a deleted file takes its servers with it', async () => {
    await rm(config);
    const result = await scanMcpServers(ctx);
    assert.ok(!result.servers.some((s) => s.configPath === config));
  });
});

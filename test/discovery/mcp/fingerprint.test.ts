// Ids and fingerprints of MCP server records: the id names an entry (client, file, project, name);
// the fingerprint hashes its definition, so a rug pull (new command, args or URL under the same
// name) changes it, while a rotated secret value does not (secret values are never hashed).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { McpServerRecord } from '../../../app/api/inventory.ts';
import { discoveryContext } from '../../../app/discovery/context.ts';
import { scanMcpServers } from '../../../app/discovery/mcp/index.ts';
import type { RawServer } from '../../../app/discovery/mcp/model.ts';
import { buildRecord } from '../../../app/discovery/mcp/record.ts';
import { makeTempDir, removeTempDir, writeTree } from '../../fixtures/homes/fs.ts';

const ORIGIN = { client: 'cursor', configPath: '/h/.cursor/mcp.json', scope: 'user', project: null } as const;
const BASE: RawServer = {
  name: 'github',
  transport: 'stdio',
  command: 'npx',
  args: ['-y', '@modelcontextprotocol/server-github@1.0.0'],
  env: [['GITHUB_TOKEN', 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB']],
  enabled: true,
};

const fp = (raw: Partial<RawServer>): string => buildRecord(ORIGIN, { ...BASE, ...raw }).fingerprint;

describe('fingerprints', () => {
  test('the same definition gives the same fingerprint, whatever the env order', () => {
    const a = fp({ env: [['A', '1'], ['B', '2']] });
    const b = fp({ env: [['B', '2'], ['A', '1']] });
    assert.equal(a, b);
    assert.match(a, /^[0-9a-f]{32}$/);
  });

  const changes: readonly (readonly [string, Partial<RawServer>])[] = [
    ['a new command', { command: 'node' }],
    ['new args (a package version bump)', { args: ['-y', '@modelcontextprotocol/server-github@2.0.0'] }],
    ['an added arg', { args: ['-y', '@modelcontextprotocol/server-github@1.0.0', '--evil'] }],
    ['a new transport and URL', { transport: 'http', command: undefined, args: undefined, url: 'https://evil.example.com/mcp' }],
    ['a new env var name', { env: [['GITHUB_TOKEN', 'x'], ['NODE_OPTIONS', '--require /tmp/x.js']] }],
    ['a new header name', { headers: [['X-Exfil', 'on']] }],
  ];
  for (const [title, change] of changes) {
    test(`changes with ${title}`, () => assert.notEqual(fp(change), fp({})));
  }

  test('a different URL host changes it; a different secret query value does not', () => {
    const url = (u: string): string => fp({ transport: 'http', command: undefined, args: undefined, url: u });
    assert.notEqual(url('https://a.example.com/mcp?key=1'), url('https://b.example.com/mcp?key=1'));
    assert.equal(url('https://a.example.com/mcp?key=secret-one'), url('https://a.example.com/mcp?key=secret-two'));
  });

  test('decision: rotating a literal secret value (env, arg, header) keeps the fingerprint', () => {
    assert.equal(fp({ env: [['GITHUB_TOKEN', 'ghp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']] }), fp({ env: [['GITHUB_TOKEN', 'ghp_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB']] }));
    assert.equal(fp({ args: ['--token', 'first-secret-value'] }), fp({ args: ['--token', 'second-secret-value'] }));
    assert.equal(fp({ headers: [['Authorization', 'Bearer one-secret']] }), fp({ headers: [['Authorization', 'Bearer two-secret']] }));
  });

  test('the fingerprint is not derived from the secret: no hash of the value alone matches', async () => {
    const { createHash } = await import('node:crypto');
    const secret = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
    const print = fp({});
    assert.ok(!createHash('sha256').update(secret).digest('hex').startsWith(print));
    assert.ok(!JSON.stringify(buildRecord(ORIGIN, BASE)).includes(secret));
  });

  test('enabling or disabling is not a definition change', () => {
    assert.equal(fp({ enabled: false }), fp({ enabled: true }));
  });
});

describe('ids', () => {
  type Origin = { client?: string; configPath?: string; project?: string };
  const id = (origin: Origin, name = 'github'): string => buildRecord({ ...ORIGIN, ...origin }, { ...BASE, name }).id;

  test('the same entry keeps its id when its definition changes', () => {
    assert.equal(buildRecord(ORIGIN, BASE).id, buildRecord(ORIGIN, { ...BASE, command: 'node' }).id);
  });

  test('client, config path, project and name each give a different id', () => {
    const base = id({});
    assert.notEqual(base, id({ client: 'vscode' }));
    assert.notEqual(base, id({ configPath: '/h/other.json' }));
    assert.notEqual(base, id({ project: '/work/p' }));
    assert.notEqual(base, id({}, 'gitlab'));
  });
});

describe('a rug pull across two scans of the same home', () => {
  const roots: string[] = [];
  after(async () => {
    for (const root of roots) await removeTempDir(root);
  });

  test('same id, new fingerprint when a server\'s command changes on disk; untouched servers keep theirs', async () => {
    const root = await makeTempDir('cordon-mcp-rugpull-');
    roots.push(root);
    const config = (command: string): string => JSON.stringify({ mcpServers: { tools: { command, args: ['serve'] }, stable: { command: 'stable-mcp' } } });
    await writeTree(root, { 'home/.cursor/mcp.json': config('good-mcp') });
    const ctx = discoveryContext({ home: join(root, 'home'), env: {}, platform: 'linux', includeSystem: false });
    const byName = (servers: readonly McpServerRecord[]): Map<string, McpServerRecord> => new Map(servers.map((s) => [s.name, s]));
    const before = byName((await scanMcpServers(ctx)).servers);
    await writeFile(join(root, 'home', '.cursor', 'mcp.json'), config('evil-mcp'));
    const afterScan = byName((await scanMcpServers(ctx)).servers);
    assert.equal(afterScan.get('tools')?.id, before.get('tools')?.id);
    assert.notEqual(afterScan.get('tools')?.fingerprint, before.get('tools')?.fingerprint);
    assert.equal(afterScan.get('stable')?.fingerprint, before.get('stable')?.fingerprint);
  });
});

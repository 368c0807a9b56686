// The daemon keeps agents protected: an agent IT lists in protectAgents is protected when it is
// installed, a removed hook is recorded as drift at once, and the protection is re-applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CordonEvent } from '../../app/api/control.ts';
import { addClaudeNative } from '../fixtures/homes/agents.ts';
import { startDaemonProcess, waitFor } from '../helpers/daemonProcess.ts';

/** A fixture home with Claude Code installed by its native installer, and a Cordon home. */
async function homesWithClaude(): Promise<{ home: string; cordonHome: string }> {
  const home = mkdtempSync(join(tmpdir(), 'cordon-prot-home-'));
  await addClaudeNative(home, '2.1.0');
  return { home, cordonHome: mkdtempSync(join(tmpdir(), 'cordon-prot-')) };
}

test('protectAgents: an installed agent is protected, drift is recorded, and protection is re-applied', async () => {
  const { home, cordonHome } = await homesWithClaude();
  mkdirSync(join(home, '.claude'), { recursive: true });
  const settingsFile = join(home, '.claude', 'settings.json');
  writeFileSync(settingsFile, '{\n  // my own settings\n  "theme": "dark"\n}\n');
  mkdirSync(join(cordonHome, 'config'), { recursive: true });
  writeFileSync(join(cordonHome, 'config', 'settings.json'), JSON.stringify({ protectAgents: ['claude-code'], protectScope: 'user' }));
  const daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: `cordon-test-prot-${process.pid}` } });
  try {
    const client = await daemon.connect();
    const events = async (): Promise<CordonEvent[]> => [...(await client.call('events', { limit: 200 }))];
    await waitFor(async () => (await events()).some((e) => e.type === 'protection.applied'), 15_000, () => daemon.output());
    const protectedText = readFileSync(settingsFile, 'utf8');
    assert.match(protectedText, /cordon-hook\.js/);
    assert.match(protectedText, /my own settings/, 'the user comment survives');

    // The user (or an agent) strips the hook: drift is recorded, then the hook comes back.
    writeFileSync(settingsFile, '{\n  // my own settings\n  "theme": "dark"\n}\n');
    await waitFor(async () => (await events()).some((e) => e.type === 'protection.drifted'), 15_000, () => JSON.stringify(events));
    await waitFor(async () => (await events()).some((e) => e.type === 'protection.reapplied'), 15_000);
    assert.match(readFileSync(settingsFile, 'utf8'), /cordon-hook\.js/);
    client.close();
  } finally {
    await daemon.cleanup();
    rmSync(home, { recursive: true, force: true });
    rmSync(cordonHome, { recursive: true, force: true });
  }
});

test('protectMcpServers: auto-protection also routes the agent\'s stdio MCP servers through the gateway, secrets into the keychain; caDistribution none leaves the CA out', async () => {
  const { home, cordonHome } = await homesWithClaude();
  const token = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
  const claudeJson = join(home, '.claude.json');
  writeFileSync(claudeJson, JSON.stringify({ mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: token } } } }, null, 2));
  mkdirSync(join(cordonHome, 'config'), { recursive: true });
  writeFileSync(join(cordonHome, 'config', 'settings.json'), JSON.stringify({ protectAgents: ['claude-code'], protectScope: 'user', protectMcpServers: true, caDistribution: 'none' }));
  const daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: `cordon-test-protmcp-${process.pid}` } });
  try {
    const client = await daemon.connect();
    await waitFor(async () => ([...(await client.call('events', { limit: 200 }))] as CordonEvent[]).some((e) => e.type === 'protection.applied'), 15_000, () => daemon.output());
    const routed = JSON.parse(readFileSync(claudeJson, 'utf8')) as { mcpServers: { github: { command: string; args: string[]; env?: Record<string, string> } } };
    const args = routed.mcpServers.github.args;
    assert.deepEqual(args.slice(1, 5), ['mcp', 'wrap', '--server', 'github'], args.join(' '));
    assert.ok(args.includes('--secret-env'), args.join(' '));
    assert.deepEqual(args.slice(args.indexOf('--') + 1), ['npx', '-y', '@modelcontextprotocol/server-github']);
    assert.ok(!readFileSync(claudeJson, 'utf8').includes(token), 'the literal token left the config');
    // caDistribution none: the agent gets the proxy but is not told to trust Cordon's CA.
    const agentSettings = readFileSync(join(home, '.claude', 'settings.json'), 'utf8');
    assert.match(agentSettings, /HTTPS_PROXY/);
    assert.doesNotMatch(agentSettings, /NODE_EXTRA_CA_CERTS/);
    client.close();
  } finally {
    await daemon.cleanup();
    rmSync(home, { recursive: true, force: true });
    rmSync(cordonHome, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentRecord } from '../../../app/api/inventory.ts';
import { scanAgents } from '../../../app/discovery/agents/index.ts';
import { discoveryContext } from '../../../app/discovery/context.ts';
import { addExtension, makeHome, put, removeHome, writeExtensionsJson, writeObsolete } from '../../fixtures/homes/agents.ts';

function extensions(agents: readonly AgentRecord[], host: string): AgentRecord[] {
  return agents.filter((a) => a.installType === 'ide-extension' && a.host === host);
}

function summary(agents: readonly AgentRecord[]): string[] {
  return agents.map((a) => `${a.extensionId}@${a.version}:${a.kind}:${a.source}`).sort();
}

describe('IDE extension agents', () => {
  let home: string;
  let vscode: string;
  let cursor: string;
  let windsurf: string;

  before(async () => {
    home = await makeHome();
    vscode = join(home, '.vscode', 'extensions');
    cursor = join(home, '.cursor', 'extensions');
    windsurf = join(home, '.windsurf', 'extensions');

    // VS Code: Cline upgraded (the old dir is stale), Copilot, a non-agent, and an agent dir the
    // editor does not list (left behind by an uninstall).
    const clineOld = await addExtension(vscode, 'saoudrizwan.claude-dev', '3.16.0');
    const clineNew = await addExtension(vscode, 'saoudrizwan.claude-dev', '3.17.2');
    const copilot = await addExtension(vscode, 'github.copilot-chat', '0.27.1');
    const python = await addExtension(vscode, 'ms-python.python', '2025.1.0');
    await addExtension(vscode, 'rooveterinaryinc.roo-cline', '3.20.0');
    // Claude Code: listed, with a platform suffix, located by URI only.
    const claude = await addExtension(vscode, 'anthropic.claude-code', '2.0.5', { platform: 'linux-x64' });
    await writeExtensionsJson(vscode, [
      { id: 'saoudrizwan.claude-dev', version: '3.17.2', dirName: clineNew },
      { id: 'GitHub.copilot-chat', version: '0.27.1', dirName: copilot },
      { id: 'ms-python.python', version: '2025.1.0', dirName: python },
      { id: 'anthropic.claude-code', version: '2.0.5', dirName: claude, form: 'location' },
    ]);
    await writeObsolete(vscode, [clineOld]);

    // Cursor: Codex listed twice (mid-upgrade); the replaced version is in .obsolete.
    const codexOld = await addExtension(cursor, 'openai.chatgpt', '0.4.0');
    const codexNew = await addExtension(cursor, 'openai.chatgpt', '0.5.0', { platform: 'linux-x64' });
    await writeExtensionsJson(cursor, [
      { id: 'openai.chatgpt', version: '0.4.0', dirName: codexOld },
      { id: 'openai.chatgpt', version: '0.5.0', dirName: codexNew },
    ]);
    await writeObsolete(cursor, [codexNew]);

    // Windsurf: extensions.json is broken; the dir names stand in (newest per id, .obsolete honoured).
    await addExtension(windsurf, 'kilocode.kilo-code', '4.1.0');
    await addExtension(windsurf, 'kilocode.kilo-code', '4.10.0');
    const continueNew = await addExtension(windsurf, 'continue.continue', '1.2.0', { platform: 'linux-x64' });
    await addExtension(windsurf, 'continue.continue', '1.1.0');
    await writeObsolete(windsurf, [continueNew]);
    await put(join(windsurf, 'extensions.json'), '[{"identifier": {"id": "kilocode.kilo-code"},');
  });
  after(() => removeHome(home));

  it('lists what extensions.json says is installed, minus .obsolete, with host and package.json version', async () => {
    const result = await scanAgents(discoveryContext({ home }));
    assert.deepEqual(summary(extensions(result.agents, 'vscode')), [
      'anthropic.claude-code@2.0.5:claude-code:extensions.json',
      'github.copilot-chat@0.27.1:github-copilot-chat:extensions.json',
      'saoudrizwan.claude-dev@3.17.2:cline:extensions.json',
    ]);
    const cline = extensions(result.agents, 'vscode').find((a) => a.kind === 'cline');
    assert.equal(cline?.path, join(vscode, 'saoudrizwan.claude-dev-3.17.2'));
    assert.equal(cline?.name, 'Cline');
    assert.deepEqual(summary(extensions(result.agents, 'cursor')), ['openai.chatgpt@0.4.0:codex:extensions.json']);
    for (const path of [vscode, join(vscode, 'extensions.json'), join(vscode, '.obsolete'), cursor, join(home, '.kiro', 'extensions')]) {
      assert.ok(result.watchPaths.includes(path), `watches ${path}`);
    }
  });

  it('falls back to dir names when extensions.json is broken, and reports the broken file', async () => {
    const result = await scanAgents(discoveryContext({ home }));
    assert.deepEqual(summary(extensions(result.agents, 'windsurf')), [
      'continue.continue@1.1.0:continue:extensions-dir',
      'kilocode.kilo-code@4.10.0:kilo-code:extensions-dir',
    ]);
    const errors = result.errors.filter((e) => e.path === join(windsurf, 'extensions.json'));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.category, 'parse');
    assert.equal(errors[0]?.client, 'windsurf');
    assert.doesNotMatch(errors[0]?.message ?? '', /kilocode|identifier/, 'no file text in the message');
    assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
  });

  it('keeps an extension id across an upgrade and changes its fingerprint', async () => {
    const own = await makeHome();
    try {
      const dir = join(own, '.vscode', 'extensions');
      const v1 = await addExtension(dir, 'saoudrizwan.claude-dev', '3.0.0');
      await writeExtensionsJson(dir, [{ id: 'saoudrizwan.claude-dev', version: '3.0.0', dirName: v1 }]);
      const before = extensions((await scanAgents(discoveryContext({ home: own }))).agents, 'vscode');
      const v2 = await addExtension(dir, 'saoudrizwan.claude-dev', '3.1.0');
      await writeExtensionsJson(dir, [{ id: 'saoudrizwan.claude-dev', version: '3.1.0', dirName: v2 }]);
      await writeObsolete(dir, [v1]);
      const after = extensions((await scanAgents(discoveryContext({ home: own }))).agents, 'vscode');
      assert.equal(before.length, 1);
      assert.equal(after.length, 1);
      assert.equal(after[0]?.version, '3.1.0');
      assert.equal(after[0]?.id, before[0]?.id);
      assert.notEqual(after[0]?.fingerprint, before[0]?.fingerprint);
      // The same extension in another editor is another install.
      const other = join(own, '.cursor', 'extensions');
      const copy = await addExtension(other, 'saoudrizwan.claude-dev', '3.1.0');
      await writeExtensionsJson(other, [{ id: 'saoudrizwan.claude-dev', version: '3.1.0', dirName: copy }]);
      const both = (await scanAgents(discoveryContext({ home: own }))).agents.filter((a) => a.kind === 'cline');
      assert.equal(new Set(both.map((a) => a.id)).size, 2);
    } finally {
      await removeHome(own);
    }
  });

  it('reads per-profile extension lists', async () => {
    const own = await makeHome();
    try {
      const dir = join(own, '.vscode', 'extensions');
      const amp = await addExtension(dir, 'sourcegraph.amp', '0.1.0');
      await writeExtensionsJson(dir, []);
      const profile = join(own, '.config', 'Code', 'User', 'profiles', '-1a2b3c', 'extensions.json');
      await put(profile, JSON.stringify([{ identifier: { id: 'sourcegraph.amp' }, version: '0.1.0', location: { scheme: 'file', path: join(dir, amp) } }]));
      const result = await scanAgents(discoveryContext({ home: own, platform: 'linux' }));
      assert.deepEqual(summary(extensions(result.agents, 'vscode')), ['sourcegraph.amp@0.1.0:amp:profile-extensions.json']);
      assert.ok(result.watchPaths.includes(profile));
    } finally {
      await removeHome(own);
    }
  });

  it('survives hostile extension dirs: symlink loops, non-UTF-8 and FIFO package.json, bad entries', async () => {
    const own = await makeHome();
    try {
      const dir = join(own, '.vscode', 'extensions');
      const good = await addExtension(dir, 'continue.continue', '1.0.0', { packageJson: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) });
      const noPkg = await addExtension(dir, 'github.copilot', '1.300.0', { packageJson: null });
      const fifoExt = await addExtension(dir, 'openai.chatgpt', '0.1.0', { packageJson: null });
      execFileSync('mkfifo', [join(dir, fifoExt, 'package.json')]);
      await symlink('saoudrizwan.claude-dev-9.9.9', join(dir, 'saoudrizwan.claude-dev-9.9.9'));
      await symlink('loop-b', join(dir, 'loop-a'));
      await symlink('loop-a', join(dir, 'loop-b'));
      await put(
        join(dir, 'extensions.json'),
        JSON.stringify([
          { identifier: { id: 'continue.continue' }, version: '1.0.0', relativeLocation: good },
          { identifier: { id: 'github.copilot' }, version: '1.300.0', relativeLocation: noPkg },
          { identifier: { id: 'openai.chatgpt' }, version: '0.1.0', relativeLocation: fifoExt },
          { identifier: { id: 'saoudrizwan.claude-dev' }, version: '9.9.9', relativeLocation: 'saoudrizwan.claude-dev-9.9.9' },
          { identifier: { id: 'kilocode.kilo-code' }, version: '1.0.0', relativeLocation: '../../etc' },
          { identifier: { id: 'augment.vscode-augment' }, version: '1.0.0', location: { scheme: 'vscode-remote', path: '/x' } },
          { identifier: { id: 42 } },
          null,
          'junk',
        ]),
      );

      const started = performance.now();
      const result = await scanAgents(discoveryContext({ home: own }));
      assert.ok(performance.now() - started < 2000);
      // Present for certain (listed, dir exists): reported with the listed version beside the error.
      assert.deepEqual(summary(extensions(result.agents, 'vscode')), [
        'continue.continue@1.0.0:continue:extensions.json',
        'github.copilot@1.300.0:github-copilot:extensions.json',
        'openai.chatgpt@0.1.0:codex:extensions.json',
      ]);
      const byPath = new Map(result.errors.map((e) => [e.path, e.category]));
      assert.equal(byPath.get(join(dir, good, 'package.json')), 'encoding');
      assert.equal(byPath.get(join(dir, fifoExt, 'package.json')), 'not-a-file');
      assert.equal(byPath.get(join(dir, 'saoudrizwan.claude-dev-9.9.9')), 'symlink-loop');
      assert.equal(byPath.get(join(dir, 'extensions.json')), 'schema', 'the entries without a usable location are reported');

      // Without extensions.json the dir names are the list; the loops are still harmless.
      await rm(join(dir, 'extensions.json'));
      const fallback = await scanAgents(discoveryContext({ home: own }));
      assert.deepEqual(summary(extensions(fallback.agents, 'vscode')), [
        'continue.continue@1.0.0:continue:extensions-dir',
        'github.copilot@1.300.0:github-copilot:extensions-dir',
        'openai.chatgpt@0.1.0:codex:extensions-dir',
      ]);
      assert.ok(fallback.errors.some((e) => e.path === join(dir, 'saoudrizwan.claude-dev-9.9.9') && e.category === 'symlink-loop'));
    } finally {
      await removeHome(own);
    }
  });
});

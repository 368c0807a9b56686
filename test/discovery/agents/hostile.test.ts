import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AgentRecord } from '../../../app/api/inventory.ts';
import { scanAgents } from '../../../app/discovery/agents/index.ts';
import { discoveryContext } from '../../../app/discovery/context.ts';
import { addExtension, addNpmGlobal, addPythonTool, makeHome, put, removeHome, writeExtensionsJson } from '../../fixtures/homes/agents.ts';

function cliVersion(agents: readonly AgentRecord[], kind: string): string | null | undefined {
  const found = agents.filter((a) => a.kind === kind && a.installType === 'cli');
  assert.equal(found.length, 1, `one ${kind} CLI expected, got ${found.length}`);
  return found[0]?.version;
}

describe('hostile agent installs', { skip: process.platform === 'win32' }, () => {
  it('reports bad package metadata as errors and still lists the agents it belongs to', async () => {
    const home = await makeHome();
    try {
      const prefix = join(home, '.npm-global');
      const codex = await addNpmGlobal(prefix, '@openai/codex', '0.1.0', { codex: 'bin/codex.js' });
      await rm(join(codex.packageRoot, 'package.json'));
      execFileSync('mkfifo', [join(codex.packageRoot, 'package.json')]);
      const gemini = await addNpmGlobal(prefix, '@google/gemini-cli', '0.1.0', { gemini: 'index.js' });
      await put(join(gemini.packageRoot, 'package.json'), Buffer.from('{"version": "0.1.0\xff"}', 'latin1'));
      const copilot = await addNpmGlobal(prefix, '@github/copilot', '0.1.0', { copilot: 'index.js' });
      await put(join(copilot.packageRoot, 'package.json'), '{"version": 1}');
      const qwen = await addNpmGlobal(prefix, '@qwen-code/qwen-code', '0.1.0', { qwen: 'cli.js' });
      await put(join(qwen.packageRoot, 'package.json'), `{"version": "${'9'.repeat(5000)}"}`);
      const crush = await addNpmGlobal(prefix, '@charmland/crush', '0.1.0', { crush: 'run.js' });
      await put(join(crush.packageRoot, 'package.json'), `{"version":"1.0.0","pad":"${'x'.repeat(70_000)}"}`);
      await addPythonTool(home, 'pipx', 'aider-chat', '0.1.0', 'aider', 'Metadata-Version: 2.1\nName: aider-chat\n\nVersion: 1.0.0\n');
      // A bin that is a symlink loop, and a PATH dir that is one.
      await mkdir(join(home, '.local', 'bin'), { recursive: true });
      await symlink('claude', join(home, '.local', 'bin', 'claude'));
      await symlink('loopdir', join(home, 'loopdir'));

      const env = { PATH: [join(home, 'loopdir'), join(home, '.local', 'bin'), ...Array.from({ length: 2000 }, (_, i) => join(home, `none${i}`))].join(':') };
      const started = performance.now();
      const result = await scanAgents(discoveryContext({ home, env, maxFileBytes: 64 * 1024 }));
      assert.ok(performance.now() - started < 3000, 'bounded');

      for (const kind of ['codex', 'gemini-cli', 'copilot-cli', 'qwen-code', 'crush', 'aider']) assert.equal(cliVersion(result.agents, kind), null, kind);
      assert.equal(result.agents.filter((a) => a.kind === 'claude-code').length, 0);
      const byPath = new Map(result.errors.map((e) => [e.path, e]));
      assert.equal(byPath.get(join(codex.packageRoot, 'package.json'))?.category, 'not-a-file');
      assert.equal(byPath.get(join(gemini.packageRoot, 'package.json'))?.category, 'encoding');
      assert.equal(byPath.get(join(copilot.packageRoot, 'package.json'))?.category, 'schema');
      assert.equal(byPath.get(join(qwen.packageRoot, 'package.json'))?.category, 'schema');
      assert.equal(byPath.get(join(crush.packageRoot, 'package.json'))?.category, 'too-large');
      const metadata = [...byPath.values()].find((e) => e.path.endsWith('METADATA'));
      assert.equal(metadata?.category, 'parse', 'a Version after the header block does not count');
      assert.equal(byPath.get(join(home, '.local', 'bin', 'claude'))?.category, 'symlink-loop');
      assert.equal(byPath.get(join(codex.packageRoot, 'package.json'))?.client, 'codex');
      for (const error of result.errors) assert.ok(!error.message.includes('9999999999'), 'no file content in messages');
      assert.ok(result.watchPaths.length < 600, `watch list is bounded (${result.watchPaths.length})`);
    } finally {
      await removeHome(home);
    }
  });

  it('scans a home with thousands of extensions in a few milliseconds once warm', async () => {
    const home = await makeHome();
    try {
      const dir = join(home, '.vscode', 'extensions');
      const entries = [];
      for (let i = 0; i < 1500; i++) entries.push({ id: `publisher${i}.ext${i}`, version: '1.0.0', dirName: `publisher${i}.ext${i}-1.0.0` });
      await Promise.all(entries.slice(0, 300).map((e) => mkdir(join(dir, e.dirName), { recursive: true })));
      for (const id of ['saoudrizwan.claude-dev', 'github.copilot', 'github.copilot-chat', 'anthropic.claude-code', 'continue.continue']) {
        entries.push({ id, version: '1.0.0', dirName: await addExtension(dir, id, '1.0.0') });
      }
      await writeExtensionsJson(dir, entries);
      const ctx = discoveryContext({ home });
      await scanAgents(ctx);
      const times: number[] = [];
      let agents = 0;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        agents = (await scanAgents(ctx)).agents.length;
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      assert.equal(agents, 5);
      // Typically 3-8 ms here; the bound leaves room for a loaded 2-core CI machine.
      assert.ok((times[2] ?? Infinity) < 150, `median warm scan ${times[2]} ms`);
    } finally {
      await removeHome(home);
    }
  });
});

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentRecord } from '../../../app/api/inventory.ts';
import { AGENT_SOURCES, scanAgents } from '../../../app/discovery/agents/index.ts';
import { discoveryContext } from '../../../app/discovery/context.ts';
import {
  FAKE_BINARY,
  addClaudeNative,
  addNpmGlobal,
  addPythonTool,
  link,
  makeHome,
  put,
  removeHome,
  setPackageVersion,
} from '../../fixtures/homes/agents.ts';

function cli(agents: readonly AgentRecord[], kind: string): AgentRecord[] {
  return agents.filter((a) => a.kind === kind && a.installType === 'cli');
}

function only(agents: readonly AgentRecord[], kind: string): AgentRecord {
  const found = cli(agents, kind);
  assert.equal(found.length, 1, `expected one ${kind} CLI, got ${JSON.stringify(found)}`);
  return found[0] as AgentRecord;
}

describe('CLI agents', () => {
  let home: string;
  let npmPrefix: string;

  before(async () => {
    home = await makeHome();
    npmPrefix = join(home, '.npm-global');
    await addNpmGlobal(npmPrefix, '@anthropic-ai/claude-code', '2.1.0', { claude: 'cli.js' });
    await addNpmGlobal(npmPrefix, '@openai/codex', '0.169.0', { codex: 'bin/codex.js' });
    await addNpmGlobal(npmPrefix, '@google/gemini-cli', '0.61.0', { gemini: 'dist/index.js' });
    await addNpmGlobal(npmPrefix, '@github/copilot', '0.0.400', { copilot: 'index.js' });
    // amp's bin lives in a nested package: the outer, user-installed package names the version.
    const amp = await addNpmGlobal(npmPrefix, '@sourcegraph/amp', '0.0.17', {});
    const ampBin = await put(join(amp.packageRoot, 'node_modules', '@ampcode', 'cli', 'bin', 'amp'), FAKE_BINARY, 0o755);
    await put(join(amp.packageRoot, 'node_modules', '@ampcode', 'cli', 'package.json'), '{"name":"@ampcode/cli","version":"9.9.9"}');
    await link(ampBin, join(npmPrefix, 'bin', 'amp'));
    // A bin named like an agent from some other package is not that agent.
    await addNpmGlobal(npmPrefix, 'not-crush', '1.0.0', { crush: 'x.js' });
    await addClaudeNative(home, '2.1.197');
    await addPythonTool(home, 'pipx', 'aider-chat', '0.86.1', 'aider');
    // A file named like an agent but not executable is not a command.
    await put(join(home, '.local', 'bin', 'goose'), FAKE_BINARY, 0o644);
  });
  after(() => removeHome(home));

  it('finds npm globals through their bin symlinks and reads package.json versions', async () => {
    const result = await scanAgents(discoveryContext({ home }));
    const expected: Record<string, string> = { 'codex': '0.169.0', 'gemini-cli': '0.61.0', 'copilot-cli': '0.0.400', 'amp': '0.0.17' };
    for (const [kind, version] of Object.entries(expected)) {
      const agent = only(result.agents, kind);
      assert.equal(agent.version, version, kind);
      assert.equal(agent.source, 'npm-global', kind);
      assert.ok(agent.path.startsWith(join(npmPrefix, 'bin')), agent.path);
    }
    const claudes = cli(result.agents, 'claude-code');
    assert.deepEqual(
      claudes.map((c) => [c.path, c.version, c.source]).sort(),
      [
        [join(home, '.local', 'bin', 'claude'), '2.1.197', 'native-installer'],
        [join(npmPrefix, 'bin', 'claude'), '2.1.0', 'npm-global'],
      ],
    );
    assert.equal(cli(result.agents, 'crush').length, 0, 'a foreign package bin is not crush');
    assert.equal(cli(result.agents, 'goose').length, 0, 'a non-executable file is not a command');
    assert.deepEqual(result.errors, []);
    for (const agent of result.agents) assert.ok((AGENT_SOURCES as readonly string[]).includes(agent.source), agent.source);
    assert.ok(result.watchPaths.includes(join(npmPrefix, 'lib', 'node_modules')));
    assert.ok(result.watchPaths.includes(join(home, '.local', 'share', 'claude', 'versions')));
    assert.ok(result.watchPaths.includes(join(home, '.local', 'bin')));
  });

  it('reads the version of a pipx tool from its dist-info METADATA', async () => {
    const result = await scanAgents(discoveryContext({ home }));
    const aider = only(result.agents, 'aider');
    assert.equal(aider.version, '0.86.1');
    assert.equal(aider.source, 'pipx');
    assert.equal(aider.path, join(home, '.local', 'bin', 'aider'));
  });

  it('reports an agent once when PATH reaches it through two dirs', async () => {
    const other = join(home, 'other-bin');
    await link(join(npmPrefix, 'bin', 'codex'), join(other, 'codex'));
    const env = { PATH: `${other}:${join(npmPrefix, 'bin')}:relative/bin:` };
    const result = await scanAgents(discoveryContext({ home, env }));
    const codex = only(result.agents, 'codex');
    assert.equal(codex.path, join(other, 'codex'), 'the PATH entry the user runs wins');
    assert.equal(codex.source, 'npm-global');
    assert.ok(result.watchPaths.includes(other));
  });
});

describe('CLI agent identity across upgrades', () => {
  it('keeps the id and changes the fingerprint when the native installer moves to a new version', async () => {
    const home = await makeHome();
    try {
      await addClaudeNative(home, '2.1.0');
      const before = only((await scanAgents(discoveryContext({ home }))).agents, 'claude-code');
      await addClaudeNative(home, '2.1.197');
      const after = only((await scanAgents(discoveryContext({ home }))).agents, 'claude-code');
      assert.equal(before.version, '2.1.0');
      assert.equal(after.version, '2.1.197');
      assert.equal(after.id, before.id);
      assert.notEqual(after.fingerprint, before.fingerprint);
    } finally {
      await removeHome(home);
    }
  });

  it('keeps the id across an npm upgrade in place, and gives another install place another id', async () => {
    const home = await makeHome();
    try {
      const install = await addNpmGlobal(join(home, '.npm-global'), '@openai/codex', '0.1.0', { codex: 'bin/codex.js' });
      const before = only((await scanAgents(discoveryContext({ home }))).agents, 'codex');
      await setPackageVersion(install.packageRoot, '@openai/codex', '0.2.0');
      const after = only((await scanAgents(discoveryContext({ home }))).agents, 'codex');
      assert.equal(after.version, '0.2.0');
      assert.equal(after.id, before.id);
      assert.notEqual(after.fingerprint, before.fingerprint);
      assert.match(after.id, /^agent_[0-9a-f]{16}$/);

      const elsewhere = await makeHome();
      try {
        await addNpmGlobal(join(elsewhere, '.npm-global'), '@openai/codex', '0.2.0', { codex: 'bin/codex.js' });
        const other = only((await scanAgents(discoveryContext({ home: elsewhere }))).agents, 'codex');
        assert.notEqual(other.id, after.id);
      } finally {
        await removeHome(elsewhere);
      }
    } finally {
      await removeHome(home);
    }
  });
});

describe('CLI install layouts', () => {
  it('reads versions through shims: the ~/.claude/local wrapper, Windows npm .cmd shims and pnpm scripts', async () => {
    const home = await makeHome();
    try {
      // Claude's "local" install: a wrapper script next to a private node_modules.
      const local = join(home, '.claude', 'local');
      await put(join(local, 'node_modules', '@anthropic-ai', 'claude-code', 'package.json'), '{"name":"@anthropic-ai/claude-code","version":"1.0.100"}');
      await put(join(local, 'claude'), `#!/bin/bash\nexec "${local}/node_modules/.bin/claude" "$@"\n`, 0o755);
      // pnpm global: a script naming the package relative to $basedir.
      const pnpmHome = join(home, '.local', 'share', 'pnpm');
      await put(join(pnpmHome, 'global', '5', 'node_modules', '@google', 'gemini-cli', 'package.json'), '{"version":"0.50.0"}');
      await put(join(pnpmHome, 'gemini'), '#!/bin/sh\nbasedir=$(dirname "$0")\nexec node "$basedir/global/5/node_modules/@google/gemini-cli/dist/index.js" "$@"\n', 0o755);
      const result = await scanAgents(discoveryContext({ home }));
      const claude = only(result.agents, 'claude-code');
      assert.deepEqual([claude.version, claude.source, claude.path], ['1.0.100', 'npm-local', join(local, 'claude')]);
      const gemini = only(result.agents, 'gemini-cli');
      assert.deepEqual([gemini.version, gemini.source], ['0.50.0', 'pnpm-global']);

      // Windows: %APPDATA%\npm\codex.cmd refers to %dp0%\node_modules\@openai\codex.
      const appData = join(home, 'AppData', 'Roaming');
      await put(join(appData, 'npm', 'node_modules', '@openai', 'codex', 'package.json'), '{"version":"0.150.0"}');
      await put(join(appData, 'npm', 'codex.cmd'), '@ECHO off\r\nGOTO start\r\n:start\r\n"%_prog%"  "%dp0%\\node_modules\\@openai\\codex\\bin\\codex.js" %*\r\n');
      const win = await scanAgents(discoveryContext({ home, platform: 'win32', env: { PATH: '', APPDATA: appData } }));
      const codex = only(win.agents, 'codex');
      assert.deepEqual([codex.version, codex.source, codex.path], ['0.150.0', 'npm-global', join(appData, 'npm', 'codex.cmd')]);
    } finally {
      await removeHome(home);
    }
  });

  it('tells apart agents whose shims are one binary (Volta) and reads their image package.json', async () => {
    const home = await makeHome();
    try {
      const volta = join(home, '.volta');
      const shim = await put(join(volta, 'bin', 'volta-shim'), FAKE_BINARY + '#'.repeat(70_000), 0o755);
      await link(shim, join(volta, 'bin', 'claude'));
      await link(shim, join(volta, 'bin', 'codex'));
      await put(join(volta, 'tools', 'image', 'packages', '@openai', 'codex', 'lib', 'node_modules', '@openai', 'codex', 'package.json'), '{"version":"0.160.0"}');
      const result = await scanAgents(discoveryContext({ home }));
      assert.deepEqual([only(result.agents, 'codex').version, only(result.agents, 'codex').source], ['0.160.0', 'volta']);
      assert.deepEqual([only(result.agents, 'claude-code').version, only(result.agents, 'claude-code').source], [null, 'install-dir']);
    } finally {
      await removeHome(home);
    }
  });

  it('reads Homebrew keg versions and uv tool versions', async () => {
    const home = await makeHome();
    try {
      const brew = join(home, 'brew');
      const keg = await put(join(brew, 'Cellar', 'crush', '0.9.1', 'bin', 'crush'), FAKE_BINARY, 0o755);
      await link(keg, join(brew, 'bin', 'crush'));
      await addPythonTool(home, 'uv', 'aider-chat', '0.80.0', 'aider');
      const result = await scanAgents(discoveryContext({ home, env: { PATH: `${join(brew, 'bin')}:${join(home, '.local', 'bin')}` } }));
      const crush = only(result.agents, 'crush');
      assert.deepEqual([crush.version, crush.source], ['0.9.1', 'homebrew']);
      const aider = only(result.agents, 'aider');
      assert.deepEqual([aider.version, aider.source], ['0.80.0', 'uv-tool']);
    } finally {
      await removeHome(home);
    }
  });

  it('reports a binary without metadata with version null when probing is off, and never runs it', async () => {
    const home = await makeHome();
    try {
      const marker = join(home, 'ran');
      await put(join(home, '.opencode', 'bin', 'opencode'), `#!/bin/sh\ntouch "${marker}"\necho 1.2.3\n`, 0o755);
      const result = await scanAgents(discoveryContext({ home }));
      const opencode = only(result.agents, 'opencode');
      assert.deepEqual([opencode.version, opencode.source], [null, 'native-installer']);
      const { access } = await import('node:fs/promises');
      await assert.rejects(access(marker), 'the binary must not have run');
    } finally {
      await removeHome(home);
    }
  });
});

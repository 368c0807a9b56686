import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scanAgents } from '../../../app/discovery/agents/index.ts';
import { probeVersion } from '../../../app/discovery/agents/probe.ts';
import { discoveryContext } from '../../../app/discovery/context.ts';
import { makeHome, removeHome, writeScript } from '../../fixtures/homes/agents.ts';

// These tests run scripts they create on purpose, to exercise the `--version` fallback.
describe('--version probe (fallback when no metadata tells)', { skip: process.platform === 'win32' }, () => {
  let home: string;
  let bin: string;

  before(async () => {
    home = await makeHome();
    bin = join(home, '.local', 'bin');
    // The scan's PATH is the fixture's ~/.local/bin only, so the scripts name their tools absolutely.
    // The probe gives the child only HOME and PATH: goose prints its version only when that holds.
    await writeScript(
      join(bin, 'goose'),
      'export PATH="/usr/bin:/bin:$PATH"\nextra=$(env | grep -c -v -e "^HOME=" -e "^PATH=" -e "^PWD=" -e "^OLDPWD=" -e "^SHLVL=" -e "^_=")\n' +
        'if [ "$1" = "--version" ] && [ "$extra" -eq 0 ]; then echo "goose 1.9.3"; else echo "unexpected: $extra extra variables"; fi',
    );
    await writeScript(join(bin, 'kiro-cli'), 'read line; echo "kiro-cli $line"'); // stdin must be closed: no hang
    await writeScript(join(bin, 'droid'), '/bin/sleep 30');
    await writeScript(join(bin, 'qwen'), 'echo "no version here"');
  });
  after(() => removeHome(home));

  it('runs the binary when probing is on, bounded by versionTimeoutMs, and reports a hang as a timeout', async () => {
    const started = performance.now();
    const result = await scanAgents(discoveryContext({ home, versionTimeoutMs: 400 }), { versionProbe: true });
    const elapsed = performance.now() - started;
    const byKind = new Map(result.agents.map((a) => [a.kind, a]));
    assert.equal(byKind.get('goose')?.version, '1.9.3');
    assert.equal(byKind.get('kiro-cli')?.version, null, 'stdin is closed, so `read` gets nothing and no version prints');
    assert.equal(byKind.get('droid')?.version, null);
    assert.equal(byKind.get('qwen-code')?.version, null);
    assert.equal(byKind.get('droid')?.source, 'path');
    assert.ok(elapsed < 400 + 1500, `the scan took ${elapsed} ms`);
    const timeouts = result.errors.filter((e) => e.category === 'timeout');
    assert.deepEqual(timeouts.map((e) => e.path), [join(bin, 'droid')]);
  });

  it('gives the child no environment but HOME and PATH', async () => {
    const outcome = await probeVersion(
      { path: join(bin, 'goose'), realPath: join(bin, 'goose'), size: -1, mtimeMs: Math.random() },
      { home, path: '/usr/bin:/bin' },
      2000,
    );
    assert.deepEqual(outcome, { kind: 'version', version: '1.9.3' });
  });

  it('kills the whole process group on timeout', async () => {
    const marker = join(home, 'survived');
    const script = await writeScript(join(home, 'scripts', 'spawner'), `(sleep 1; touch "${marker}") &\nsleep 30`);
    const started = performance.now();
    const outcome = await probeVersion({ path: script, realPath: script, size: 0, mtimeMs: 0 }, { home, path: '/usr/bin:/bin' }, 200);
    assert.deepEqual(outcome, { kind: 'timeout' });
    assert.ok(performance.now() - started < 1000);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const { access } = await import('node:fs/promises');
    await assert.rejects(access(marker), 'the background child must have been killed');
  });

  it('does not run anything for a simulated platform', async () => {
    const result = await scanAgents(discoveryContext({ home, platform: process.platform === 'darwin' ? 'linux' : 'darwin', versionTimeoutMs: 5000 }), { versionProbe: true });
    const goose = result.agents.find((a) => a.kind === 'goose' && a.installType === 'cli');
    assert.equal(goose?.version, null);
    assert.equal(result.errors.filter((e) => e.category === 'timeout').length, 0);
  });
});

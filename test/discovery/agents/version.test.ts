import assert from 'node:assert/strict';
import { join, sep } from 'node:path';
import { describe, it } from 'node:test';
import { plistTopLevelStrings } from '../../../app/discovery/agents/plist.ts';
import { cleanVersion, compareVersions, homebrewVersion, versionFromOutput, versionFromVersionsDir } from '../../../app/discovery/agents/version.ts';

describe('version helpers', () => {
  it('orders versions numerically, a release above its pre-releases', () => {
    const cases: [string, string, number][] = [
      ['1.10.0', '1.9.2', 1],
      ['2.0.0', '2.0.0-beta.1', 1],
      ['2.0.0-beta.1', '2.0.0', -1],
      ['1.0', '1.0.0', 0],
      ['0.0.1790142911-g7618fb', '0.0.1790000000-gabc', 1],
      ['3.17.2', '3.17.10', -1],
    ];
    for (const [a, b, sign] of cases) assert.equal(Math.sign(compareVersions(a, b)), sign, `${a} vs ${b}`);
  });

  it('takes the first version token from --version output', () => {
    assert.equal(versionFromOutput('2.1.197 (Claude Code)\n'), '2.1.197');
    assert.equal(versionFromOutput('codex-cli 0.169.0'), '0.169.0');
    assert.equal(versionFromOutput('goose v1.9.3-rc.1\nbuilt with rustc 1.90'), '1.9.3-rc.1');
    assert.equal(versionFromOutput('usage: q [options]'), null);
    assert.equal(versionFromOutput('\u001b[31m\u0000'), null);
  });

  it('accepts only bounded, plain version strings', () => {
    assert.equal(cleanVersion(' 1.2.3 '), '1.2.3');
    assert.equal(cleanVersion('1.2.3; rm -rf /'), null);
    assert.equal(cleanVersion('9'.repeat(65)), null);
    assert.equal(cleanVersion(123), null);
  });

  it('reads versions from native-installer and Homebrew paths', () => {
    const root = `${sep}home${sep}u`;
    assert.deepEqual(versionFromVersionsDir(join(root, '.local', 'share', 'claude', 'versions', '2.1.197'), ['claude']), {
      version: '2.1.197',
      versionsDir: join(root, '.local', 'share', 'claude', 'versions'),
    });
    assert.equal(versionFromVersionsDir(join(root, 'x', 'versions', '1.0.0'), ['claude']), null);
    assert.equal(versionFromVersionsDir(join(root, 'claude', 'versions', 'latest'), ['claude']), null);
    assert.deepEqual(homebrewVersion(join(sep, 'opt', 'homebrew', 'Caskroom', 'codex', '0.50.0', 'codex'), ['codex']), { name: 'codex', version: '0.50.0' });
    assert.equal(homebrewVersion(join(sep, 'opt', 'homebrew', 'Cellar', 'node', '24.0.0', 'bin', 'codex'), ['codex']), null);
  });
});

describe('minimal XML plist reader', () => {
  it('reads top-level string values only, skipping nested dicts, comments and non-strings', () => {
    const parsed = plistTopLevelStrings(`<?xml version="1.0"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>Nested</key><dict><key>CFBundleShortVersionString</key><string>9.9</string></dict>
  <!-- <key>CFBundleShortVersionString</key><string>0.0</string> -->
  <key>LSUIElement</key><true/>
  <key>Count</key><integer>3</integer>
  <key>CFBundleShortVersionString</key><string>1.2.3</string>
  <key>Name</key><string>A &amp; B &#x41;</string>
  <key>Empty</key><string/>
</dict></plist>`);
    assert.ok(parsed.ok);
    assert.equal(parsed.values.get('CFBundleShortVersionString'), '1.2.3');
    assert.equal(parsed.values.get('Name'), 'A & B A');
    assert.equal(parsed.values.get('Empty'), '');
    assert.equal(parsed.values.has('Count'), false);
    assert.equal(parsed.values.has('LSUIElement'), false);
  });

  it('refuses what it does not read, in linear time on hostile input', () => {
    assert.equal(plistTopLevelStrings('bplist00...').ok, false);
    assert.equal(plistTopLevelStrings('{"json": true}').ok, false);
    assert.equal(plistTopLevelStrings('<plist><array/></plist>').ok, false);
    assert.equal(plistTopLevelStrings('<plist></dict></plist>').ok, false);
    const started = performance.now();
    const hostile = `<plist><dict>${'<!--'.repeat(200_000)}${'<a'.repeat(200_000)}`;
    const result = plistTopLevelStrings(hostile);
    assert.ok(performance.now() - started < 500, 'no quadratic scan');
    assert.equal(result.ok, true);
    const control = plistTopLevelStrings('<plist><dict><key>K</key><string>a&#1;b</string></dict></plist>');
    assert.ok(control.ok && !control.values.has('K'), 'control characters are refused');
  });
});

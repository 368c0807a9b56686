// The generator's building blocks: name-based UUIDs, systemd word quoting, XML escaping, target
// validation, and the marker-delimited blocks of the IT deployment guide.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parsePlist } from 'plist';
import { CoreError } from '../../app/api/errors.ts';
import { SETTING_KEYS } from '../../app/api/settings.ts';
import { launchAgentPlist, scheduledTaskXml, serviceTargetProblem, systemdArgument, systemdUserUnit } from '../../app/service/definitions.ts';
import { fillGeneratedBlocks, itDeploymentBlocks } from '../../app/service/nativeConfig/docs.ts';
import { stableUuid, templateSettings, uuidV5 } from '../../app/service/nativeConfig/template.ts';
import { escapeXml, escapeXmlAttribute, isXmlSafe } from '../../app/service/xml.ts';

describe('stable payload UUIDs', () => {
  it('uuidV5 matches RFC 9562 name-based UUIDs (vectors from Python uuid.uuid5)', () => {
    assert.equal(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
    assert.equal(stableUuid('settings'), '7B256F31-C684-5C9C-B693-7F9FA310D626');
  });

  it('differs per purpose and per domain', () => {
    assert.notEqual(stableUuid('settings'), stableUuid('login-items'));
    assert.notEqual(stableUuid('settings'), stableUuid('settings', 'com.example.other'));
  });
});

describe('systemd ExecStart words', () => {
  it('leaves plain paths alone and quotes the rest with escapes', () => {
    assert.equal(systemdArgument('/usr/bin/node'), '/usr/bin/node');
    assert.equal(systemdArgument('/opt/my app/node', true), '"/opt/my app/node"');
    assert.equal(systemdArgument('/a"b\\c'), '"/a\\"b\\\\c"');
  });

  it('keeps % and $ literal: % doubled everywhere, $ doubled in arguments only', () => {
    assert.equal(systemdArgument('/x/100%', true), '"/x/100%%"');
    assert.equal(systemdArgument('/x/$HOME', true), '"/x/$HOME"');
    assert.equal(systemdArgument('/x/$HOME'), '"/x/$$HOME"');
  });

  it('the unit runs exactly node, cordon.js, daemon', () => {
    const unit = systemdUserUnit({ nodePath: '/opt/node 24/node', cordonPath: '/srv/cordon/bin/cordon.js' });
    assert.match(unit, /^ExecStart="\/opt\/node 24\/node" \/srv\/cordon\/bin\/cordon\.js daemon$/m);
  });
});

describe('service targets', () => {
  it('refuses relative paths, control characters and quotes on Windows', () => {
    assert.match(serviceTargetProblem({ nodePath: 'node', cordonPath: '/x/cordon.js' }, 'linux') ?? '', /absolute/);
    assert.match(serviceTargetProblem({ nodePath: '/x/node\nExecStartPre=/bin/evil', cordonPath: '/x/c.js' }, 'linux') ?? '', /control character/);
    assert.match(serviceTargetProblem({ nodePath: '/usr/bin/node', cordonPath: '/x/c.js' }, 'win32') ?? '', /absolute/);
    assert.match(serviceTargetProblem({ nodePath: 'C:\\node.exe', cordonPath: 'C:\\a"b\\c.js' }, 'win32') ?? '', /double quote/);
    assert.equal(serviceTargetProblem({ nodePath: 'C:\\Program Files\\node.exe', cordonPath: '\\\\srv\\share\\cordon.js' }, 'win32'), null);
  });

  it('renderers throw ERR_BAD_REQUEST on a bad target instead of writing a broken file', () => {
    const bad = { nodePath: 'relative/node', cordonPath: '/x/c.js' };
    for (const render of [() => systemdUserUnit(bad), () => launchAgentPlist(bad), () => scheduledTaskXml(bad, { kind: 'users' })]) {
      assert.throws(render, (e: unknown) => e instanceof CoreError && e.code === 'ERR_BAD_REQUEST');
    }
  });

  it('XML-escapes the task user and paths', () => {
    const text = scheduledTaskXml({ nodePath: 'C:\\A&B\\node.exe', cordonPath: 'C:\\<x>\\cordon.js' }, { kind: 'user', userId: 'CORP\\a&b' });
    assert.equal(XMLValidator.validate(text), true);
    const task = (new XMLParser().parse(text) as { Task: { Actions: { Exec: { Command: string; Arguments: string } }; Principals: { Principal: { UserId: string } } } }).Task;
    assert.equal(task.Actions.Exec.Command, 'C:\\A&B\\node.exe');
    assert.equal(task.Actions.Exec.Arguments, '"C:\\<x>\\cordon.js" daemon');
    assert.equal(task.Principals.Principal.UserId, 'CORP\\a&b');
  });

  it('the LaunchAgent sends output to the log path when one is given', () => {
    const agent = parsePlist(launchAgentPlist({ nodePath: '/n', cordonPath: '/c.js' }, { logPath: '/Users/a/Library/Logs/cordon-daemon.log' })) as Record<string, unknown>;
    assert.equal(agent.StandardErrorPath, '/Users/a/Library/Logs/cordon-daemon.log');
    assert.throws(() => launchAgentPlist({ nodePath: '/n', cordonPath: '/c.js' }, { logPath: 'Logs/x.log' }), CoreError);
  });
});

describe('XML text', () => {
  it('escapes markup and refuses characters XML cannot carry', () => {
    assert.equal(escapeXml('a & <b> "c"'), 'a &amp; &lt;b&gt; "c"');
    assert.equal(escapeXmlAttribute('"x"'), '&quot;x&quot;');
    assert.throws(() => escapeXml('bell\u0007'), CoreError);
    assert.equal(isXmlSafe('tab\tnewline\n'), true);
    assert.equal(isXmlSafe('lone \uD800 surrogate'), false);
    assert.equal(isXmlSafe('pair \uD83D\uDE00'), true);
  });
});

describe('templates', () => {
  it('split every key into enforced or Defaults exactly once', () => {
    const t = templateSettings();
    for (const key of SETTING_KEYS) assert.ok(Object.hasOwn(t.enforced, key) !== Object.hasOwn(t.defaults, key), key);
  });
});

describe('generated blocks of the IT deployment guide', () => {
  const doc = (body: string): string => `# Guide\n\n<!-- BEGIN GENERATED: keys (npm run native-config) -->\n${body}<!-- END GENERATED: keys -->\n\nprose\n`;

  it('replaces only what is between the markers', () => {
    const filled = fillGeneratedBlocks(doc('old table\n'), { keys: 'new table\n' });
    assert.deepEqual(filled, { text: doc('new table\n'), missing: [] });
    assert.equal(fillGeneratedBlocks(filled.text, { keys: 'new table\n' }).text, filled.text);
  });

  it('reports missing or duplicated markers and leaves the text alone', () => {
    assert.deepEqual(fillGeneratedBlocks('no markers', { keys: 'x' }), { text: 'no markers', missing: ['keys'] });
    const twice = doc('a\n') + doc('b\n');
    assert.deepEqual(fillGeneratedBlocks(twice, { keys: 'x\n' }), { text: twice, missing: ['keys'] });
  });

  it('the keys table has one row per key', () => {
    const table = itDeploymentBlocks().keys ?? '';
    for (const key of SETTING_KEYS) assert.equal(table.split('\n').filter((l) => l.startsWith(`| \`${key}\` |`)).length, 1, key);
  });
});

// The generated artifacts parse (plists with the `plist` package, XML with fast-xml-parser's
// validator), cross-reference completely (every ADMX string and presentation has its ADML entry and
// vice versa), and carry every schema key. The Linux maintainer scripts run under sh.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parsePlist } from 'plist';
import { MANAGED_DEFAULTS_KEY, SETTING_KEYS } from '../../app/api/settings.ts';
import { parseSettingsPlist } from '../../app/config/managed/darwin.ts';
import { MANAGED_SETTINGS_SCHEMA, settingSchema } from '../../app/config/schema.ts';
import { LAUNCH_AGENT_LABEL, SYSTEMD_UNIT_NAME, systemdUserUnit } from '../../app/service/definitions.ts';
import { decodeUtf16le } from '../../app/service/xml.ts';
import { REPO, repoFile, tempDir } from './helpers.ts';

const run = promisify(execFile);
const text = async (path: string): Promise<string> => (await repoFile(path)).toString('utf8');
const ARRAYS = new Set(['policy', 'item', 'string', 'presentation', 'category', 'definition', 'Rules', 'array']);
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => ARRAYS.has(name) });

type Dict = Record<string, unknown>;
const dict = (value: unknown): Dict => {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), 'expected a dictionary');
  return value as Dict;
};

/** Parses with the daemon's own plist reader too, which fails on any XML error the parser reports. */
async function plistDocument(path: string): Promise<Dict> {
  const bytes = await repoFile(path);
  const strict = parseSettingsPlist(bytes);
  assert.ok(strict.ok, `${path}: ${strict.ok ? '' : strict.message}`);
  return dict(parsePlist(bytes.toString('utf8')));
}

function mcxSettings(profile: Dict): Dict {
  const payload = dict((profile.PayloadContent as unknown[])[0]);
  assert.equal(payload.PayloadType, 'com.apple.ManagedClient.preferences');
  const forced = dict(dict(payload.PayloadContent)['dev.cordon.agent']).Forced as unknown[];
  return dict(dict(forced[0]).mcx_preference_settings);
}

describe('macOS artifacts', () => {
  it('the settings profile parses and holds every key once, with its default', async () => {
    const profile = await plistDocument('native-config/macos/dev.cordon.agent.mobileconfig');
    assert.equal(profile.PayloadType, 'Configuration');
    assert.equal(profile.PayloadScope, 'System');
    const settings = mcxSettings(profile);
    const defaults = dict(settings[MANAGED_DEFAULTS_KEY]);
    for (const key of SETTING_KEYS) {
      const inTop = Object.hasOwn(settings, key);
      const inDefaults = Object.hasOwn(defaults, key);
      assert.ok(inTop !== inDefaults, `${key} must be either enforced or under Defaults, not both or neither`);
      assert.deepEqual(inTop ? settings[key] : defaults[key], settingSchema(key).default, key);
    }
    const description = String(dict((profile.PayloadContent as unknown[])[0]).PayloadDescription);
    for (const key of SETTING_KEYS) assert.ok(description.includes(`${key}: `), `PayloadDescription documents ${key}`);
  });

  it('payload UUIDs and identifiers are well formed and distinct across both profiles', async () => {
    const uuids: string[] = [];
    const identifiers: string[] = [];
    for (const file of ['dev.cordon.agent.mobileconfig', 'dev.cordon.agent.login-items.mobileconfig']) {
      const profile = await plistDocument(`native-config/macos/${file}`);
      for (const item of [profile, ...(profile.PayloadContent as Dict[])]) {
        assert.match(String(item.PayloadUUID), /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
        uuids.push(String(item.PayloadUUID));
        identifiers.push(String(item.PayloadIdentifier));
        assert.equal(item.PayloadVersion, 1);
      }
    }
    assert.equal(new Set(uuids).size, uuids.length);
    assert.equal(new Set(identifiers).size, identifiers.length);
  });

  it('the login-items profile keeps the LaunchAgent label and the app enabled', async () => {
    const profile = await plistDocument('native-config/macos/dev.cordon.agent.login-items.mobileconfig');
    const payload = dict((profile.PayloadContent as unknown[])[0]);
    assert.equal(payload.PayloadType, 'com.apple.servicemanagement');
    const rules = (payload.Rules as Dict[]).map((r) => `${String(r.RuleType)}=${String(r.RuleValue)}`);
    assert.deepEqual(rules, [`Label=${LAUNCH_AGENT_LABEL}`, 'BundleIdentifier=dev.cordon.agent']);
  });

  it('the LaunchAgent starts cordon daemon at load and restarts it after a failure', async () => {
    const agent = await plistDocument(`native-config/macos/${LAUNCH_AGENT_LABEL}.plist`);
    assert.equal(agent.Label, LAUNCH_AGENT_LABEL);
    assert.equal((agent.ProgramArguments as string[]).at(-1), 'daemon');
    assert.ok((agent.ProgramArguments as string[]).slice(0, 2).every((p) => p.startsWith('/')));
    assert.equal(agent.RunAtLoad, true);
    assert.deepEqual(agent.KeepAlive, { SuccessfulExit: false });
  });
});

describe('Windows artifacts', () => {
  it('ADMX, ADML and the task XML are well-formed XML; the task XML is UTF-16LE with a BOM', async () => {
    for (const path of ['native-config/windows/Cordon.admx', 'native-config/windows/en-US/Cordon.adml']) {
      assert.equal(XMLValidator.validate(await text(path)), true, path);
    }
    const task = await repoFile('native-config/windows/cordon-daemon.task.xml');
    assert.deepEqual([task[0], task[1]], [0xff, 0xfe]);
    const decoded = decodeUtf16le(task);
    assert.equal(XMLValidator.validate(decoded), true);
    const parsed = dict(xml.parse(decoded));
    const settings = dict(dict(parsed.Task).Settings);
    assert.deepEqual(settings.RestartOnFailure, { Interval: 'PT1M', Count: 999 });
    assert.ok(dict(dict(parsed.Task).Triggers).LogonTrigger !== undefined);
    assert.equal(dict(dict(dict(parsed.Task).Actions).Exec).Arguments, '"C:\\Program Files\\Cordon\\app\\bin\\cordon.js" daemon');
  });

  it('every ADMX string and presentation reference has its ADML entry, and every ADML entry is used', async () => {
    const admx = await text('native-config/windows/Cordon.admx');
    const adml = dict(dict(xml.parse(await text('native-config/windows/en-US/Cordon.adml'))).policyDefinitionResources);
    const resources = dict(adml.resources);
    const stringIds = (dict(resources.stringTable).string as Dict[]).map((s) => String(s['@_id']));
    const presentations = dict(resources.presentationTable).presentation as Dict[];
    const presentationIds = presentations.map((p) => String(p['@_id']));
    assert.equal(new Set(stringIds).size, stringIds.length, 'ADML string ids are unique');
    assert.equal(new Set(presentationIds).size, presentationIds.length, 'ADML presentation ids are unique');
    const refs = (kind: string): string[] => [...new Set([...admx.matchAll(new RegExp(`\\$\\(${kind}\\.([^)]+)\\)`, 'g'))].map((m) => m[1] ?? ''))];
    assert.deepEqual(refs('string').sort(), [...stringIds].sort());
    assert.deepEqual(refs('presentation').sort(), [...presentationIds].sort());
  });

  it('each presentation control refers to an element of its policy, and each element has a control', async () => {
    const admx = dict(dict(xml.parse(await text('native-config/windows/Cordon.admx'))).policyDefinitions);
    const adml = dict(dict(xml.parse(await text('native-config/windows/en-US/Cordon.adml'))).policyDefinitionResources);
    const presentations = new Map((dict(dict(adml.resources).presentationTable).presentation as Dict[]).map((p) => [String(p['@_id']), p]));
    const policies = dict(admx.policies).policy as Dict[];
    assert.equal(new Set(policies.map((p) => p['@_name'])).size, policies.length, 'policy names are unique');
    for (const policy of policies) {
      const ref = /^\$\(presentation\.(.+)\)$/.exec(String(policy['@_presentation'] ?? ''))?.[1];
      const elements = policy.elements === undefined ? [] : Object.values(dict(policy.elements)).map((e) => String(dict(e)['@_id']));
      if (ref === undefined) {
        assert.deepEqual(elements, [], `${String(policy['@_name'])} has elements but no presentation`);
        assert.ok(policy.enabledValue && policy.disabledValue, `${String(policy['@_name'])} writes nothing`);
        continue;
      }
      const presentation = presentations.get(ref);
      assert.ok(presentation, `presentation ${ref}`);
      const refIds = Object.entries(presentation)
        .filter(([k]) => !k.startsWith('@_'))
        .map(([, control]) => String(dict(control)['@_refId']));
      assert.deepEqual(refIds, elements, `${String(policy['@_name'])}: controls match elements`);
    }
  });

  it('every key has an enforced policy and a Defaults policy writing a value of its name', async () => {
    const admx = dict(dict(xml.parse(await text('native-config/windows/Cordon.admx'))).policyDefinitions);
    const policies = new Map((dict(admx.policies).policy as Dict[]).map((p) => [String(p['@_name']), p]));
    for (const key of SETTING_KEYS) {
      for (const [name, regKey] of [
        [key, 'Software\\Policies\\Cordon'],
        [`${key}_Defaults`, 'Software\\Policies\\Cordon\\Defaults'],
      ] as const) {
        const policy = policies.get(name);
        assert.ok(policy, `policy ${name}`);
        assert.equal(policy['@_key'], regKey, name);
        assert.equal(policy['@_class'], 'Machine');
        const element = policy.elements === undefined ? undefined : dict(Object.values(dict(policy.elements))[0]);
        const writes = element ? (element['@_valueName'] ?? String(element['@_key']).split('\\').at(-1)) : policy['@_valueName'];
        assert.equal(writes, key, name);
      }
    }
  });
});

describe('Linux artifacts', () => {
  it('managed.json is valid against MANAGED_SETTINGS_SCHEMA and holds every key once', async () => {
    const doc = dict(JSON.parse(await text('native-config/linux/managed.json')));
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    const validate = ajv.compile(MANAGED_SETTINGS_SCHEMA);
    assert.ok(validate(doc), JSON.stringify(validate.errors));
    const defaults = dict(doc[MANAGED_DEFAULTS_KEY]);
    for (const key of SETTING_KEYS) assert.ok(Object.hasOwn(doc, key) !== Object.hasOwn(defaults, key), key);
  });

  it('managed.schema.json is the managed schema', async () => {
    assert.deepEqual(JSON.parse(await text('native-config/linux/managed.schema.json')), JSON.parse(JSON.stringify(MANAGED_SETTINGS_SCHEMA)));
  });

  it('the user unit restarts on failure and passes systemd-analyze verify where available', async () => {
    const unit = await text(`native-config/linux/${SYSTEMD_UNIT_NAME}`);
    for (const line of ['[Unit]', '[Service]', '[Install]', 'Restart=on-failure', 'RestartSec=5', 'WantedBy=default.target']) {
      assert.ok(unit.split('\n').includes(line), line);
    }
    assert.match(unit, /^ExecStart=\/\S+ \/\S+ daemon$/m);
    const analyze = await run('systemd-analyze', ['--version']).then(() => true, () => false);
    if (!analyze) return;
    const dir = await tempDir();
    try {
      const file = join(dir.root, SYSTEMD_UNIT_NAME);
      await writeFile(file, systemdUserUnit({ nodePath: process.execPath, cordonPath: join(REPO, 'bin', 'cordon.js') }));
      const { stderr } = await run('systemd-analyze', ['verify', file]);
      // Only what it says about this unit counts: a host may have unrelated units it warns about.
      assert.deepEqual(stderr.split('\n').filter((line) => line.includes(SYSTEMD_UNIT_NAME)), []);
    } finally {
      await dir.cleanup();
    }
  });

  it('the maintainer scripts are valid sh, enable on first install only, and disable on removal', async () => {
    const dir = await tempDir();
    try {
      const bin = join(dir.root, 'bin');
      const log = join(dir.root, 'systemctl.log');
      await mkdir(bin);
      await writeFile(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> "${log}"\n`);
      await chmod(join(bin, 'systemctl'), 0o755);
      const env = { PATH: `${bin}:/usr/bin:/bin` };
      const script = (name: string): string => join(REPO, 'native-config', 'linux', name);
      for (const name of ['postinst', 'prerm', 'postrm']) await run('sh', ['-n', script(name)]);
      const calls = async (name: string, ...args: string[]): Promise<string> => {
        await writeFile(log, '');
        await run('sh', [script(name), ...args], { env });
        return (await readFile(log, 'utf8')).trim();
      };
      const enable = `--global enable ${SYSTEMD_UNIT_NAME}`;
      assert.equal(await calls('postinst', 'configure'), enable);
      assert.equal(await calls('postinst', 'configure', '0.1.0'), '', 'a deb upgrade keeps the admin choice');
      assert.equal(await calls('postinst', '1'), enable);
      assert.equal(await calls('postinst', '2'), '', 'an rpm upgrade keeps the admin choice');
      assert.equal(await calls('prerm', 'remove'), `--global disable ${SYSTEMD_UNIT_NAME}`);
      assert.equal(await calls('prerm', '0'), `--global disable ${SYSTEMD_UNIT_NAME}`);
      assert.equal(await calls('prerm', 'upgrade', '0.2.0'), '');
      for (const name of ['postinst', 'prerm', 'postrm']) assert.doesNotMatch(await text(`native-config/linux/${name}`), /^[^#]*\/etc\/cordon/m, `${name} never touches /etc/cordon`);
    } finally {
      await dir.cleanup();
    }
  });
});

describe('every schema key is documented in every settings artifact', () => {
  it('READMEs, the schema file and the IT deployment guide name every key', async () => {
    const files = ['native-config/macos/README.md', 'native-config/windows/README.md', 'native-config/linux/README.md', 'native-config/linux/managed.schema.json', 'docs/it-deployment.md'];
    for (const path of files) {
      const content = await text(path);
      for (const key of SETTING_KEYS) assert.ok(content.includes(`\`${key}\``) || content.includes(`"${key}"`), `${path} documents ${key}`);
    }
    const adml = await text('native-config/windows/en-US/Cordon.adml');
    for (const key of SETTING_KEYS) assert.ok(adml.includes(`<string id="${key}">`) && adml.includes(`<string id="${key}_Defaults_Explain">`), `ADML has strings for ${key}`);
  });
});

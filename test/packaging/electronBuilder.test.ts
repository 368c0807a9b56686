import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse as parsePlist } from 'plist';
import { parse } from 'yaml';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const schema = JSON.parse(readFileSync(join(repo, 'node_modules', 'app-builder-lib', 'scheme.json'), 'utf8')) as object;
const config = parse(readFileSync(join(repo, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;

type Target = { target: string; arch?: string[] };
const targets = (platform: string): string[] => ((config[platform] as { target: Target[] }).target ?? []).map((t) => t.target);

function validator(): (doc: unknown) => { ok: boolean; errors: string } {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  return (doc) => ({ ok: validate(doc) as boolean, errors: ajv.errorsText(validate.errors) });
}

test("electron-builder.yml is valid against electron-builder's own JSON schema", () => {
  const check = validator();
  const result = check(config);
  assert.equal(result.ok, true, result.errors);
  // The schema really checks: a misspelt key and a wrong type are rejected.
  assert.equal(check({ ...config, hardenedRuntim: true }).ok, false);
  assert.equal(check({ ...config, mac: { ...(config.mac as object), hardenedRuntime: 'yes' } }).ok, false);
});

test('macOS: dmg and pkg, hardened runtime with entitlements, notarize afterSign hook', () => {
  assert.deepEqual(targets('mac').sort(), ['dmg', 'pkg']);
  const mac = config.mac as Record<string, unknown>;
  assert.equal(mac.hardenedRuntime, true);
  assert.equal(mac.entitlements, 'build/entitlements.mac.plist');
  const entitlements = parsePlist(readFileSync(join(repo, 'build', 'entitlements.mac.plist'), 'utf8')) as Record<string, unknown>;
  assert.equal(entitlements['com.apple.security.cs.allow-jit'], true);
  for (const risky of ['com.apple.security.cs.disable-library-validation', 'com.apple.security.cs.allow-dyld-environment-variables', 'com.apple.security.get-task-allow']) {
    assert.equal(entitlements[risky], undefined, risky);
  }
  assert.equal(config.afterSign, 'build/notarize.cjs');
  assert.ok(existsSync(join(repo, 'build', 'notarize.cjs')));
});

test('Windows: nsis and a per-machine msi; Linux: deb, rpm and AppImage', () => {
  assert.deepEqual(targets('win').sort(), ['msi', 'nsis']);
  assert.equal((config.msi as Record<string, unknown>).perMachine, true);
  assert.equal((config.nsis as Record<string, unknown>).perMachine, true);
  assert.deepEqual(targets('linux').sort(), ['AppImage', 'deb', 'rpm']);
});

test('native modules are unpacked from the asar and every referenced file exists', () => {
  const unpack = config.asarUnpack as string[];
  assert.ok(unpack.some((p) => p.includes('better-sqlite3')));
  assert.ok(unpack.some((p) => p.includes('@napi-rs/keyring')));
  assert.ok(unpack.includes('**/*.node'));
  for (const file of ['build/icon.png', 'build/afterPack.cjs', 'build/notarize.cjs', 'build/entitlements.mac.plist', 'build/tray/tray-protected.png']) {
    assert.ok(existsSync(join(repo, file)), file);
  }
  assert.equal((config.extraMetadata as Record<string, unknown>).main, 'dist/electron/main/index.js');
});

test('the afterPack hook turns RunAsNode, NODE_OPTIONS and inspect off in a binary carrying a fuse wire', async (t) => {
  assert.equal(config.afterPack, 'build/afterPack.cjs');
  const hook = require(join(repo, 'build', 'afterPack.cjs')) as {
    (context: unknown): Promise<void>;
    FUSES: Record<string, boolean>;
  };
  assert.equal(hook.FUSES.RunAsNode, false);
  assert.equal(hook.FUSES.EnableNodeOptionsEnvironmentVariable, false);
  assert.equal(hook.FUSES.EnableNodeCliInspectArguments, false);
  assert.equal(hook.FUSES.EnableEmbeddedAsarIntegrityValidation, true);
  // A stand-in Linux "Electron binary": junk, the fuse sentinel, wire version 1, 9 fuses all enabled ('1').
  const fuses = await import('@electron/fuses');
  const dir = mkdtempSync(join(tmpdir(), 'cordon-fuses-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const binary = join(dir, 'cordon');
  writeFileSync(binary, Buffer.concat([Buffer.alloc(1000, 7), Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'), Buffer.from([1, 9]), Buffer.from('111111111'), Buffer.alloc(100, 7)]));
  await hook({ appOutDir: dir, electronPlatformName: 'linux', packager: { appInfo: { productFilename: 'Cordon' }, executableName: 'cordon' } });
  const wire = await fuses.getCurrentFuseWire(binary);
  const O = fuses.FuseV1Options;
  const ENABLE = 49;
  const DISABLE = 48;
  assert.equal(wire[O.RunAsNode], DISABLE);
  assert.equal(wire[O.EnableNodeOptionsEnvironmentVariable], DISABLE);
  assert.equal(wire[O.EnableNodeCliInspectArguments], DISABLE);
  assert.equal(wire[O.EnableCookieEncryption], ENABLE);
  assert.equal(wire[O.EnableEmbeddedAsarIntegrityValidation], ENABLE);
  assert.equal(wire[O.OnlyLoadAppFromAsar], ENABLE);
});

test('the notarize hook skips without credentials and never needs them in the repository', async () => {
  const hook = require(join(repo, 'build', 'notarize.cjs')) as { (context: unknown): Promise<void>; notarizeCredentials(env: NodeJS.ProcessEnv): unknown };
  assert.equal(hook.notarizeCredentials({}), null);
  assert.deepEqual(hook.notarizeCredentials({ APPLE_KEYCHAIN_PROFILE: 'cordon' }), { keychainProfile: 'cordon' });
  assert.equal(hook.notarizeCredentials({ APPLE_ID: 'a@b.c' }), null);
  // Non-macOS builds are a no-op.
  await hook({ electronPlatformName: 'linux', appOutDir: '/nonexistent', packager: { appInfo: { productFilename: 'Cordon' } } });
});

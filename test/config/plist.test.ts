// The plist fixtures were written by Python's plistlib (an independent implementation), one XML and
// one binary, from the same dictionary:
//   plistlib.dump(doc, f, fmt=plistlib.FMT_XML) / fmt=plistlib.FMT_BINARY
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseSettingsPlist, plistValueToJson, readManagedPlistFile, readMacosManaged } from '../../app/config/managed/darwin.ts';
import { managedDocumentToLayers } from '../../app/config/layers.ts';
import { binaryPlistProblem } from '../../app/config/managed/plistGuard.ts';
import { loadSettings } from '../../app/config/settings.ts';
import type { Layer } from '../../app/config/layers.ts';
import { tempHome } from './helpers.ts';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

const EXPECTED = {
  fleetServerUrl: 'https://fleet.example.com',
  mode: 'enforce',
  allowPause: false,
  syncIntervalSeconds: 600,
  tlsInspectionHosts: ['api.openai.com', '*.anthropic.com'],
  lockedPolicy: { rules: [{ match: 'mcp:*', action: 'deny' }] },
};

function values(layer: Layer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of layer) out[key] = 'value' in entry ? entry.value : { error: entry.error };
  return out;
}

/** A binary plist of `objects` (already encoded, 1-byte refs and offsets) with object 0 on top. */
function bplist(objects: number[][]): Uint8Array {
  const body: number[] = [...Buffer.from('bplist00')];
  const offsets: number[] = [];
  for (const o of objects) {
    offsets.push(body.length);
    body.push(...o);
  }
  const table = body.length;
  body.push(...offsets);
  const trailer = Buffer.alloc(32);
  trailer[6] = 1;
  trailer[7] = 1;
  trailer.writeBigUInt64BE(BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(0n, 16);
  trailer.writeBigUInt64BE(BigInt(table), 24);
  return Uint8Array.from([...body, ...trailer]);
}

describe('macOS managed-preferences plists', () => {
  it('reads the XML and the binary fixture to the same settings', async () => {
    for (const name of ['managed.xml.plist', 'managed.binary.plist']) {
      const read = await readManagedPlistFile(fixture(name), false);
      assert.deepEqual(read.layers.problems, [], name);
      assert.deepEqual(values(read.layers.enforced), EXPECTED, name);
      assert.deepEqual(values(read.layers.defaults), { logLevel: 'debug', proxyPort: 9100 }, name);
      assert.equal(read.layers.defaults.get('logLevel')?.label, 'Defaults.logLevel');
    }
  });

  it('applies a plist through CORDON_MANAGED_SETTINGS end to end', async () => {
    const home = await tempHome();
    try {
      const env = { ...home.env, CORDON_MANAGED_SETTINGS: fixture('managed.binary.plist') };
      await home.writeUser(JSON.stringify({ mode: 'monitor', logLevel: 'warn' }));
      const report = await loadSettings({ ...home.options, env });
      assert.equal(report.effective.mode, 'enforce');
      assert.equal(report.effective.logLevel, 'warn');
      assert.equal(report.effective.proxyPort, 9100);
      assert.deepEqual(report.effective.lockedPolicy, EXPECTED.lockedPolicy);
      assert.equal(report.entries.find((e) => e.key === 'syncIntervalSeconds')?.file, fixture('managed.binary.plist'));
    } finally {
      await home.cleanup();
    }
  });

  it('merges device and user-level plists, the device one winning per key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cordon-plist-'));
    try {
      const device = join(dir, 'device.plist');
      const user = join(dir, 'user.plist');
      const dict = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>${body}</dict></plist>\n`;
      await writeFile(device, dict('<key>mode</key><string>enforce</string>'));
      await writeFile(user, dict('<key>mode</key><string>monitor</string><key>logLevel</key><string>error</string>'));
      const read = await readMacosManaged([device, user], false);
      assert.deepEqual(values(read.layers.enforced), { mode: 'enforce', logLevel: 'error' });
      assert.equal(read.layers.enforced.get('mode')?.file, device);
      assert.equal(read.present, true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports plist dates and data blobs per key and keeps the other keys', () => {
    const xml = `<?xml version="1.0"?><plist version="1.0"><dict>
      <key>mode</key><string>enforce</string>
      <key>fleetServerUrl</key><date>2024-01-01T00:00:00Z</date>
      <key>enrollSecret</key><data>c2VjcmV0</data>
    </dict></plist>`;
    const parsed = parseSettingsPlist(Buffer.from(xml));
    assert.ok(parsed.ok);
    const layers = managedDocumentToLayers(parsed.value, 'm.plist', (v) => plistValueToJson(v));
    assert.deepEqual(values(layers.enforced), {
      mode: 'enforce',
      fleetServerUrl: { error: 'plist <date> values are not supported: use a string' },
      enrollSecret: { error: 'plist <data> values are not supported: use a string' },
    });
    assert.deepEqual(plistValueToJson({ a: [1, { b: true }] }), { value: { a: [1, { b: true }] } });
    assert.deepEqual(plistValueToJson([new Date(0)]), { error: 'plist <date> values are not supported: use a string' });
  });

  it('reports malformed XML by location only, without writing to the console', async () => {
    const seen: unknown[] = [];
    const original = console.error;
    const mine = (...args: unknown[]): void => {
      seen.push(args);
    };
    console.error = mine;
    try {
      const leaky = Buffer.from('<plist><dict><key>enrollSecret</key><string>abc&SECRETPART;def</string></dict></plist>');
      const bad = parseSettingsPlist(leaky);
      assert.equal(bad.ok, false);
      assert.ok(!bad.ok && /^malformed XML plist at line 1, column \d+$/.test(bad.message), !bad.ok ? bad.message : '');
      assert.ok(!bad.ok && !bad.message.includes('SECRETPART'));
      const mismatched = parseSettingsPlist(Buffer.from('<plist><dict><key>a</key><string>x</strin></dict></plist>'));
      assert.equal(mismatched.ok, false);
      assert.deepEqual(seen, []);
      assert.equal(console.error, mine, 'console.error is restored');
    } finally {
      console.error = original;
    }
  });

  it('converts and reports unsupported values per key from a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cordon-plist-'));
    try {
      const file = join(dir, 'm.plist');
      await writeFile(
        file,
        `<?xml version="1.0"?><plist version="1.0"><dict><key>mode</key><string>enforce</string><key>fleetServerUrl</key><date>2024-01-01T00:00:00Z</date></dict></plist>`,
      );
      const read = await readManagedPlistFile(file, false);
      assert.deepEqual(values(read.layers.enforced), { mode: 'enforce', fleetServerUrl: { error: 'plist <date> values are not supported: use a string' } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses hostile binary plists before parsing: cycles, exponential sharing, bad offsets', () => {
    // Two arrays holding each other.
    const cycle = bplist([
      [0xa1, 1],
      [0xa1, 0],
    ]);
    assert.match(binaryPlistProblem(cycle) ?? '', /cycle/);
    assert.deepEqual(parseSettingsPlist(cycle), { ok: false, message: 'binary plist has a reference cycle' });

    // 40 arrays each holding the next one twice: 2^40 values once expanded, 400 bytes on disk.
    const objects: number[][] = [];
    for (let i = 0; i < 40; i++) objects.push([0xa2, i + 1, i + 1]);
    objects.push([0x10, 7]);
    const started = Date.now();
    assert.match(binaryPlistProblem(bplist(objects)) ?? '', /expands to more than/);
    assert.ok(Date.now() - started < 1000);

    const good = bplist([[0xa2, 1, 2], [0x10, 1], [0x51, 0x61]]);
    assert.equal(binaryPlistProblem(good), null);
    assert.deepEqual(parseSettingsPlist(good), { ok: true, value: [1, 'a'] });

    const truncated = good.subarray(0, 20);
    assert.equal(parseSettingsPlist(truncated).ok, false);
    const badRef = bplist([[0xa1, 9]]);
    assert.match(binaryPlistProblem(badRef) ?? '', /out of range/);
  });

  it('checks the real binary fixture passes the guard', async () => {
    assert.equal(binaryPlistProblem(new Uint8Array(await readFile(fixture('managed.binary.plist')))), null);
  });
});

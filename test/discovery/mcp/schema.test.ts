// The published inventory JSON Schema (app/api/inventorySchema.ts) against real scan() output of
// the every-client fixture home, and against inventories broken on purpose (it must reject them).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Inventory } from '../../../app/api/inventory.ts';
import { inventoryJsonSchema } from '../../../app/api/inventorySchema.ts';
import { scan } from '../../../app/discovery/scan.ts';
import { makeTempDir, removeTempDir } from '../../fixtures/homes/fs.ts';
import { buildMcpHome } from '../../fixtures/homes/mcp.ts';

let root: string;
let inventory: Inventory;
// Formats (date-time) are documentation here; scannedAt is checked separately below.
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(inventoryJsonSchema);

before(async () => {
  root = await makeTempDir('cordon-mcp-schema-');
  const fixture = await buildMcpHome(root, 'linux');
  inventory = await scan({ home: fixture.home, env: fixture.env, platform: 'linux', projectRoots: fixture.projectRoots, includeSystem: false });
});
after(async () => removeTempDir(root));

describe('inventory JSON Schema', () => {
  test('has the published $id and draft 2020-12', () => {
    assert.equal(inventoryJsonSchema.$id, 'https://cordon.dev/schemas/inventory-v1.json');
    assert.equal(inventoryJsonSchema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  });

  test('real scan output of the every-client fixture home validates', () => {
    assert.ok(inventory.mcpServers.length > 50, 'the scan found the fixture servers');
    const plain: unknown = JSON.parse(JSON.stringify(inventory));
    assert.equal(validate(plain), true, JSON.stringify(validate.errors, null, 2));
    assert.ok(!Number.isNaN(Date.parse(inventory.scannedAt)));
  });

  test('scan output with errors (a hostile file) validates too', () => {
    const withError = { ...inventory, errors: [{ path: '/h/.cursor/mcp.json', category: 'parse', message: 'JSON syntax error', client: 'cursor', entry: 'x' }] };
    assert.equal(validate(JSON.parse(JSON.stringify(withError))), true, JSON.stringify(validate.errors));
  });

  const broken: readonly (readonly [string, (inv: Record<string, unknown>) => void])[] = [
    ['an unknown top-level field', (inv) => void (inv.extra = 1)],
    ['a wrong schemaVersion', (inv) => void (inv.schemaVersion = 2)],
    ['a missing stats block', (inv) => void delete inv.stats],
    ['an unknown transport', (inv) => void ((inv.mcpServers as Record<string, unknown>[])[0]!.transport = 'carrier-pigeon')],
    ['an unknown scope', (inv) => void ((inv.mcpServers as Record<string, unknown>[])[0]!.scope = 'global')],
    ['a server without envNames', (inv) => void delete (inv.mcpServers as Record<string, unknown>[])[0]!.envNames],
    ['a secret value field on a server', (inv) => void ((inv.mcpServers as Record<string, unknown>[])[0]!.env = { TOKEN: 'x' })],
    ['an unknown error category', (inv) => void (inv.errors = [{ path: '/x', category: 'oops', message: 'm' }])],
    ['a finding with posture "none"', (inv) => void (((inv.mcpServers as Record<string, Record<string, unknown>>[])[0]!.credential!).findings = [{ location: 'env', name: 'A', posture: 'none', kind: 'x' }])],
  ];
  for (const [title, breakIt] of broken) {
    test(`rejects ${title}`, () => {
      const copy = JSON.parse(JSON.stringify(inventory)) as Record<string, unknown>;
      breakIt(copy);
      assert.equal(validate(copy), false);
    });
  }
});

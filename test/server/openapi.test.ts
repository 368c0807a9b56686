/**
 * docs/sync-openapi.yaml documents exactly the routes the server serves (no more, no fewer), and
 * parses as OpenAPI 3.1.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { consoleRoutes } from '../../server/admin/consoleRoutes.ts';
import { adminRoutes } from '../../server/admin/routes.ts';
import { sessionRoutes } from '../../server/auth/consoleAuth.ts';
import { syncRoutes } from '../../server/sync/routes.ts';

test('every served route is in the OpenAPI document, and every documented one is served', () => {
  const doc = parse(readFileSync(new URL('../../docs/sync-openapi.yaml', import.meta.url), 'utf8')) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.equal(doc.openapi, '3.1.0');
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m)).map((m) => `${m.toUpperCase()} ${path}`));
  // The route tables only reference their dependencies inside handlers, so placeholders do here.
  const served = [...syncRoutes({} as never), ...adminRoutes({} as never, {} as never), ...consoleRoutes({} as never, {} as never, ''), ...sessionRoutes({} as never), { method: 'GET', path: '/healthz' }].map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
  assert.deepEqual([...documented].sort(), [...served].sort());
});

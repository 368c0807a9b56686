/**
 * Several server processes on one database (behind one public URL): a nonce issued by one is
 * accepted by another, a proof accepted by one is a replay for the other, and the same batch sent
 * to both at once is stored once with one cursor. Each "process" has its own store connection.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventBatchAck } from '../../app/api/sync.ts';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { silentLogger } from '../../app/util/log.ts';
import { createFleetServer, type FleetServer } from '../../server/app.ts';
import { openFleetStore, type FleetStore } from '../../server/store/fleetStore.ts';
import { decisionInput, tempDb } from '../audit/fixtures.ts';
import { backendMatrix, enrollTestDevice, rawRequest, type TestServer } from './helpers.ts';

const PUBLIC = 'http://fleet.example.test';

for (const { backend, skip, fresh } of backendMatrix()) {
  describe(`two server processes on one database (${backend})`, { skip }, () => {
    test('nonces, replay protection and cursors are shared', async () => {
      const { location, cleanup } = await fresh();
      const stores: FleetStore[] = [];
      const servers: FleetServer[] = [];
      const urls: string[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const store = await openFleetStore(location);
          const fleet = createFleetServer({ store, log: silentLogger, publicUrl: PUBLIC });
          stores.push(store);
          servers.push(fleet);
          urls.push(await fleet.listen(0));
        }
        const [a, b] = stores as [FleetStore, FleetStore];
        const { secret } = await a.credentials.createEnrollSecret({}, Date.now());
        const { token: adminToken } = await a.credentials.createAdminToken(null, Date.now());
        // Enroll through A; the test device signs for the public URL while talking to A's port.
        const viaA: TestServer = { url: urls[0] ?? '', store: a, fleet: servers[0] as FleetServer, adminToken, enrollSecret: secret, close: async () => undefined };
        const device = await enrollOnPublic(viaA);
        const nonce = device.nonce();
        assert.ok(nonce, 'A issued a nonce during enrollment');

        const policyUrl = `${PUBLIC}/v1/policy`;
        const toB = await rawRequest(`${urls[1]}/v1/policy`, 'GET', { authorization: `DPoP ${device.token}`, dpop: device.proof('GET', policyUrl) });
        assert.equal(toB.status, 200, `B accepts A's nonce: ${toB.text}`);

        const proof = device.proof('GET', policyUrl);
        assert.equal((await rawRequest(`${urls[0]}/v1/policy`, 'GET', { authorization: `DPoP ${device.token}`, dpop: proof })).status, 200);
        const replayed = await rawRequest(`${urls[1]}/v1/policy`, 'GET', { authorization: `DPoP ${device.token}`, dpop: proof });
        assert.equal(replayed.status, 401);
        assert.match(String(replayed.body?.message), /replay/);

        // The same batch to both processes at once: stored once, one cursor.
        const local = tempDb();
        try {
          const events = createAuditLog(local.db, { headFile: null }).appendBatch(Array.from({ length: 200 }, () => decisionInput()));
          const body = JSON.stringify({ after: 0, events });
          const send = (url: string) => rawRequest(`${url}/v1/events`, 'POST', { authorization: `DPoP ${device.token}`, dpop: device.proof('POST', `${PUBLIC}/v1/events`), 'content-type': 'application/json' }, body);
          const [ra, rb] = await Promise.all([send(urls[0] ?? ''), send(urls[1] ?? '')]);
          assert.equal(ra.status, 200, ra.text);
          assert.equal(rb.status, 200, rb.text);
          const acks = [ra.body, rb.body] as unknown as EventBatchAck[];
          assert.deepEqual(acks.map((x) => x.cursor), [200, 200]);
          assert.equal(acks.reduce((n, x) => n + x.stored, 0), 200, 'together they stored each event once');
          const count = await b.driver.get<{ n: number }>('SELECT count(*) AS n FROM events');
          assert.equal(count?.n, 200);
        } finally {
          local.cleanup();
        }
      } finally {
        for (const s of servers) await s.close();
        for (const s of stores) await s.close();
        cleanup();
      }
    });
  });
}

/** enrollTestDevice, but with htu on the public URL the servers are configured with. */
async function enrollOnPublic(server: TestServer) {
  const port = new URL(server.url).port;
  // Route the public host to this port: fetch goes to the real port, the proof names PUBLIC.
  const rewrite = (url: string): string => url.replace(PUBLIC, `http://127.0.0.1:${port}`);
  const original = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => original(rewrite(String(input)), init)) as typeof fetch;
  try {
    return await enrollTestDevice({ ...server, url: PUBLIC });
  } finally {
    globalThis.fetch = original;
  }
}

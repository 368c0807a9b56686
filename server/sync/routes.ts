/**
 * The device side of the sync protocol (/v1/): enrollment, audit event batches, inventory
 * snapshots and deltas, policy with ETags, server time and re-keying. Every handler validates
 * its whole input before touching the store; answers are SyncErrorBody on failure.
 */
import type { DestinationContext, DeviceInfo, EnrollResponse, EventBatchAck, InventoryAck, PolicyResponse, RekeyResponse, ServerTime } from '../../app/api/sync.ts';
import { CONTEXT_DAYS, REKEY_HEADER, SYNC_LIMITS, SYNC_PROTOCOL_VERSION } from '../../app/api/sync.ts';
import { accessTokenHash } from '../../app/identity/dpop/proof.ts';
import type { DpopVerifier } from '../../app/identity/dpop/verify.ts';
import { readJsonBody } from '../http/body.ts';
import type { AuthenticatedDevice, DeviceAuthenticator } from '../http/deviceAuth.ts';
import { HttpError, sendEmpty, sendJson, type Headers } from '../http/respond.ts';
import type { RequestContext, Route } from '../http/router.ts';
import type { FleetStore } from '../store/fleetStore.ts';
import { checkEventBatch } from './eventBatch.ts';
import { FieldChecker, isObject } from './fields.ts';
import { checkInventoryUpload } from './inventoryUpload.ts';

const SMALL_BODY = 64 * 1024;

export type SyncRouteOptions = Readonly<{
  store: FleetStore;
  auth: DeviceAuthenticator;
  /** Verifies the new key's proof on re-key (shares the replay cache; no nonce: the key is new). */
  rekeyVerifier: DpopVerifier;
}>;

export function syncRoutes({ store, auth, rekeyVerifier }: SyncRouteOptions): Route[] {
  /** Authenticates, then runs fn; adds the re-key hint to whatever fn answers. */
  const device = (fn: (ctx: RequestContext, who: AuthenticatedDevice, headers: Headers) => Promise<void>) => async (ctx: RequestContext): Promise<void> => {
    const who = await auth.authenticate(ctx.req, ctx.publicUrl);
    await store.devices.touch(who.device, ctx.now);
    await fn(ctx, who, who.device.rekeyRequested ? { [REKEY_HEADER]: 'requested' } : {});
  };

  return [
    {
      method: 'GET',
      path: '/v1/time',
      async handler(ctx) {
        const body: ServerTime = { time: new Date(ctx.now).toISOString(), epochMs: ctx.now, protocolVersion: SYNC_PROTOCOL_VERSION };
        sendJson(ctx.res, 200, body);
      },
    },
    {
      method: 'POST',
      path: '/v1/enroll',
      async handler(ctx) {
        const body = await readJsonBody(ctx.req, SMALL_BODY);
        const { secret, info } = checkEnrollBody(body);
        // The secret is checked before the proof, so a request without one never makes the
        // server issue (and store) a nonce.
        const check = await store.credentials.checkEnrollSecret(secret, ctx.now);
        if (!check.ok) {
          ctx.log.warn('enrollment refused', { reason: check.reason, hostname: info.hostname });
          throw new HttpError(401, 'enroll_refused', 'the enroll secret is not valid (unknown, revoked, expired or used up)');
        }
        const proof = await auth.verifyProofOnly(ctx.req, ctx.publicUrl);
        const outcome = await store.devices.enroll({ secretId: check.id, jkt: proof.jkt, info, now: ctx.now });
        if (!outcome.ok) throw new HttpError(401, 'enroll_refused', 'the enroll secret is not valid (unknown, revoked, expired or used up)');
        ctx.log.info('device enrolled', { deviceId: outcome.deviceId, hostname: info.hostname, secretId: check.id });
        const response: EnrollResponse = {
          deviceId: outcome.deviceId, accessToken: outcome.accessToken, tokenType: 'DPoP', keyThumbprint: proof.jkt,
          serverTime: new Date(ctx.now).toISOString(), protocolVersion: SYNC_PROTOCOL_VERSION,
        };
        sendJson(ctx.res, 201, response);
      },
    },
    {
      method: 'POST',
      path: '/v1/events',
      handler: device(async (ctx, who, headers) => {
        const body = await readJsonBody(ctx.req, SYNC_LIMITS.maxBodyBytes);
        const batch = checkEventBatch(body);
        if (!batch.ok) throw new HttpError(422, 'invalid_batch', 'the batch was refused; nothing was stored', { problems: batch.problems, headers });
        const ack: EventBatchAck = await store.events.ingest(who.device.id, batch.after, batch.events, ctx.now);
        sendJson(ctx.res, 200, ack, headers);
      }),
    },
    {
      method: 'POST',
      path: '/v1/inventory',
      handler: device(async (ctx, who, headers) => {
        const body = await readJsonBody(ctx.req, SYNC_LIMITS.maxBodyBytes);
        const upload = checkInventoryUpload(body);
        if (!upload.ok) throw new HttpError(422, 'invalid_inventory', 'the inventory was refused; nothing was stored', { problems: upload.problems, headers });
        const outcome = await store.inventories.apply(who.device.id, upload.changes, ctx.now);
        if (!outcome.ok) throw new HttpError(409, 'snapshot_required', 'the delta does not apply to the inventory the server holds: send a snapshot', { headers });
        const ack: InventoryAck = outcome.ack;
        sendJson(ctx.res, 200, ack, headers);
      }),
    },
    {
      method: 'GET',
      path: '/v1/policy',
      handler: device(async (ctx, _who, headers) => {
        const current = await store.policies.current();
        const etagHeaders = { ...headers, etag: current.etag };
        if (etagMatches(ctx.req.headers['if-none-match'], current.etag)) return sendEmpty(ctx.res, 304, etagHeaders);
        const body: PolicyResponse = {
          etag: current.etag,
          policy: current.policy ? { version: current.policy.version, text: current.policy.text, sha256: current.policy.sha256, updatedAt: current.policy.updatedAt } : null,
        };
        sendJson(ctx.res, 200, body, etagHeaders);
      }),
    },
    {
      method: 'GET',
      path: '/v1/context/destination',
      handler: device(async (ctx, who, headers) => {
        const keys = [...ctx.url.searchParams.keys()];
        const host = ctx.url.searchParams.get('host') ?? '';
        if (keys.length !== 1 || keys[0] !== 'host' || !/^[A-Za-z0-9.:[\]_-]{1,253}$/.test(host)) throw new HttpError(400, 'invalid_request', 'give exactly one query parameter: host (a host name or IP)');
        const since = ctx.now - CONTEXT_DAYS * 86_400_000;
        const counts = await store.consoleQueries.destinationDevices(host.toLowerCase(), since, who.device.id);
        const body: DestinationContext = { host: host.toLowerCase(), days: CONTEXT_DAYS, ...counts };
        sendJson(ctx.res, 200, body, headers);
      }),
    },
    {
      method: 'POST',
      path: '/v1/rekey',
      handler: device(async (ctx, who) => {
        if (!who.device.rekeyRequested) throw new HttpError(409, 'rekey_not_requested', 'no re-key was requested for this device');
        const body = await readJsonBody(ctx.req, SMALL_BODY);
        const c = new FieldChecker();
        if (!isObject(body)) throw new HttpError(400, 'invalid_request', 'the body must be a JSON object');
        c.only(body, ['proof']);
        const proofText = c.string(body, 'proof', { max: 8192, min: 1 });
        if (!c.ok || typeof proofText !== 'string') throw new HttpError(400, 'invalid_request', 'the body must be {"proof": "<DPoP proof signed by the new key>"}', { problems: c.problems });
        const result = await rekeyVerifier.verify({ method: 'POST', url: ctx.publicUrl, headers: { dpop: proofText } });
        if (!result.ok) throw new HttpError(400, 'invalid_dpop_proof', `the new key's proof: ${result.description}`);
        if (result.claims.ath !== accessTokenHash(who.token)) throw new HttpError(400, 'invalid_dpop_proof', "the new key's proof must carry ath of the current access token");
        if (result.jkt === who.device.jkt) throw new HttpError(400, 'invalid_request', 'the new key is the current key');
        const accessToken = await store.devices.completeRekey(who.device.id, who.token, result.jkt);
        if (accessToken === null) throw new HttpError(409, 'rekey_not_requested', 'the re-key could not be completed (already done, or the device was revoked)');
        ctx.log.info('device re-keyed', { deviceId: who.device.id, keyThumbprint: result.jkt });
        const response: RekeyResponse = { accessToken, keyThumbprint: result.jkt };
        sendJson(ctx.res, 200, response);
      }),
    },
  ];
}

function checkEnrollBody(body: unknown): { secret: string; info: DeviceInfo } {
  if (!isObject(body)) throw new HttpError(400, 'invalid_request', 'the body must be a JSON object');
  const c = new FieldChecker();
  c.only(body, ['secret', 'device']);
  const secret = c.string(body, 'secret', { max: 256, min: 1 });
  const d = c.object(body, 'device');
  let info: DeviceInfo | null = null;
  if (d) {
    const dc = c.child('device.');
    dc.only(d, ['hostname', 'platform', 'user', 'agentVersion']);
    const hostname = dc.string(d, 'hostname', { max: 253, min: 1 });
    const platform = dc.string(d, 'platform', { max: 32, min: 1 });
    const user = dc.string(d, 'user', { max: 256 });
    const agentVersion = dc.string(d, 'agentVersion', { max: 64, min: 1 });
    if (hostname != null && platform != null && user != null && agentVersion != null) info = { hostname, platform, user, agentVersion };
  }
  if (!c.ok || typeof secret !== 'string' || !info) throw new HttpError(400, 'invalid_request', 'the enrollment request is malformed', { problems: c.problems });
  return { secret, info };
}

/** If-None-Match: a list of entity tags, or `*` (RFC 9110 §13.1.2; weak comparison). */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * The admin JSON API the console uses (/admin/v1/): fleet inventory, audit search, the fleet
 * policy (validated before saving, versioned, applied-version counts), device revoke and re-key,
 * and enroll secrets. Protected by an admin API token (`Authorization: Bearer cat_...`) until
 * console sign-in lands: this is documented as temporary.
 */
import { AUDIT_DECISIONS } from '../../app/api/audit.ts';
import type { SyncProblem } from '../../app/api/sync.ts';
import { parsePolicyText } from '../../app/policy/parse.ts';
import type { AdminGuard } from '../auth/consoleAuth.ts';
import { readJsonBody } from '../http/body.ts';
import { HttpError, sendJson } from '../http/respond.ts';
import type { RequestContext, Route } from '../http/router.ts';
import type { FleetStore } from '../store/fleetStore.ts';
import { FieldChecker, isObject } from '../sync/fields.ts';
import { QueryParams } from './filters.ts';
import { guardedBy } from './guarded.ts';

const POLICY_BODY = 4 * 1024 * 1024 + 64 * 1024;
const MCP_PARAMS = ['q', 'name', 'package', 'version', 'posture', 'transport', 'deviceId', 'changedSince', 'limit', 'cursor'];

export function adminRoutes(store: FleetStore, guard: AdminGuard): Route[] {
  const as = guardedBy(guard);
  const admin = as('viewer');
  const adminOnly = as('admin');
  const q = (ctx: RequestContext, allowed: readonly string[]): QueryParams => new QueryParams(ctx.url.searchParams, allowed);

  return [
    {
      method: 'GET',
      path: '/admin/v1/devices',
      handler: admin(async (ctx) => {
        const p = q(ctx, ['q', 'platform', 'mode', 'protection', 'status', 'seenSince', 'limit', 'cursor']);
        const page = await store.queries.devices({
          q: p.string('q'), platform: p.string('platform'), mode: p.oneOf('mode', ['monitor', 'enforce']),
          protection: p.oneOf('protection', ['protected', 'degraded', 'unprotected', 'unknown']),
          status: p.oneOf('status', ['active', 'revoked', 'all']) ?? 'active', seenSince: p.time('seenSince'), limit: p.limit(), cursor: p.string('cursor'),
        });
        sendJson(ctx.res, 200, page);
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/devices/:id',
      handler: admin(async (ctx) => {
        q(ctx, []);
        const detail = await store.queries.device(ctx.params.id ?? '');
        if (!detail) throw new HttpError(404, 'not_found', 'no such device');
        sendJson(ctx.res, 200, detail);
      }),
    },
    {
      method: 'POST',
      path: '/admin/v1/devices/:id/revoke',
      handler: adminOnly(async (ctx, who) => {
        const id = ctx.params.id ?? '';
        if (!(await store.devices.revoke(id, ctx.now))) throw new HttpError(404, 'not_found', 'no such device, or it is already revoked');
        ctx.log.info('device revoked', { deviceId: id, by: who.name });
        sendJson(ctx.res, 200, { revoked: true, deviceId: id });
      }),
    },
    {
      method: 'POST',
      path: '/admin/v1/devices/:id/rekey',
      handler: adminOnly(async (ctx, who) => {
        const id = ctx.params.id ?? '';
        if (!(await store.devices.requestRekey(id, ctx.now))) throw new HttpError(404, 'not_found', 'no such active device');
        ctx.log.info('device re-key requested', { deviceId: id, by: who.name });
        sendJson(ctx.res, 202, { rekeyRequested: true, deviceId: id });
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/agents',
      handler: admin(async (ctx) => {
        const p = q(ctx, ['kind', 'q', 'limit', 'cursor']);
        sendJson(ctx.res, 200, await store.queries.agents({ kind: p.string('kind'), q: p.string('q'), limit: p.limit(), cursor: p.string('cursor') }));
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/mcp-servers',
      handler: admin(async (ctx) => sendJson(ctx.res, 200, await store.queries.mcpServers(mcpFilter(q(ctx, MCP_PARAMS))))),
    },
    {
      method: 'GET',
      path: '/admin/v1/mcp-servers/instances',
      handler: admin(async (ctx) => sendJson(ctx.res, 200, await store.queries.mcpInstances(mcpFilter(q(ctx, MCP_PARAMS))))),
    },
    {
      method: 'GET',
      path: '/admin/v1/changes',
      handler: admin(async (ctx) => {
        const p = q(ctx, ['since', 'deviceId', 'item', 'limit', 'cursor']);
        sendJson(ctx.res, 200, await store.queries.changes({
          since: p.time('since'), deviceId: p.string('deviceId'), item: p.oneOf('item', ['agent', 'mcp-server']), limit: p.limit(), cursor: p.string('cursor'),
        }));
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/audit',
      handler: admin(async (ctx) => {
        const p = q(ctx, ['deviceId', 'agent', 'host', 'decision', 'type', 'since', 'until', 'limit', 'cursor']);
        sendJson(ctx.res, 200, await store.queries.audit({
          deviceId: p.string('deviceId'), agent: p.string('agent'), host: p.string('host'), decision: p.oneOf('decision', AUDIT_DECISIONS),
          type: p.string('type'), since: p.time('since'), until: p.time('until'), limit: p.limit(), cursor: p.string('cursor'),
        }));
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/policy',
      handler: admin(async (ctx) => sendJson(ctx.res, 200, await store.policies.status())),
    },
    {
      method: 'PUT',
      path: '/admin/v1/policy',
      handler: adminOnly(async (ctx, who) => {
        const body = await readJsonBody(ctx.req, POLICY_BODY);
        const c = new FieldChecker();
        if (!isObject(body)) throw new HttpError(400, 'invalid_request', 'the body must be {"text": "<policy YAML or JSON>", "comment": "..."}');
        c.only(body, ['text', 'comment']);
        const text = c.string(body, 'text', { max: 4 * 1024 * 1024, min: 1 });
        const comment = c.string(body, 'comment', { max: 1000, optional: true });
        if (!c.ok || typeof text !== 'string') throw new HttpError(400, 'invalid_request', 'the body must be {"text": "<policy YAML or JSON>", "comment": "..."}', { problems: c.problems });
        const parsed = parsePolicyText(text, 'fleet-policy');
        const errors = parsed.problems.filter((p) => p.severity === 'error');
        if (!parsed.ok || errors.length > 0) {
          const problems: SyncProblem[] = errors.slice(0, 50).map((p) => ({ field: p.path || `line ${p.line}`, message: `line ${p.line}, column ${p.column}: ${p.message}` }));
          throw new HttpError(422, 'invalid_policy', 'the policy is not valid; nothing was saved', { problems });
        }
        const version = await store.policies.save(text, comment ?? null, ctx.now);
        ctx.log.info('fleet policy saved', { version, by: who.name });
        sendJson(ctx.res, 201, { version, warnings: parsed.problems.filter((p) => p.severity === 'warning').map((p) => `line ${p.line}: ${p.message}`) });
      }),
    },
    {
      method: 'DELETE',
      path: '/admin/v1/policy',
      handler: adminOnly(async (ctx, who) => {
        await store.policies.setCurrent(null, ctx.now);
        ctx.log.info('fleet policy cleared', { by: who.name });
        sendJson(ctx.res, 200, { current: null });
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/policy/versions',
      handler: admin(async (ctx) => sendJson(ctx.res, 200, { items: await store.policies.versions() })),
    },
    {
      method: 'GET',
      path: '/admin/v1/policy/versions/:version',
      handler: admin(async (ctx) => {
        const policy = await store.policies.version(versionParam(ctx));
        if (!policy) throw new HttpError(404, 'not_found', 'no such policy version');
        sendJson(ctx.res, 200, policy);
      }),
    },
    {
      method: 'POST',
      path: '/admin/v1/policy/versions/:version/activate',
      handler: adminOnly(async (ctx, who) => {
        const version = versionParam(ctx);
        if (!(await store.policies.setCurrent(version, ctx.now))) throw new HttpError(404, 'not_found', 'no such policy version');
        ctx.log.info('fleet policy version activated', { version, by: who.name });
        sendJson(ctx.res, 200, { current: version });
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/enroll-secrets',
      handler: adminOnly(async (ctx) => sendJson(ctx.res, 200, { items: await store.credentials.listEnrollSecrets() })),
    },
    {
      method: 'POST',
      path: '/admin/v1/enroll-secrets',
      handler: adminOnly(async (ctx, who) => {
        const body = await readJsonBody(ctx.req, 16 * 1024);
        if (!isObject(body)) throw new HttpError(400, 'invalid_request', 'the body must be a JSON object');
        const c = new FieldChecker();
        c.only(body, ['label', 'expiresInDays', 'maxUses']);
        const label = c.string(body, 'label', { max: 200, optional: true });
        const days = c.integer(body, 'expiresInDays', { min: 1, max: 3650, optional: true });
        const maxUses = c.integer(body, 'maxUses', { min: 1, max: 10_000_000, optional: true });
        if (!c.ok) throw new HttpError(400, 'invalid_request', 'invalid enroll secret options', { problems: c.problems });
        const created = await store.credentials.createEnrollSecret(
          { ...(label ? { label } : {}), ...(days ? { expiresAt: ctx.now + days * 86_400_000 } : {}), ...(maxUses ? { maxUses } : {}) },
          ctx.now,
        );
        ctx.log.info('enroll secret created', { id: created.info.id, by: who.name });
        sendJson(ctx.res, 201, created);
      }),
    },
    {
      method: 'POST',
      path: '/admin/v1/enroll-secrets/:id/revoke',
      handler: adminOnly(async (ctx, who) => {
        if (!(await store.credentials.revokeEnrollSecret(ctx.params.id ?? '', ctx.now))) throw new HttpError(404, 'not_found', 'no such active enroll secret');
        ctx.log.info('enroll secret revoked', { id: ctx.params.id, by: who.name });
        sendJson(ctx.res, 200, { revoked: true });
      }),
    },
  ];
}

function mcpFilter(p: QueryParams) {
  return {
    q: p.string('q'), name: p.string('name'), package: p.string('package'), version: p.string('version'),
    posture: p.oneOf('posture', ['none', 'reference', 'literal']), transport: p.string('transport'), deviceId: p.string('deviceId'),
    changedSince: p.time('changedSince'), limit: p.limit(), cursor: p.string('cursor'),
  };
}

function versionParam(ctx: RequestContext): number {
  const v = ctx.params.version ?? '';
  if (!/^\d{1,9}$/.test(v)) throw new HttpError(400, 'invalid_request', 'the version must be a positive integer');
  return Number(v);
}

/**
 * The console-only admin endpoints: the fleet overview, the audit timeline behind the charts,
 * audit export (OCSF JSON lines or CSV, streamed page by page), and console user management
 * (admins only). Same guard as the rest of /admin/v1: a session cookie (with CSRF on changes) or
 * an admin API token.
 */
import { AUDIT_DECISIONS } from '../../app/api/audit.ts';
import { AUDIT_EXPORT_MAX, CONSOLE_ROLES, TIMELINE_MAX_BUCKETS, type ConsoleRole } from '../../app/api/fleetConsole.ts';
import { CSV_COLUMNS, csvCell, toCsvRow } from '../../app/audit/csv.ts';
import { toOcsf } from '../../app/audit/ocsf.ts';
import type { AdminGuard } from '../auth/consoleAuth.ts';
import { readJsonBody } from '../http/body.ts';
import { HttpError, sendJson } from '../http/respond.ts';
import type { Route } from '../http/router.ts';
import type { FleetStore } from '../store/fleetStore.ts';
import { FieldChecker, isObject } from '../sync/fields.ts';
import { QueryParams } from './filters.ts';
import { guardedBy } from './guarded.ts';

const HOUR_MS = 3_600_000;
const EXPORT_PAGE = 1000;
const AUDIT_FILTERS = ['deviceId', 'agent', 'host', 'decision', 'type', 'since', 'until'];

export function consoleRoutes(store: FleetStore, guard: AdminGuard, productVersion: string): Route[] {
  const as = guardedBy(guard);
  const viewer = as('viewer');
  const admin = as('admin');

  return [
    {
      method: 'GET',
      path: '/admin/v1/overview',
      handler: viewer(async (ctx) => {
        new QueryParams(ctx.url.searchParams, []);
        sendJson(ctx.res, 200, await store.consoleQueries.overview(ctx.now));
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/audit/timeline',
      handler: viewer(async (ctx) => {
        const p = new QueryParams(ctx.url.searchParams, ['since', 'until', 'bucket', 'deviceId', 'agent']);
        const bucket = p.oneOf('bucket', ['hour', 'day']) ?? 'hour';
        const size = bucket === 'hour' ? HOUR_MS : 24 * HOUR_MS;
        const until = p.time('until') ?? ctx.now;
        const since = p.time('since') ?? until - (bucket === 'hour' ? 24 : 30) * size;
        if (since >= until) throw new HttpError(400, 'invalid_request', 'since must be before until');
        if ((until - since) / size > TIMELINE_MAX_BUCKETS) throw new HttpError(400, 'invalid_request', `at most ${TIMELINE_MAX_BUCKETS} buckets: narrow the range or use bucket=day`);
        const deviceId = p.string('deviceId');
        const agent = p.string('agent');
        sendJson(ctx.res, 200, await store.consoleQueries.timeline({ since, until, bucket, ...(deviceId ? { deviceId } : {}), ...(agent ? { agent } : {}) }));
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/audit/export',
      handler: viewer(async (ctx, who) => {
        const p = new QueryParams(ctx.url.searchParams, ['format', ...AUDIT_FILTERS]);
        const format = p.oneOf('format', ['ocsf', 'csv']);
        if (!format) throw new HttpError(400, 'invalid_request', 'format must be ocsf or csv');
        const filter = {
          deviceId: p.string('deviceId'), agent: p.string('agent'), host: p.string('host'), decision: p.oneOf('decision', AUDIT_DECISIONS),
          type: p.string('type'), since: p.time('since'), until: p.time('until'),
        };
        // The first page decides the status code; after that, the body streams.
        let page = await store.queries.audit({ ...filter, limit: EXPORT_PAGE });
        const stamp = new Date(ctx.now).toISOString().replace(/[:.]/g, '-');
        ctx.res.writeHead(200, {
          'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          'content-disposition': `attachment; filename="cordon-audit-${stamp}.${format === 'csv' ? 'csv' : 'ocsf.jsonl'}"`,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          trailer: 'x-cordon-truncated',
        });
        if (format === 'csv') ctx.res.write(`${['device_id', 'hostname', ...CSV_COLUMNS].join(',')}\r\n`);
        let written = 0;
        try {
          for (;;) {
            const lines: string[] = [];
            for (const event of page.items) {
              if (written >= AUDIT_EXPORT_MAX) break;
              lines.push(format === 'csv' ? `${csvCell(event.deviceId)},${csvCell(event.hostname)},${toCsvRow(event)}` : `${JSON.stringify(toOcsf(event, { productVersion, hostname: event.hostname, deviceId: event.deviceId }))}\n`);
              written++;
            }
            if (!ctx.res.write(lines.join(''))) await new Promise<void>((resolve) => ctx.res.once('drain', resolve));
            if (ctx.res.destroyed || page.nextCursor === null || written >= AUDIT_EXPORT_MAX) break;
            page = await store.queries.audit({ ...filter, limit: EXPORT_PAGE, cursor: page.nextCursor });
          }
        } catch (error) {
          // Headers are out: cut the transfer so the client sees an incomplete download, not a short file.
          ctx.log.error('audit export failed', { error, events: written });
          ctx.res.destroy();
          return;
        }
        const truncated = page.nextCursor !== null && written >= AUDIT_EXPORT_MAX;
        ctx.res.addTrailers({ 'x-cordon-truncated': String(truncated) });
        ctx.res.end();
        ctx.log.info('audit exported', { format, events: written, truncated, by: who.name });
      }),
    },
    {
      method: 'GET',
      path: '/admin/v1/users',
      handler: admin(async (ctx) => {
        new QueryParams(ctx.url.searchParams, []);
        sendJson(ctx.res, 200, { items: await store.accounts.listUsers() });
      }),
    },
    {
      method: 'POST',
      path: '/admin/v1/users',
      handler: admin(async (ctx, who) => {
        const body = await readJsonBody(ctx.req, 8 * 1024);
        const c = new FieldChecker();
        if (!isObject(body)) throw new HttpError(400, 'invalid_request', 'the body must be {"username", "password", "role"}');
        c.only(body, ['username', 'password', 'role']);
        const username = c.string(body, 'username', { min: 1, max: 64 });
        const password = c.string(body, 'password', { min: 1, max: 1024 });
        const role = c.string(body, 'role', { min: 1, max: 10 });
        if (!c.ok || typeof username !== 'string' || typeof password !== 'string' || typeof role !== 'string') throw new HttpError(400, 'invalid_request', 'the body must be {"username", "password", "role"}', { problems: c.problems });
        if (!(CONSOLE_ROLES as readonly string[]).includes(role)) throw new HttpError(400, 'invalid_request', `role must be one of ${CONSOLE_ROLES.join(', ')}`);
        const user = await store.accounts.createUser({ username, password, role: role as ConsoleRole }, ctx.now);
        ctx.log.info('console user created', { username: user.username, role: user.role, by: who.name });
        sendJson(ctx.res, 201, user);
      }),
    },
    {
      method: 'POST',
      path: '/admin/v1/users/:id/password',
      handler: admin(async (ctx, who) => {
        const body = await readJsonBody(ctx.req, 8 * 1024);
        const c = new FieldChecker();
        if (!isObject(body)) throw new HttpError(400, 'invalid_request', 'the body must be {"password": "..."}');
        c.only(body, ['password']);
        const password = c.string(body, 'password', { min: 1, max: 1024 });
        if (!c.ok || typeof password !== 'string') throw new HttpError(400, 'invalid_request', 'the body must be {"password": "..."}', { problems: c.problems });
        if (!(await store.accounts.setPassword(ctx.params.id ?? '', password, ctx.now))) throw new HttpError(404, 'not_found', 'no such user');
        ctx.log.info('console user password set', { userId: ctx.params.id, by: who.name });
        sendJson(ctx.res, 200, { passwordSet: true, sessionsEnded: true });
      }),
    },
    ...(['disable', 'enable'] as const).map((action): Route => ({
      method: 'POST',
      path: `/admin/v1/users/:id/${action}`,
      handler: admin(async (ctx, who) => {
        const id = ctx.params.id ?? '';
        if (action === 'disable' && who.kind === 'session' && who.id === id) throw new HttpError(422, 'invalid_request', 'you cannot disable yourself');
        const user = await store.accounts.setDisabled(id, action === 'disable', ctx.now);
        if (!user) throw new HttpError(404, 'not_found', 'no such user');
        ctx.log.info(`console user ${action}d`, { username: user.username, by: who.name });
        sendJson(ctx.res, 200, user);
      }),
    })),
  ];
}

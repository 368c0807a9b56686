/**
 * Who is calling the admin API, and may they: a console session (cookie) or an admin API token
 * (scripts). Sessions come from `/console/api/session` (sign in, who am I, sign out). A
 * cookie-authenticated request that changes anything must carry the session's CSRF token in the
 * x-cordon-csrf header, and a foreign Origin is refused; SameSite=Strict on the cookie is the
 * second line. Viewers may read; changes need the admin role.
 */
import type { IncomingMessage } from 'node:http';
import { CSRF_HEADER, type ConsoleRole, type ConsoleSession } from '../../app/api/fleetConsole.ts';
import { readCookie, sameSecret } from '../../app/console/guard.ts';
import { readJsonBody } from '../http/body.ts';
import { HttpError, sendEmpty, sendJson } from '../http/respond.ts';
import type { RequestContext, Route } from '../http/router.ts';
import { SESSION_IDLE_MS, type Accounts } from '../store/accounts.ts';
import type { Credentials } from '../store/credentials.ts';
import { PasswordHashBusy } from './password.ts';
import { FieldChecker, isObject } from '../sync/fields.ts';

const ADMIN_REALM = 'Bearer realm="cordon-admin"';
const SIGNIN_BODY = 8 * 1024;

export type AdminPrincipal =
  | Readonly<{ kind: 'token'; id: string; name: string; role: 'admin' }>
  | Readonly<{ kind: 'session'; id: string; name: string; role: ConsoleRole; csrfToken: string; expiresAt: number }>;

/** `__Host-` cookies must be Secure; over plain HTTP (a loopback trial) the name drops the prefix. */
export function sessionCookie(secure: boolean): string {
  return secure ? '__Host-cordon_console' : 'cordon_console';
}

function isSecure(ctx: RequestContext): boolean {
  return ctx.publicUrl.startsWith('https:');
}

function originOf(ctx: RequestContext): string {
  return new URL(ctx.publicUrl).origin;
}

/** Refuses a request whose Origin (when sent) is not this server: no other site may drive the API. */
function checkSameOrigin(ctx: RequestContext): void {
  const origins = ctx.req.headersDistinct.origin ?? [];
  if (origins.length > 1) throw new HttpError(403, 'csrf_failed', 'more than one Origin header');
  const origin = origins[0];
  if (origin !== undefined && origin !== originOf(ctx)) throw new HttpError(403, 'csrf_failed', 'cross-origin requests are refused');
}

function cookieToken(req: IncomingMessage, secure: boolean): string | null {
  return readCookie(req.headers, sessionCookie(secure));
}

export type AdminGuard = (ctx: RequestContext, role: ConsoleRole) => Promise<AdminPrincipal>;

export function createAdminGuard(deps: Readonly<{ accounts: Accounts; credentials: Credentials }>): AdminGuard {
  return async (ctx, role) => {
    const auth = ctx.req.headersDistinct.authorization ?? [];
    let principal: AdminPrincipal;
    if (auth.length > 0) {
      const token = auth.length === 1 ? /^Bearer +(cat_[A-Za-z0-9_-]{1,100})$/.exec(auth[0] ?? '')?.[1] : undefined;
      const id = token ? await deps.credentials.checkAdminToken(token, ctx.now) : null;
      if (id === null) throw new HttpError(401, 'unauthorized', 'the admin API token is not valid', { headers: { 'www-authenticate': ADMIN_REALM } });
      principal = { kind: 'token', id, name: `token:${id}`, role: 'admin' };
    } else {
      const token = cookieToken(ctx.req, isSecure(ctx));
      const session = token ? await deps.accounts.session(token, ctx.now) : null;
      if (!session) throw new HttpError(401, 'unauthorized', 'sign in to the console, or send an admin API token', { headers: { 'www-authenticate': ADMIN_REALM } });
      const method = ctx.req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        checkSameOrigin(ctx);
        const presented = ctx.req.headersDistinct[CSRF_HEADER] ?? [];
        if (presented.length !== 1 || !sameSecret(presented[0], session.csrfToken)) throw new HttpError(403, 'csrf_failed', `the ${CSRF_HEADER} header is missing or wrong`);
      }
      principal = { kind: 'session', id: session.userId, name: session.username, role: session.role, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
    }
    if (role === 'admin' && principal.role !== 'admin') throw new HttpError(403, 'forbidden', 'this needs the admin role');
    return principal;
  };
}

function sessionBody(p: Extract<AdminPrincipal, { kind: 'session' }>): ConsoleSession {
  return { user: { id: p.id, username: p.name, role: p.role }, csrfToken: p.csrfToken, expiresAt: new Date(p.expiresAt).toISOString(), idleMinutes: SESSION_IDLE_MS / 60_000 };
}

function setCookie(secure: boolean, value: string, maxAgeSeconds: number): Record<string, string> {
  const attributes = [`${sessionCookie(secure)}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`];
  if (secure) attributes.push('Secure');
  return { 'set-cookie': attributes.join('; ') };
}

/** /console/api/session: GET who am I, POST sign in, DELETE sign out. */
export function sessionRoutes(deps: Readonly<{ accounts: Accounts; guard: AdminGuard }>): Route[] {
  const { accounts, guard } = deps;
  return [
    {
      method: 'GET',
      path: '/console/api/session',
      async handler(ctx) {
        if ((ctx.req.headersDistinct.authorization ?? []).length > 0) throw new HttpError(400, 'invalid_request', 'sessions are for the console; API tokens need none');
        const principal = await guard(ctx, 'viewer');
        if (principal.kind !== 'session') throw new HttpError(401, 'unauthorized', 'not signed in');
        sendJson(ctx.res, 200, sessionBody(principal));
      },
    },
    {
      method: 'POST',
      path: '/console/api/session',
      async handler(ctx) {
        checkSameOrigin(ctx);
        const body = await readJsonBody(ctx.req, SIGNIN_BODY);
        const c = new FieldChecker();
        if (!isObject(body)) throw new HttpError(400, 'invalid_request', 'the body must be {"username": "...", "password": "..."}');
        c.only(body, ['username', 'password']);
        const username = c.string(body, 'username', { min: 1, max: 64 });
        const password = c.string(body, 'password', { min: 1, max: 1024 });
        if (!c.ok || typeof username !== 'string' || typeof password !== 'string') throw new HttpError(400, 'invalid_request', 'the body must be {"username": "...", "password": "..."}', { problems: c.problems });
        const address = ctx.clientAddress;
        let outcome;
        try {
          outcome = await accounts.signIn(username, password, address, ctx.now);
        } catch (error) {
          if (error instanceof PasswordHashBusy) throw new HttpError(429, 'rate_limited', error.message, { headers: { 'retry-after': '2' } });
          throw error;
        }
        if (!outcome.ok) {
          if (outcome.reason === 'rate-limited') {
            ctx.log.warn('console sign-in rate limited', { username: username.toLowerCase().slice(0, 64), address });
            throw new HttpError(429, 'rate_limited', `too many failed sign-ins; try again in ${outcome.retryAfterSeconds} seconds`, { headers: { 'retry-after': String(outcome.retryAfterSeconds) } });
          }
          ctx.log.warn('console sign-in failed', { username: username.toLowerCase().slice(0, 64), address });
          throw new HttpError(401, 'unauthorized', 'wrong username or password');
        }
        ctx.log.info('console sign-in', { username: outcome.principal.username, role: outcome.principal.role, address });
        const secure = isSecure(ctx);
        const principal = { kind: 'session', id: outcome.principal.userId, name: outcome.principal.username, role: outcome.principal.role, csrfToken: outcome.principal.csrfToken, expiresAt: outcome.principal.expiresAt } as const;
        sendJson(ctx.res, 200, sessionBody(principal), setCookie(secure, outcome.token, Math.floor((outcome.principal.expiresAt - ctx.now) / 1000)));
      },
    },
    {
      method: 'DELETE',
      path: '/console/api/session',
      async handler(ctx) {
        const principal = await guard(ctx, 'viewer');
        if (principal.kind !== 'session') throw new HttpError(400, 'invalid_request', 'API tokens have no session');
        const token = cookieToken(ctx.req, isSecure(ctx));
        if (token) await accounts.signOut(token);
        ctx.log.info('console sign-out', { username: principal.name });
        sendEmpty(ctx.res, 204, setCookie(isSecure(ctx), '', 0));
      },
    },
  ];
}

/**
 * Admin API handlers behind the guard: the caller (console session or admin token) must hold the
 * role, and the store's known refusals become 4xx answers instead of 500s.
 */
import type { ConsoleRole } from '../../app/api/fleetConsole.ts';
import type { AdminGuard, AdminPrincipal } from '../auth/consoleAuth.ts';
import { PasswordHashBusy } from '../auth/password.ts';
import { HttpError } from '../http/respond.ts';
import type { Handler, RequestContext } from '../http/router.ts';
import { AccountError } from '../store/accounts.ts';
import { InvalidCursor } from '../store/fleetQueries.ts';

export type GuardedHandler = (ctx: RequestContext, who: AdminPrincipal) => Promise<void>;

export function guardedBy(guard: AdminGuard): (role: ConsoleRole) => (fn: GuardedHandler) => Handler {
  return (role) => (fn) => async (ctx) => {
    const who = await guard(ctx, role);
    try {
      await fn(ctx, who);
    } catch (error) {
      if (error instanceof InvalidCursor) throw new HttpError(400, 'invalid_request', error.message);
      if (error instanceof AccountError) throw new HttpError(error.code === 'exists' ? 409 : 422, 'invalid_request', error.message);
      if (error instanceof PasswordHashBusy) throw new HttpError(429, 'rate_limited', error.message, { headers: { 'retry-after': '2' } });
      throw error;
    }
  };
}

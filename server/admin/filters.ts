/**
 * Query-string parsing for the admin API: known parameters only, bounded lengths, typed values
 * (integers, ISO times, enums). A bad parameter is a 400 naming it, never a database error.
 */
import { HttpError } from '../http/respond.ts';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
const MAX_VALUE = 256;

export class QueryParams {
  private readonly params: URLSearchParams;

  constructor(params: URLSearchParams, allowed: readonly string[]) {
    this.params = params;
    for (const key of params.keys()) {
      if (!allowed.includes(key)) throw new HttpError(400, 'invalid_request', `unknown query parameter '${key.slice(0, 40)}' (known: ${allowed.join(', ')})`);
      if (params.getAll(key).length > 1) throw new HttpError(400, 'invalid_request', `query parameter '${key}' is given more than once`);
    }
  }

  string(name: string): string | undefined {
    const v = this.params.get(name);
    if (v === null || v === '') return undefined;
    if (v.length > MAX_VALUE) throw new HttpError(400, 'invalid_request', `${name} is longer than ${MAX_VALUE} characters`);
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) throw new HttpError(400, 'invalid_request', `${name} must be one of ${values.join(', ')}`);
    return v as T;
  }

  limit(): number {
    const v = this.string('limit');
    if (v === undefined) return DEFAULT_LIMIT;
    if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT) throw new HttpError(400, 'invalid_request', `limit must be an integer from 1 to ${MAX_LIMIT}`);
    return Number(v);
  }

  /** An ISO 8601 time (or milliseconds since the epoch) as milliseconds. */
  time(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const ms = /^\d{1,15}$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(ms)) throw new HttpError(400, 'invalid_request', `${name} must be an ISO 8601 time or milliseconds since the epoch`);
    return ms;
  }
}


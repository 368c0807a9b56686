/**
 * Field checks for untrusted JSON from devices and admins: each check records a problem (field
 * path and reason, never the value) instead of throwing, so one response lists everything wrong.
 */
import type { SyncProblem } from '../../app/api/sync.ts';

export type Json = Record<string, unknown>;

export type FieldCheckerOptions = Readonly<{ index?: number; prefix?: string; limit?: number; problems?: SyncProblem[] }>;

export class FieldChecker {
  readonly problems: SyncProblem[];
  private readonly index: number | undefined;
  private readonly prefix: string;
  private readonly limit: number;

  constructor(options: FieldCheckerOptions = {}) {
    this.index = options.index;
    this.prefix = options.prefix ?? '';
    this.limit = options.limit ?? 50;
    this.problems = options.problems ?? [];
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  /** A checker for a nested object or list item that reports into the same list. */
  child(prefix: string, index?: number): FieldChecker {
    const at = index ?? this.index;
    return new FieldChecker({ prefix: `${this.prefix}${prefix}`, limit: this.limit, problems: this.problems, ...(at !== undefined ? { index: at } : {}) });
  }

  fail(field: string, message: string): void {
    if (this.problems.length >= this.limit) return;
    this.problems.push({ ...(this.index !== undefined ? { index: this.index } : {}), field: `${this.prefix}${field}`, message });
  }

  /** Fails for members outside `allowed` (a client must not smuggle extra fields). */
  only(obj: Json, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) if (!allowed.includes(key)) this.fail(key, 'is not a known field');
  }

  string(obj: Json, field: string, opts: Readonly<{ max: number; min?: number; nullable?: boolean; optional?: boolean; pattern?: RegExp }>): string | null | undefined {
    const v = obj[field];
    if (v === undefined && opts.optional) return undefined;
    if (v === null && opts.nullable) return null;
    if (typeof v !== 'string') return this.fail(field, opts.nullable ? 'must be a string or null' : 'must be a string'), undefined;
    if (v.length > opts.max) return this.fail(field, `is longer than ${opts.max} characters`), undefined;
    if (v.length < (opts.min ?? 0)) return this.fail(field, opts.min === 1 ? 'must not be empty' : `is shorter than ${opts.min} characters`), undefined;
    if (opts.pattern && !opts.pattern.test(v)) return this.fail(field, 'has an invalid format'), undefined;
    return v;
  }

  integer(obj: Json, field: string, opts: Readonly<{ min: number; max?: number; nullable?: boolean; optional?: boolean }>): number | null | undefined {
    const v = obj[field];
    if (v === undefined && opts.optional) return undefined;
    if (v === null && opts.nullable) return null;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return this.fail(field, opts.nullable ? 'must be an integer or null' : 'must be an integer'), undefined;
    if (v < opts.min || v > (opts.max ?? Number.MAX_SAFE_INTEGER)) return this.fail(field, `must be between ${opts.min} and ${opts.max ?? Number.MAX_SAFE_INTEGER}`), undefined;
    return v;
  }

  boolean(obj: Json, field: string, opts: Readonly<{ optional?: boolean }> = {}): boolean | undefined {
    const v = obj[field];
    if (v === undefined && opts.optional) return undefined;
    if (typeof v !== 'boolean') return this.fail(field, 'must be true or false'), undefined;
    return v;
  }

  oneOf<T extends string>(obj: Json, field: string, values: readonly T[], opts: Readonly<{ nullable?: boolean; optional?: boolean }> = {}): T | null | undefined {
    const v = obj[field];
    if (v === undefined && opts.optional) return undefined;
    if (v === null && opts.nullable) return null;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) return this.fail(field, `must be one of ${values.join(', ')}${opts.nullable ? ' or null' : ''}`), undefined;
    return v as T;
  }

  object(obj: Json, field: string, opts: Readonly<{ nullable?: boolean; optional?: boolean }> = {}): Json | null | undefined {
    const v = obj[field];
    if (v === undefined && opts.optional) return undefined;
    if (v === null && opts.nullable) return null;
    if (!isObject(v)) return this.fail(field, 'must be an object'), undefined;
    return v;
  }

  array(obj: Json, field: string, opts: Readonly<{ max: number; optional?: boolean }>): unknown[] | undefined {
    const v = obj[field];
    if (v === undefined && opts.optional) return undefined;
    if (!Array.isArray(v)) return this.fail(field, 'must be an array'), undefined;
    if (v.length > opts.max) return this.fail(field, `has more than ${opts.max} items`), undefined;
    return v;
  }

  /** An array of bounded strings. */
  strings(obj: Json, field: string, opts: Readonly<{ max: number; maxLength: number; optional?: boolean }>): string[] | undefined {
    const list = this.array(obj, field, opts);
    if (list === undefined) return undefined;
    if (!list.every((s) => typeof s === 'string' && s.length <= opts.maxLength)) return this.fail(field, `must be strings of at most ${opts.maxLength} characters`), undefined;
    return list as string[];
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ISO 8601 date-time (what the daemon writes: toISOString), bounded and parseable. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

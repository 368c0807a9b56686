/**
 * `cordon audit ...`: query, verify, export (OCSF JSON lines or CSV) and prune the hash-chained
 * audit trail. Reads the database file directly (read-only), so it works with or without the daemon.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { AUDIT_DECISIONS, type AuditDecision, type AuditEvent, type AuditQuery, type AuditRetention, type AuditVerifyResult } from '../../api/audit.ts';
import { CoreError } from '../../api/errors.ts';
import { createAuditLog } from '../../audit/auditLog.ts';
import { csvHeader, toCsvRow } from '../../audit/csv.ts';
import { headFileFor } from '../../audit/headFile.ts';
import { toOcsf } from '../../audit/ocsf.ts';
import { openAuditReadOnly, storeCall } from '../../audit/open.ts';
import { iterateAudit, isoTime, queryAudit } from '../../audit/query.ts';
import { verifyAudit } from '../../audit/verify.ts';
import { loadSettings } from '../../config/settings.ts';
import { openDatabase } from '../../store/database.ts';
import { UsageError, flag, stringOption, writeJson, type Command, type CommandContext, type ParsedArgs } from '../command.ts';
import { cordonVersion } from '../../util/version.ts';

const query: Command = {
  name: 'audit query',
  summary: 'list audit events (decisions, inventory changes, daemon events), oldest first',
  usage: '[--since ISO] [--until ISO] [--agent A] [--decision allow|log|ask|deny] [--type T]... [--limit N] [--json]',
  options: {
    since: { type: 'string' }, until: { type: 'string' }, agent: { type: 'string' }, decision: { type: 'string' },
    type: { type: 'string', multiple: true }, limit: { type: 'string' }, json: { type: 'boolean' },
  },
  async run(ctx, args) {
    const filter = parseFilter(args);
    const limit = positiveInt(stringOption(args, 'limit'), 'limit') ?? 100;
    const events = withDb(ctx, (db) => queryAudit(db, { ...filter, limit, order: 'desc' })).reverse();
    if (flag(args, 'json')) writeJson(ctx.stdout, events);
    else ctx.stdout.write(events.length === 0 ? 'no matching audit events\n' : `${events.map(formatEvent).join('\n')}\n`);
    return 0;
  },
};

const verify: Command = {
  name: 'audit verify',
  summary: 'recompute the audit hash chain; exit 1 and name the first bad event when it is broken',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx, args) {
    const result = withDb(ctx, (db) => verifyAudit(db, { headFile: headFileFor(ctx.paths.databaseFile) }));
    if (flag(args, 'json')) writeJson(ctx.stdout, result);
    else ctx.stdout.write(formatVerify(result));
    return result.ok ? 0 : 1;
  },
};

const exportCommand: Command = {
  name: 'audit export',
  summary: 'export audit events as OCSF 1.8 JSON lines (--ocsf) or CSV (--csv)',
  usage: '--ocsf|--csv [--since ISO] [--until ISO] [--agent A] [--decision D] [--type T]... [--out FILE]',
  options: {
    ocsf: { type: 'boolean' }, csv: { type: 'boolean' }, out: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' },
    agent: { type: 'string' }, decision: { type: 'string' }, type: { type: 'string', multiple: true },
  },
  async run(ctx, args) {
    const ocsf = flag(args, 'ocsf');
    if (ocsf === flag(args, 'csv')) throw new UsageError('choose one format: --ocsf or --csv');
    const filter = parseFilter(args);
    const out = stringOption(args, 'out');
    const context = { productVersion: cordonVersion(), hostname: hostname() };
    const db = openAuditReadOnly(ctx.paths.databaseFile);
    let written = 0;
    try {
      const output = out ? fileOutput(resolve(ctx.cwd, out)) : streamOutput(ctx.stdout);
      try {
        if (!ocsf) await output.write(csvHeader());
        const events = iterateAudit(db, filter);
        for (;;) {
          const next = storeCall(() => events.next(), ctx.paths.databaseFile);
          if (next.done) break;
          await output.write(ocsf ? `${JSON.stringify(toOcsf(next.value, context))}\n` : toCsvRow(next.value));
          written++;
        }
      } finally {
        output.close();
      }
    } finally {
      db.close();
    }
    if (out) ctx.stderr.write(`wrote ${written} event${written === 1 ? '' : 's'} to ${out}\n`);
    return 0;
  },
};

const prune: Command = {
  name: 'audit prune',
  summary: 'remove old audit events (default: older than the auditRetentionDays setting), keeping the chain verifiable',
  usage: '[--days N] [--max-rows N] [--json]',
  options: { days: { type: 'string' }, 'max-rows': { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const maxRows = positiveInt(stringOption(args, 'max-rows'), 'max-rows');
    const days = positiveInt(stringOption(args, 'days'), 'days')
      ?? (await loadSettings({ paths: ctx.paths, env: ctx.env, platform: process.platform })).effective.auditRetentionDays;
    const policy: AuditRetention = { maxAgeDays: days, ...(maxRows !== undefined ? { maxRows } : {}) };
    const db = openDatabase(ctx.paths.databaseFile);
    try {
      const result = storeCall(() => createAuditLog(db).prune(policy), ctx.paths.databaseFile);
      if (flag(args, 'json')) writeJson(ctx.stdout, result);
      else ctx.stdout.write(result.removed === 0 ? 'nothing to prune\n' : `pruned ${result.removed} events through seq ${result.throughSeq}; anchor recorded as event ${result.anchor?.seq}\n`);
      return 0;
    } finally {
      db.close();
    }
  },
};

export const auditCommands: readonly Command[] = [query, verify, exportCommand, prune];

function withDb<T>(ctx: CommandContext, fn: (db: ReturnType<typeof openAuditReadOnly>) => T): T {
  const db = openAuditReadOnly(ctx.paths.databaseFile);
  try {
    return storeCall(() => fn(db), ctx.paths.databaseFile);
  } finally {
    db.close();
  }
}

function parseFilter(args: ParsedArgs): Omit<AuditQuery, 'limit' | 'order'> {
  const since = stringOption(args, 'since');
  const until = stringOption(args, 'until');
  const agent = stringOption(args, 'agent');
  const decision = stringOption(args, 'decision');
  const types = (args.values.type as string[] | undefined) ?? [];
  if (decision !== undefined && !AUDIT_DECISIONS.includes(decision as AuditDecision)) throw new UsageError(`--decision must be one of ${AUDIT_DECISIONS.join(', ')}`);
  const iso = (value: string, name: string): string => {
    try {
      return isoTime(value, name);
    } catch {
      throw new UsageError(`--${name} must be an ISO 8601 time (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)`);
    }
  };
  return {
    ...(since !== undefined ? { since: iso(since, 'since') } : {}),
    ...(until !== undefined ? { until: iso(until, 'until') } : {}),
    ...(agent !== undefined ? { agent } : {}),
    ...(decision !== undefined ? { decision: decision as AuditDecision } : {}),
    ...(types.length > 0 ? { types } : {}),
  };
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new UsageError(`--${name} must be a positive integer`);
  return Number(value);
}

function formatEvent(e: AuditEvent): string {
  const who = e.agentKind ?? '-';
  return `${String(e.seq).padStart(6)}  ${e.time}  ${e.type.padEnd(16)}  ${(e.decision ?? '').padEnd(5)}  ${who.padEnd(12)}  ${oneLine(e.summary)}`;
}

function formatVerify(r: AuditVerifyResult): string {
  const range = r.firstSeq === null ? 'no events' : `${r.checked} events (seq ${r.firstSeq}-${r.lastSeq})`;
  const anchor = r.anchor ? `, starts after pruning through seq ${r.anchor.throughSeq} (anchor event ${r.anchor.seq})` : '';
  if (r.ok) return `audit trail OK: ${range}${anchor}\nhead ${r.headHash ?? '-'} (head file ${r.headFile})\n`;
  const [first, ...rest] = r.problems;
  const lines = [`audit trail BROKEN at seq ${first?.seq ?? '?'}: ${first?.message ?? 'unknown problem'}`, `checked ${range}${anchor}`];
  for (const p of rest.slice(0, 9)) lines.push(`  also at seq ${p.seq ?? '?'}: ${p.message}`);
  if (rest.length > 9) lines.push(`  ... ${rest.length - 9} more (--json lists up to 100)`);
  return `${lines.join('\n')}\n`;
}

/** Control characters in stored text are shown escaped so a crafted summary cannot forge lines. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

type Output = { write(chunk: string): Promise<void>; close(): void };

/** Writes to stdout (or the test's stream), waiting for it to drain so memory stays bounded. */
function streamOutput(stream: Writable): Output {
  return {
    async write(chunk) {
      if (!stream.write(chunk)) await once(stream, 'drain');
    },
    close() {},
  };
}

/** Writes to a file (created 0600: exports describe the user's activity), buffered, synchronously. */
function fileOutput(file: string): Output {
  let fd: number;
  try {
    fd = openSync(file, 'w', 0o600);
  } catch (error) {
    throw new CoreError('ERR_BAD_REQUEST', `cannot write ${file}: ${(error as Error).message}`);
  }
  let buffer: string[] = [];
  let size = 0;
  const drain = (): void => {
    if (buffer.length > 0) writeSync(fd, buffer.join(''));
    buffer = [];
    size = 0;
  };
  return {
    async write(chunk) {
      buffer.push(chunk);
      size += chunk.length;
      if (size >= 64 * 1024) drain();
    },
    close() {
      try {
        drain();
      } finally {
        closeSync(fd);
      }
    },
  };
}

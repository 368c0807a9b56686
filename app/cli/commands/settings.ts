/** `cordon settings`: effective settings and where each value came from; set/unset user values; the schema. */
import type { SettingsProblem, SettingsReport } from '../../api/settings.ts';
import { REDACTED_SET, SECRET_SETTING_KEYS } from '../../api/settings.ts';
import { MANAGED_SETTINGS_SCHEMA, SETTINGS_SCHEMA, isSettingKey, settingSchema } from '../../config/schema.ts';
import { loadSettings, redactSettingsReport, setUserSetting, unsetUserSetting, type LoadSettingsOptions } from '../../config/settings.ts';
import { UsageError, flag, writeJson, type Command, type CommandContext } from '../command.ts';

const MAX_VALUE_WIDTH = 48;

const show: Command = {
  name: 'settings',
  summary: 'show effective settings and where each value comes from (exit 1 when there are problems)',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx, args) {
    const report = redactSettingsReport(await loadSettings(loadOptions(ctx)));
    if (flag(args, 'json')) writeJson(ctx.stdout, report);
    else ctx.stdout.write(renderReport(report));
    return hasFaults(report.problems) ? 1 : 0;
  },
};

const set: Command = {
  name: 'settings set',
  summary: 'set a user setting (VALUE is JSON when it parses, else a string)',
  usage: 'KEY VALUE   (a VALUE starting with "-" goes after --)',
  options: {},
  positionals: true,
  async run(ctx, args) {
    const [key, value, ...extra] = [...args.positionals, ...args.rest];
    if (key === undefined || value === undefined) throw new UsageError('KEY and VALUE are required');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}' (quote a VALUE with spaces)`);
    const parsed = parseCliValue(key, value);
    const result = await setUserSetting(loadOptions(ctx), key, parsed);
    const secret = SECRET_SETTING_KEYS.some((k) => k === key);
    const shown = secret ? REDACTED_SET : JSON.stringify(parsed);
    ctx.stdout.write(result.changed ? `${key} = ${shown} (in ${result.file})\n` : `${key} is already ${shown}\n`);
    if (secret) ctx.stderr.write(`note: a secret on the command line can stay in shell history; enrollSecretFile avoids that\n`);
    return 0;
  },
};

const unset: Command = {
  name: 'settings unset',
  summary: 'remove a user setting (the value falls back to IT defaults or built-in defaults)',
  usage: 'KEY',
  options: {},
  positionals: true,
  async run(ctx, args) {
    const [key, ...extra] = args.positionals;
    if (key === undefined) throw new UsageError('KEY is required');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const result = await unsetUserSetting(loadOptions(ctx), key);
    ctx.stdout.write(result.changed ? `${key} removed from ${result.file}\n` : `${key} was not set in ${result.file}\n`);
    return 0;
  },
};

const schema: Command = {
  name: 'settings schema',
  summary: 'print the settings JSON Schema (--managed: the schema of IT-managed sources)',
  usage: '[--managed]',
  options: { managed: { type: 'boolean' } },
  async run(ctx, args) {
    writeJson(ctx.stdout, flag(args, 'managed') ? MANAGED_SETTINGS_SCHEMA : SETTINGS_SCHEMA);
    return 0;
  },
};

export const settingsCommands: readonly Command[] = [show, set, unset, schema];

/** The CLI's VALUE: JSON when it parses; for string settings, the raw text unless it was a JSON string. */
export function parseCliValue(key: string, raw: string): unknown {
  let parsed: unknown;
  let isJson = true;
  try {
    parsed = JSON.parse(raw);
  } catch {
    isJson = false;
  }
  if (isSettingKey(key) && settingSchema(key).type === 'string') return isJson && typeof parsed === 'string' ? parsed : raw;
  return isJson ? parsed : raw;
}

/** Errors and warnings make `cordon settings` exit 1; info (a lock notice) does not. */
export function hasFaults(problems: readonly SettingsProblem[]): boolean {
  return problems.some((p) => p.severity !== 'info');
}

/** The human table: key, value, source, lock marker, then each entry's error, then all problems. */
export function renderReport(report: SettingsReport): string {
  const rows = report.entries.map((e) => [e.key, formatValue(e.value), e.source, e.locked ? 'locked' : '']);
  const header = ['KEY', 'VALUE', 'SOURCE', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out: string[] = [line(header)];
  report.entries.forEach((entry, i) => {
    out.push(line(rows[i] ?? []));
    if (entry.error) out.push(`    ! ${entry.error}`);
    if (entry.note) out.push(`    · ${entry.note}`);
  });
  out.push('', `user settings:    ${report.files.user}`);
  const managed = report.files.managed;
  out.push(`managed settings: ${managed.paths.join(', ')}${managed.present ? '' : ' (none)'}${managed.overridden ? ' (set by CORDON_MANAGED_SETTINGS)' : ''}`);
  if (report.problems.length > 0) {
    out.push('', 'problems:');
    for (const p of report.problems) out.push(`  ${p.severity.padEnd(7)} ${p.source.padEnd(7)} ${p.file}${p.key ? ` [${p.key}]` : ''}: ${p.message}`);
  }
  return `${out.join('\n')}\n`;
}

function formatValue(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > MAX_VALUE_WIDTH ? `${text.slice(0, MAX_VALUE_WIDTH - 1)}…` : text;
}

function loadOptions(ctx: CommandContext): LoadSettingsOptions {
  return { paths: ctx.paths, env: ctx.env, platform: process.platform };
}

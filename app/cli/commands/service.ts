/** `cordon service install|uninstall|status`: the daemon as a per-user service, for machines without MDM. */
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { CoreError } from '../../api/errors.ts';
import type { ServiceTarget } from '../../service/definitions.ts';
import { currentUid, currentUsername, defaultServiceTarget, servicePlatform } from '../../service/host.ts';
import { installService, serviceStatus, uninstallService } from '../../service/manager.ts';
import { runCommand } from '../../service/runner.ts';
import type { CommandRunner, ServiceHost, ServiceOutcome, ServiceStatusReport, ServiceStep } from '../../service/types.ts';
import { flag, stringOption, writeJson, type Command, type CommandContext, type ParsedArgs } from '../command.ts';

/** What the commands need from the machine; tests replace the runner and the platform. */
export type ServiceCommandDeps = Readonly<{
  platform: NodeJS.Platform;
  run: CommandRunner;
  uid: () => number;
  username: (env: NodeJS.ProcessEnv) => string;
  defaultTarget: () => ServiceTarget;
  /**
   * The commands run on this machine's own platform: relative --node/--cordon paths resolve against
   * the working directory, and install checks that both files exist before writing a unit.
   */
  checkTargetExists: boolean;
}>;

/** The three verbs, bound to `deps`. */
export function createServiceCommands(deps: ServiceCommandDeps): readonly Command[] {
  const install: Command = {
    name: 'service install',
    summary: 'start the daemon at login as a user service (systemd, launchd or Task Scheduler); exit 1 when it could not be registered',
    usage: '[--node PATH] [--cordon PATH] [--dry-run] [--json]',
    options: { node: { type: 'string' }, cordon: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
    async run(ctx, args) {
      const target = await resolveTarget(ctx, args, deps, true);
      const outcome = await installService(host(ctx, deps), target, { dryRun: flag(args, 'dry-run') });
      printOutcome(ctx, outcome, flag(args, 'json'));
      return outcome.ok ? 0 : 1;
    },
  };
  const uninstall: Command = {
    name: 'service uninstall',
    summary: 'stop and unregister the user service and remove its file (only what install did)',
    usage: '[--dry-run] [--json]',
    options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
    async run(ctx, args) {
      const outcome = await uninstallService(host(ctx, deps), { dryRun: flag(args, 'dry-run') });
      printOutcome(ctx, outcome, flag(args, 'json'));
      return outcome.ok ? 0 : 1;
    },
  };
  const status: Command = {
    name: 'service status',
    summary: 'is the user service installed, up to date and running? (exit 1 when not)',
    usage: '[--node PATH] [--cordon PATH] [--json]',
    options: { node: { type: 'string' }, cordon: { type: 'string' }, json: { type: 'boolean' } },
    async run(ctx, args) {
      const target = await resolveTarget(ctx, args, deps, false);
      const report = await serviceStatus(host(ctx, deps), target);
      if (flag(args, 'json')) writeJson(ctx.stdout, report);
      else printStatus(ctx, report);
      const healthy = report.installed && report.upToDate === true && report.registered !== false && report.active !== false;
      return healthy ? 0 : 1;
    },
  };
  return [install, uninstall, status];
}

export const serviceCommands: readonly Command[] = createServiceCommands({
  platform: process.platform,
  run: runCommand,
  uid: currentUid,
  username: (env) => currentUsername(env, process.platform),
  defaultTarget: defaultServiceTarget,
  checkTargetExists: true,
});

function host(ctx: CommandContext, deps: ServiceCommandDeps): ServiceHost {
  const platform = servicePlatform(deps.platform);
  if (!platform) throw new CoreError('ERR_BAD_REQUEST', `no service manager support on ${deps.platform}: run 'cordon daemon' from your session instead`);
  return { platform, env: ctx.env, run: deps.run, uid: deps.uid(), username: deps.username(ctx.env) };
}

async function resolveTarget(ctx: CommandContext, args: ParsedArgs, deps: ServiceCommandDeps, mustExist: boolean): Promise<ServiceTarget> {
  const defaults = deps.defaultTarget();
  const given = (name: string): string | undefined => {
    const value = stringOption(args, name);
    return value !== undefined && deps.checkTargetExists && !isAbsolute(value) ? resolve(ctx.cwd, value) : value;
  };
  const target = { nodePath: given('node') ?? defaults.nodePath, cordonPath: given('cordon') ?? defaults.cordonPath };
  if (mustExist && deps.checkTargetExists) {
    for (const [what, path] of [
      ['node binary', target.nodePath],
      ['bin/cordon.js', target.cordonPath],
    ] as const) {
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) throw new CoreError('ERR_NOT_FOUND', `${what} not found at ${path}`);
    }
  }
  return target;
}

function printOutcome(ctx: CommandContext, outcome: ServiceOutcome, json: boolean): void {
  if (json) {
    writeJson(ctx.stdout, outcome);
    return;
  }
  const out = outcome.ok ? ctx.stdout : ctx.stderr;
  if (outcome.content !== undefined) ctx.stdout.write(`--- ${outcome.location.file}\n${outcome.content}${outcome.content.endsWith('\n') ? '' : '\n'}---\n`);
  out.write(`${outcome.message}\n`);
  for (const step of outcome.steps) out.write(formatStep(step));
  if (outcome.hint) out.write(`hint: ${outcome.hint}\n`);
}

function printStatus(ctx: CommandContext, report: ServiceStatusReport): void {
  const yesNo = (v: boolean | null): string => (v === null ? 'unknown' : v ? 'yes' : 'no');
  ctx.stdout.write(
    [
      `service:     ${report.location.name} (${report.location.manager})`,
      `file:        ${report.location.file}${report.installed ? '' : ' (missing)'}`,
      `up to date:  ${report.upToDate === null ? 'n/a' : yesNo(report.upToDate)}`,
      `registered:  ${yesNo(report.registered)}`,
      `running:     ${yesNo(report.active)}`,
      report.message,
      '',
    ].join('\n'),
  );
}

function formatStep(step: ServiceStep): string {
  const command = step.command.map((w) => (/[\s"']/.test(w) || w === '' ? JSON.stringify(w) : w)).join(' ');
  const mark = step.exitCode === null && step.ok ? '-' : step.ok ? 'ok' : 'FAILED';
  return `  [${mark}] ${command}${step.message ? `: ${step.message}` : ''}\n`;
}

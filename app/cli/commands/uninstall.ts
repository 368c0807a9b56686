/**
 * `cordon uninstall`: leaves the machine as it was before Cordon (agents' settings restored, the
 * service and the CA removed; keys and Cordon's own files on request). Prints one line per step;
 * exit 1 when any step failed or IT manages Cordon (without --force).
 */
import { homedir } from 'node:os';
import { currentUid, currentUsername, servicePlatform } from '../../service/host.ts';
import { runCommand } from '../../service/runner.ts';
import type { UninstallReport } from '../../service/uninstall.ts';
import { flag, stringOption, writeJson, type Command } from '../command.ts';
import { keyStoreFor, trustHost } from './identity.ts';
import { cordonVersion } from '../../util/version.ts';

const uninstall: Command = {
  name: 'uninstall',
  summary: "remove Cordon from this user's machine: service stopped and removed, agents' settings restored, CA out of the trust stores; keys and files on request",
  usage: '[--remove-keys] [--purge] [--dry-run] [--force] [--home DIR] [--json]   (--remove-keys: delete every Cordon key and credential from the keychain; --purge: remove Cordon\'s config and data dirs; --force: even when IT manages Cordon)',
  options: { 'remove-keys': { type: 'boolean' }, purge: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, force: { type: 'boolean' }, home: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const platform = servicePlatform(process.platform);
    const home = stringOption(args, 'home') ?? (ctx.env.HOME || homedir());
    // Loaded here: the uninstall pulls in most of Cordon, which other verbs should not pay for.
    const { uninstallCordon } = await import('../../service/uninstall.ts');
    const report = await uninstallCordon(
      {
        paths: ctx.paths,
        env: ctx.env,
        platform: process.platform,
        home,
        service: platform ? { platform, env: ctx.env, run: runCommand, uid: currentUid(), username: currentUsername(ctx.env, process.platform) } : null,
        trust: trustHost(ctx),
        keyStore: () => keyStoreFor(ctx),
        version: cordonVersion(),
      },
      { removeKeys: flag(args, 'remove-keys'), purge: flag(args, 'purge'), dryRun: flag(args, 'dry-run'), force: flag(args, 'force') },
    );
    if (flag(args, 'json')) writeJson(ctx.stdout, report);
    else print(ctx.stdout, ctx.stderr, report);
    return report.ok ? 0 : 1;
  },
};

export const uninstallCommands: readonly Command[] = [uninstall];

function print(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, report: UninstallReport): void {
  const out = report.ok ? stdout : stderr;
  for (const step of report.steps) {
    out.write(`[${step.status}] ${step.step}: ${step.message}\n`);
    for (const detail of step.details) out.write(`    ${detail}\n`);
  }
  out.write(`${report.message}\n`);
  if (report.hint) out.write(`hint: ${report.hint}\n`);
}

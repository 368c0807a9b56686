// Shared by the `cordon service` tests: a recording command runner with scripted answers, a temp
// HOME, and a Command context whose output is kept.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandContext, ParsedArgs } from '../../app/cli/command.ts';
import type { CommandResult, CommandRunner } from '../../app/service/types.ts';
import { cordonPaths } from '../../app/util/paths.ts';

export type Answer = Partial<CommandResult>;
export type FakeRunner = CommandRunner & { calls: string[][] };

/** Records every call; `answer` decides each result from the argv (default: success, no output). */
export function fakeRunner(answer: (argv: readonly string[]) => Answer = () => ({})): FakeRunner {
  const calls: string[][] = [];
  const run: CommandRunner = async (file, args) => {
    const argv = [file, ...args];
    calls.push(argv);
    const a = answer(argv);
    return { exitCode: a.spawnError ? null : (a.exitCode ?? 0), stdout: a.stdout ?? '', stderr: a.stderr ?? '', ...(a.spawnError ? { spawnError: a.spawnError } : {}) };
  };
  return Object.assign(run, { calls });
}

import { collector } from '../helpers/collector.ts';

export { collector };

export type TempHome = Readonly<{ home: string; env: NodeJS.ProcessEnv; cleanup(): Promise<void> }>;

/** A fresh HOME (and CORDON_HOME in it): nothing is ever written to the real home. */
export async function tempHome(extra: NodeJS.ProcessEnv = {}): Promise<TempHome> {
  const home = await mkdtemp(join(tmpdir(), 'cordon-service-'));
  return { home, env: { HOME: home, CORDON_HOME: join(home, 'cordon'), ...extra }, cleanup: () => rm(home, { recursive: true, force: true }) };
}

export type TestContext = CommandContext & { out: ReturnType<typeof collector>; err: ReturnType<typeof collector> };

export function context(env: NodeJS.ProcessEnv, cwd: string): TestContext {
  const out = collector();
  const err = collector();
  return { stdout: out, stderr: err, out, err, env, paths: cordonPaths(env, 'linux'), cwd };
}

export function args(values: ParsedArgs['values'] = {}): ParsedArgs {
  return { values, positionals: [], rest: [] };
}

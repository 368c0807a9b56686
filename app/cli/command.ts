/**
 * The shape of one `cordon` verb. Each capability folder contributes its verbs as Command objects;
 * app/cli/commands/index.ts lists them. Commands write to ctx.stdout/ctx.stderr (never to
 * console) and return an exit code, so tests run them in-process.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Writable } from 'node:stream';
import type { CordonPaths } from '../util/paths.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export type CommandContext = Readonly<{
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  paths: CordonPaths;
  cwd: string;
}>;

export type ParsedArgs = Readonly<{
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Everything after a literal `--` (for `cordon run -- CMD ...`). */
  rest: string[];
}>;

export type Command = Readonly<{
  /** One or two words: "scan", "keys list". */
  name: string;
  summary: string;
  /** Usage line after `cordon <name>`, e.g. "[--json] [--home DIR]". */
  usage: string;
  options: OptionSpec;
  /** Allow positionals beyond the command name (default: refuse them). */
  positionals?: boolean;
  run(ctx: CommandContext, args: ParsedArgs): Promise<number>;
}>;

/** A usage mistake: the CLI prints the message and the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} takes a value`);
  return v;
}

export function requireOption(args: ParsedArgs, name: string): string {
  const v = stringOption(args, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function writeJson(stream: Writable, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}

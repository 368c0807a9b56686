/**
 * `cordon` entry point: finds the verb (one or two words), parses its options strictly and runs
 * it. Errors become a one-line message and an exit code; they never print a stack to users.
 */
import { parseArgs } from 'node:util';
import { CoreError } from '../api/errors.ts';
import { cordonPaths } from '../util/paths.ts';
import { UsageError, type Command, type CommandContext, type ParsedArgs } from './command.ts';
import { cordonVersion } from '../util/version.ts';

export async function main(argv: string[], overrides: Partial<CommandContext> = {}): Promise<number> {
  const env = overrides.env ?? process.env;
  const ctx: CommandContext = {
    stdout: overrides.stdout ?? process.stdout,
    stderr: overrides.stderr ?? process.stderr,
    env,
    paths: overrides.paths ?? cordonPaths(env),
    cwd: overrides.cwd ?? process.cwd(),
  };
  const dashDash = argv.indexOf('--');
  const head = dashDash >= 0 ? argv.slice(0, dashDash) : argv;
  const rest = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
  const commands = await commandTable(head[0]);

  if (head.length === 0 || head[0] === 'help' || head[0] === '--help' || head[0] === '-h') {
    ctx.stdout.write(helpText(commands, head[1]));
    return 0;
  }
  if (head[0] === '--version' || head[0] === 'version') {
    ctx.stdout.write(`${cordonVersion()}\n`);
    return 0;
  }
  const command = findCommand(commands, head);
  if (!command) {
    const group = commands.filter((c) => c.name.split(' ')[0] === head[0]);
    ctx.stderr.write(`cordon: unknown command '${head.slice(0, 2).join(' ')}'\n`);
    ctx.stderr.write(group.length > 0 ? helpText(group) : "run 'cordon help' for the list of commands\n");
    return 2;
  }
  const words = command.name.split(' ').length;
  try {
    const tokens = head.slice(words);
    if (tokens.includes('--help') || tokens.includes('-h')) {
      ctx.stdout.write(commandHelp(command));
      return 0;
    }
    const parsed = parseArgs({ args: tokens, options: command.options, allowPositionals: true, strict: true });
    if (!command.positionals && parsed.positionals.length > 0) {
      throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
    }
    const args: ParsedArgs = { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals, rest };
    return await command.run(ctx, args);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      ctx.stderr.write(`cordon ${command.name}: ${(error as Error).message}\nusage: cordon ${command.name} ${command.usage}\n`);
      return 2;
    }
    if (error instanceof CoreError) {
      ctx.stderr.write(`cordon ${command.name}: ${error.message} (${error.code})\n`);
      return 1;
    }
    ctx.stderr.write(`cordon ${command.name}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

/**
 * The verbs to look in. `cordon daemon` loads its own module only: the long-running daemon does
 * not keep every other verb's code (service installers, plist writers, uninstall, enrollment, the
 * UI launcher) resident for days (issue 4's idle memory; bench/memory.bench.ts).
 */
async function commandTable(word: string | undefined): Promise<readonly Command[]> {
  if (word === 'daemon') return (await import('./commands/daemon.ts')).daemonCommands;
  return (await import('./commands/index.ts')).allCommands();
}

function findCommand(commands: readonly Command[], head: string[]): Command | undefined {
  const two = head.slice(0, 2).join(' ');
  return commands.find((c) => c.name === two) ?? commands.find((c) => c.name === head[0]);
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function helpText(commands: readonly Command[], topic?: string): string {
  const shown = topic ? commands.filter((c) => c.name.split(' ')[0] === topic) : commands;
  const list = shown.length > 0 ? shown : commands;
  const width = Math.max(...list.map((c) => c.name.length));
  const lines = list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: cordon <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nrun 'cordon <command> --help' for a command's options\n`;
}

function commandHelp(command: Command): string {
  const opts = Object.entries(command.options).map(([name, spec]) => `  --${name}${spec.type === 'string' ? ' VALUE' : ''}${spec.multiple ? ' (repeatable)' : ''}`);
  return `cordon ${command.name}: ${command.summary}\nusage: cordon ${command.name} ${command.usage}\n${opts.length > 0 ? `options:\n${opts.join('\n')}\n` : ''}`;
}

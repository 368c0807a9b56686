/**
 * `cordon hook <agent>`: the pre-action hook program, through the full CLI. Agents are pointed at
 * bin/cordon-hook.js (the same code, faster start); this verb exists for manual runs and tests.
 */
import { hookMain } from '../../hooks/main.ts';
import { HOOK_AGENTS } from '../../hooks/types.ts';
import type { Command } from '../command.ts';

const hook: Command = {
  name: 'hook',
  summary: "answer an agent's pre-action hook (JSON on stdin) with Cordon's decision",
  usage: `<${HOOK_AGENTS.join('|')}>  (reads the agent's hook JSON on stdin)`,
  options: {},
  positionals: true,
  async run(ctx, args) {
    return hookMain(args.positionals, { stdin: process.stdin, stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env });
  },
};

export const hookCommands: readonly Command[] = [hook];

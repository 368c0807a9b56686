/** `cordon approvals list|allow|deny`: answer what policy asked about, from a terminal. */
import type { Approval, ApprovalAnswer, ApprovalSubject } from '../../api/approvals.ts';
import { connectControl } from '../../client/controlClient.ts';
import { flag, UsageError, writeJson, type Command, type CommandContext, type ParsedArgs } from '../command.ts';

const list: Command = {
  name: 'approvals list',
  summary: 'list pending approvals (--all: recent answered ones too)',
  usage: '[--all] [--json]',
  options: { all: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const client = await connectControl(ctx.paths.socketPath);
    try {
      const approvals = await client.call('approvals', { all: flag(args, 'all') });
      if (flag(args, 'json')) writeJson(ctx.stdout, approvals);
      else if (approvals.length === 0) ctx.stdout.write('no pending approvals\n');
      else for (const a of approvals) ctx.stdout.write(formatApproval(a));
      return 0;
    } finally {
      client.close();
    }
  },
};

const allow = answerCommand('allow', 'allow-once', 'allow-always');
const deny = answerCommand('deny', 'deny', 'deny-always');

export const approvalCommands: readonly Command[] = [list, allow, deny];

function answerCommand(verb: 'allow' | 'deny', once: ApprovalAnswer, always: ApprovalAnswer): Command {
  return {
    name: `approvals ${verb}`,
    summary: `${verb} a pending approval (--always: remember it as a rule for this agent)`,
    usage: 'ID [--always] [--json]',
    options: { always: { type: 'boolean' }, json: { type: 'boolean' } },
    positionals: true,
    run: (ctx, args) => answer(ctx, args, flag(args, 'always') ? always : once),
  };
}

async function answer(ctx: CommandContext, args: ParsedArgs, value: ApprovalAnswer): Promise<number> {
  const [id, extra] = args.positionals;
  if (!id || extra !== undefined) throw new UsageError('give exactly one approval id (see cordon approvals list)');
  const client = await connectControl(ctx.paths.socketPath);
  try {
    const settled = await client.call('answerApproval', { id, answer: value });
    if (flag(args, 'json')) writeJson(ctx.stdout, settled);
    else ctx.stdout.write(`${settled.id}: ${settled.status} (${value}), ${settled.count} request(s)\n`);
    return 0;
  } finally {
    client.close();
  }
}

export function formatApproval(a: Approval): string {
  const who = a.agent ? `${a.agent.name} (pid ${a.agent.pid})` : 'an unattributed process';
  const lines = [
    `${a.id}  ${a.status.toUpperCase()}  ${describe(a.subject)}`,
    `  who:      ${who}${a.project ? ` in ${a.project}` : ''}`,
    `  chain:    ${a.chain.join(' <- ')}`,
    `  why:      ${a.reasons.map((r) => r.message).join('; ') || a.rule}`,
    `  rule:     ${a.rule}`,
    a.status === 'pending' ? `  default:  ${a.defaultAction} at ${a.expiresAt} (${a.count} request(s) waiting)` : `  answer:   ${a.answer?.answer ?? ''} by ${a.answer?.by ?? ''} at ${a.answer?.at ?? ''}`,
  ];
  return `${lines.join('\n')}\n`;
}

function describe(s: ApprovalSubject): string {
  switch (s.kind) {
    case 'egress':
      return `${s.method ? `${s.method} ` : 'connect '}${s.host}:${s.port}${s.path ?? ''}`;
    case 'command':
      return `run: ${s.command}`;
    case 'mcp-tool':
      return `MCP tool ${s.server} / ${s.tool}`;
    case 'file':
      return `${s.operation} ${s.path}`;
  }
}

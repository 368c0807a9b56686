/**
 * Approvals: a request that policy says "ask" about waits here until a person answers it (tray
 * prompt, console, `cordon approvals`), it times out to its default action, or the prompt budget
 * refuses to ask. Types only.
 */
import type { AgentPrincipal, DecisionReason } from './enforcement.ts';
import type { DestinationContext } from './sync.ts';

/** What is being asked about. */
export type ApprovalSubject =
  | { readonly kind: 'egress'; readonly host: string; readonly port: number; readonly method?: string; readonly path?: string }
  | { readonly kind: 'command'; readonly command: string; readonly cwd: string | null }
  | { readonly kind: 'mcp-tool'; readonly server: string; readonly tool: string }
  | { readonly kind: 'file'; readonly path: string; readonly operation: string };

export type ApprovalAnswer = 'allow-once' | 'allow-always' | 'deny' | 'deny-always';

export type ApprovalStatus = 'pending' | 'allowed' | 'denied' | 'expired' | 'refused';

export type Approval = {
  readonly id: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** What happens when nobody answers in time. */
  readonly defaultAction: 'allow' | 'deny';
  readonly agent: AgentPrincipal | null;
  /** The process chain, self first, as "exe (pid)" strings. */
  readonly chain: readonly string[];
  /** Project directory (cwd of the agent process) when known. */
  readonly project: string | null;
  readonly subject: ApprovalSubject;
  readonly reasons: readonly DecisionReason[];
  /** The rule that asked. */
  readonly rule: string;
  /** How many requests are waiting on this one approval (bursts coalesce). */
  readonly count: number;
  /** Fleet context when enrolled: how many other devices allowed or blocked this destination. */
  readonly fleet?: DestinationContext;
  readonly status: ApprovalStatus;
  readonly answer?: {
    readonly answer: ApprovalAnswer | 'timeout' | 'budget';
    readonly by: 'user' | 'timeout' | 'budget';
    readonly at: string;
  };
};

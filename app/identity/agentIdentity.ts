/**
 * Who a DPoP key belongs to: an agent kind, the executable that runs it and the OS user, plus a
 * process instance when policy wants one key per running process. The identity id is the short
 * string `cordon keys` prints and `--agent` accepts.
 */
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { CoreError } from '../api/errors.ts';

/**
 * One agent identity. `executable` is null for an identity named by kind only (what
 * `--agent claude-code` creates: any install of that agent run by this user); `instance` is set
 * only when policy asks for a key per process instance.
 */
export type AgentIdentity = Readonly<{
  kind: string;
  executable: string | null;
  user: string;
  instance: string | null;
}>;

const KIND_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const INSTANCE_RE = /^[A-Za-z0-9._-]{1,64}$/;
const USER_RE = /^[^\s@:#/\\]{1,64}$/;

/** The current OS user name (the third part of every identity made on this machine). */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/**
 * Builds a validated identity.
 * @param kind an agent kind such as "claude-code" (or any id of letters, digits, ".", "_", "-")
 */
export function agentIdentity(
  kind: string,
  options: Readonly<{ executable?: string | null; user?: string; instance?: string | null }> = {},
): AgentIdentity {
  if (!KIND_RE.test(kind)) {
    throw new CoreError('ERR_BAD_REQUEST', `invalid agent id '${printable(kind)}': use letters, digits, '.', '_' or '-' (at most 64)`);
  }
  const user = options.user ?? currentUser();
  if (!USER_RE.test(user)) throw new CoreError('ERR_BAD_REQUEST', 'invalid OS user name for an agent identity');
  const executable = options.executable ?? null;
  if (executable !== null && (executable.length === 0 || executable.length > 4096 || /[\0\r\n]/.test(executable))) {
    throw new CoreError('ERR_BAD_REQUEST', 'invalid executable path for an agent identity');
  }
  const instance = options.instance ?? null;
  if (instance !== null && !INSTANCE_RE.test(instance)) {
    throw new CoreError('ERR_BAD_REQUEST', `invalid process instance '${printable(instance)}'`);
  }
  return { kind, executable, user, instance };
}

/**
 * The identity's id: `kind[:exe][#instance]@user`, where exe is 12 hex chars of SHA-256 over the
 * executable path. Examples: `claude-code@alice`, `claude-code:3f9a12bc04de@alice`,
 * `codex:8e0d5b7711aa#4242@alice`.
 */
export function agentIdentityId(identity: AgentIdentity): string {
  const exe = identity.executable === null ? '' : `:${executableTag(identity.executable)}`;
  const inst = identity.instance === null ? '' : `#${identity.instance}`;
  return `${identity.kind}${exe}${inst}@${identity.user}`;
}

/** 12 hex chars of SHA-256 over an executable path. */
export function executableTag(executable: string): string {
  return createHash('sha256').update(executable).digest('hex').slice(0, 12);
}

/**
 * How `--agent ID` selects keys: an exact identity id (as `cordon keys list` prints it) selects
 * that identity; a bare kind ("claude-code") selects every identity of that kind for the current
 * user. `identity` is what `cordon dpop proof` creates when nothing matches: the kind-only
 * identity `kind@user`.
 */
export type AgentSelector = Readonly<{ text: string; isExactId: boolean; kind: string; identity: AgentIdentity | null }>;

export function parseAgentSelector(text: string, user: string = currentUser()): AgentSelector {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw new CoreError('ERR_BAD_REQUEST', 'empty or overlong --agent value');
  if (trimmed.includes('@')) {
    const kind = trimmed.split(/[:#@]/, 1)[0] ?? '';
    if (!KIND_RE.test(kind)) throw new CoreError('ERR_BAD_REQUEST', `invalid agent id '${printable(trimmed)}'`);
    return { text: trimmed, isExactId: true, kind, identity: null };
  }
  return { text: trimmed, isExactId: false, kind: trimmed, identity: agentIdentity(trimmed, { user }) };
}

/** True when the identity (by id) is what the selector names. */
export function selectorMatches(selector: AgentSelector, identity: AgentIdentity, user: string = currentUser()): boolean {
  if (selector.isExactId) return agentIdentityId(identity) === selector.text;
  return identity.kind === selector.kind && identity.user === user;
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}

/**
 * Editing the user policy file (<configDir>/policy.yaml) from approvals: "allow always" and "deny
 * always" answers become user-layer rules. Edits go through the yaml Document API so comments and
 * layout survive, are written atomically (temp file, fsync, rename), and are refused when the file
 * changed since it was read or would become invalid.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isMap, isSeq, parseDocument, type Document, type YAMLSeq } from 'yaml';
import type { LocalRule, PolicyProblem, PolicyRule } from '../api/policy.ts';
import { SECRET_FLAG_CODES, FLAG_CODES } from '../api/policy.ts';
import { CoreError } from '../api/errors.ts';
import { readTextFile } from '../discovery/safeRead.ts';
import type { CordonPaths } from '../util/paths.ts';
import type { DecisionInput } from './decide.ts';
import { userPolicyFile } from './load.ts';
import { normalizeRequestHost } from './net.ts';
import { MAX_POLICY_BYTES, parsePolicyText, parsePolicyValue } from './parse.ts';

const NEW_FILE_HEADER = `# Cordon user policy. Check it with: cordon policy check <this file>
# Rules are matched in order (the first match wins in this file); "always" answers to approvals
# are inserted at the top. IT (managed) and fleet policies can only be made stricter here.
version: 1
`;

export type EditRulesResult =
  | { readonly ok: true; readonly file: string; readonly ids: readonly string[]; readonly hash: string }
  | {
      readonly ok: false;
      /** invalid-rule: the rule itself; invalid-file: the file must be fixed first; conflict: changed since read (or since expectedHash). */
      readonly reason: 'invalid-rule' | 'invalid-file' | 'duplicate-id' | 'not-found' | 'conflict';
      readonly message: string;
      readonly problems?: readonly PolicyProblem[];
    };

export type EditOptions = Readonly<{
  /** Refuse unless the file's current content hashes to this (from readUserPolicy): optimistic locking for UIs. */
  expectedHash?: string;
}>;

type AnyRule = { kind: 'egress'; rule: PolicyRule } | { kind: 'local'; rule: LocalRule };

/** Serializes edits per file within this process (the daemon answers approvals concurrently). */
const queues = new Map<string, Promise<unknown>>();

/** The user policy file's text and content hash ("" and the hash of "" when missing). */
export async function readUserPolicy(paths: CordonPaths): Promise<{ file: string; text: string; hash: string }> {
  const file = userPolicyFile(paths);
  const text = await readCurrent(file);
  return { file, text: text ?? '', hash: hashOf(text ?? '') };
}

/**
 * Inserts egress rules at the top of `rules:` (so the newest answer is the first match) in the
 * user policy file, creating it when absent. Expected refusals are values; IO failures throw
 * CoreError ERR_INTERNAL.
 */
export async function addUserRule(paths: CordonPaths, rule: PolicyRule | readonly PolicyRule[], options: EditOptions = {}): Promise<EditRulesResult> {
  const rules = Array.isArray(rule) ? (rule as readonly PolicyRule[]) : [rule as PolicyRule];
  return addRules(paths, rules.map((r) => ({ kind: 'egress', rule: r })), options);
}

/** Inserts a local-action rule at the top of `local:` in the user policy file. */
export async function addUserLocalRule(paths: CordonPaths, rule: LocalRule, options: EditOptions = {}): Promise<EditRulesResult> {
  return addRules(paths, [{ kind: 'local', rule }], options);
}

/** Removes the rule (egress or local) with this id from the user policy file. */
export async function removeUserRule(paths: CordonPaths, id: string, options: EditOptions = {}): Promise<EditRulesResult> {
  const file = userPolicyFile(paths);
  return serialized(file, async () => {
    const original = await readCurrent(file);
    if (original === null) return { ok: false, reason: 'not-found', message: `${file} does not exist` };
    return edit(file, original, options, (doc) => {
      for (const section of ['rules', 'local']) {
        const seq = doc.get(section);
        if (!isSeq(seq)) continue;
        const index = seq.items.findIndex((item) => isMap(item) && item.get('id') === id);
        if (index >= 0) {
          seq.items.splice(index, 1);
          return null;
        }
      }
      return { ok: false, reason: 'not-found', message: `no rule "${id}" in ${file}` };
    }, []);
  });
}

/**
 * The rules an "always" answer becomes: one destination rule for this agent kind, destination
 * and port; for "allow", also one rule allowing the raised signals there (secret signals only
 * with includeSecrets: an answer about a leaked secret should not silence the next one).
 */
export function rulesFromAnswer(input: DecisionInput, answer: 'allow' | 'deny', options: { includeSecrets?: boolean; note?: string } = {}): PolicyRule[] {
  const { request, principal } = input;
  const agent = principal.attributed && principal.agent ? principal.agent.kind : '*';
  const host = normalizeRequestHost(request.host);
  const where: Partial<PolicyRule> = !host ? { hosts: [request.host] } : host.kind === 'name' ? { hosts: [host.name] } : { ips: [host.text] };
  const destination = host ? (host.kind === 'name' ? host.name : host.text) : request.host;
  const base = `always-${answer}-${agent === '*' ? 'any' : agent}-${destination}-${request.port}`;
  const id = (suffix: string): string => sanitizeId(`${base}${suffix}`);
  const description = options.note ?? `"${answer} always" answer`;
  const out: PolicyRule[] = [{ id: id(''), description, agents: [agent], action: answer, ...where, ports: [request.port] }];
  if (answer === 'allow') {
    const known = new Set<string>(FLAG_CODES);
    const raised = new Set<string>((input.flags ?? []).map((f) => (typeof f === 'string' ? f : f.code)));
    if (input.secrets) raised.add('secrets');
    const signals = [...raised].filter((c) => known.has(c) && (options.includeSecrets === true || !SECRET_FLAG_CODES.includes(c as never)));
    if (signals.length > 0) {
      out.push({ id: id('-signals'), description, agents: [agent], action: 'allow', ...where, ports: [request.port], flags: signals as PolicyRule['flags'] });
    }
  }
  return out;
}

async function addRules(paths: CordonPaths, rules: readonly AnyRule[], options: EditOptions): Promise<EditRulesResult> {
  const file = userPolicyFile(paths);
  const check = parsePolicyValue(
    { version: 1, rules: rules.filter((r) => r.kind === 'egress').map((r) => r.rule), local: rules.filter((r) => r.kind === 'local').map((r) => r.rule) },
    '<new rule>',
  );
  if (!check.ok) return { ok: false, reason: 'invalid-rule', message: check.problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems: check.problems };
  return serialized(file, async () => {
    const original = (await readCurrent(file)) ?? '';
    const text = original.trim() === '' ? NEW_FILE_HEADER : original;
    return edit(file, original, options, (doc) => {
      for (const { kind, rule } of [...rules].reverse()) {
        const section = kind === 'egress' ? 'rules' : 'local';
        let seq = doc.get(section);
        if (!isSeq(seq) || (seq.flow === true && seq.items.length === 0)) {
          seq = doc.createNode([]) as YAMLSeq;
          doc.set(section, seq);
        }
        const list = seq as YAMLSeq;
        // A comment between "rules:" and the first rule belongs to that rule: keep it there.
        const first = list.items[0];
        if (list.commentBefore && first && isMap(first)) {
          first.commentBefore = first.commentBefore ? `${list.commentBefore}\n${first.commentBefore}` : list.commentBefore;
          list.commentBefore = undefined;
        }
        const node = doc.createNode(rule);
        compactLists(node);
        list.items.unshift(node);
      }
      return null;
    }, rules.map((r) => r.rule.id), text);
  });
}

/**
 * Applies `change` to the parsed file and writes it, refusing when the file is invalid before or
 * after, has a duplicate id, or changed on disk since it was read.
 */
async function edit(
  file: string,
  original: string,
  options: EditOptions,
  change: (doc: Document) => EditRulesResult | null,
  newIds: readonly string[],
  startText: string = original,
): Promise<EditRulesResult> {
  if (options.expectedHash !== undefined && options.expectedHash !== hashOf(original)) {
    return { ok: false, reason: 'conflict', message: `${file} changed since it was read: reload and try again` };
  }
  const before = parsePolicyText(startText, file);
  if (!before.ok) return { ok: false, reason: 'invalid-file', message: `${file} is not a valid policy: fix it first (cordon policy check ${file})`, problems: before.problems };
  const existing = new Set([...(before.policy.document.rules ?? []), ...(before.policy.document.local ?? [])].map((r) => r.id));
  const dup = newIds.find((id) => existing.has(id));
  if (dup !== undefined) return { ok: false, reason: 'duplicate-id', message: `${file} already has a rule "${dup}"` };
  const doc = parseDocument(startText, { keepSourceTokens: false });
  const refused = change(doc);
  if (refused) return refused;
  const text = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  const after = parsePolicyText(text, file);
  if (!after.ok) return { ok: false, reason: 'invalid-rule', message: 'the edited policy would be invalid', problems: after.problems };
  // Optimistic lock: what is on disk now must still be what we read.
  if (((await readCurrent(file)) ?? '') !== original) return { ok: false, reason: 'conflict', message: `${file} changed while it was being edited: try again` };
  await writeAtomic(file, text);
  return { ok: true, file, ids: newIds, hash: hashOf(text) };
}

function compactLists(node: unknown): void {
  if (!isMap(node)) return;
  for (const pair of node.items) {
    const value = pair.value;
    if (isSeq(value) && value.items.every((i) => !isMap(i))) value.flow = true;
    if (isMap(value)) value.flow = true;
  }
}

function serialized<T>(file: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  const run = previous.then(task, task);
  const settled = run.catch(() => undefined);
  queues.set(file, settled);
  void settled.then(() => {
    if (queues.get(file) === settled) queues.delete(file);
  });
  return run;
}

async function readCurrent(file: string): Promise<string | null> {
  const read = await readTextFile(file, { maxBytes: MAX_POLICY_BYTES });
  if (read.kind === 'missing') return null;
  if (read.kind === 'error') throw new CoreError('ERR_INTERNAL', `cannot read ${file}: ${read.error.message}`);
  return read.text;
}

/** Temp file in the same directory, fsync, rename; keeps an existing file's mode and a symlink's target. */
async function writeAtomic(file: string, text: string): Promise<void> {
  let target = file;
  try {
    if ((await lstat(file)).isSymbolicLink()) target = await realpath(file);
  } catch {
    // Missing: create it at the given path.
  }
  const dir = dirname(target);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let mode = 0o600;
  try {
    mode = (await stat(target)).mode & 0o777;
  } catch {
    // New file.
  }
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temp, mode);
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new CoreError('ERR_INTERNAL', `cannot write ${target}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function sanitizeId(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  if (cleaned.length <= 128) return cleaned;
  return `${cleaned.slice(0, 115)}-${createHash('sha256').update(raw).digest('hex').slice(0, 12)}`;
}

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

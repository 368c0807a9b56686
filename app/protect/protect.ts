/**
 * `cordon agents protect | unprotect | status`: puts an agent's pre-action hook (and, where the
 * agent has a place for it, the proxy and CA environment) into the agent's own files, takes it
 * out again, and tells whether it is still intact (drift). With --mcp it also routes the agent's
 * stdio MCP servers through the gateway, their literal env secrets moved to the keychain
 * (mcpRoute.ts); unprotect puts the secrets back and deletes those credentials. Outcomes are
 * values, never throws.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCredentialStore, type CredentialStore } from '../identity/credentials.ts';
import { createOsKeyStore, DEFAULT_KEYCHAIN_SERVICE } from '../identity/keyStore.ts';
import type { CordonPaths } from '../util/paths.ts';
import { EDITORS } from './editors.ts';
import { deleteRecord, readBackup, readRecord, readSnapshot, sha256, writeBackup, writeChecked, writeRecord } from './fileStore.ts';
import { mcpLauncher } from './hookCommand.ts';
import { agentFiles, mcpFile, protectFiles, type AgentFile } from './locations.ts';
import { redactSecrets, restoreSecrets, routedNotes, routeJson, routeToml, unroutedServers, unrouteJson, unrouteToml, type RouteResult, type SecretLookup, type SecretMove } from './mcpRoute.ts';
import {
  ProtectRefusal,
  type FileRecord,
  type FileState,
  type ProtectAgent,
  type ProtectionState,
  type ProtectOutcome,
  type ProtectRecord,
  type ProtectScope,
  type ProtectSettings,
  type ProtectWhere,
  type RoutedServer,
} from './types.ts';

export type ProtectContext = Readonly<{
  where: ProtectWhere;
  stateDir: string;
  /** Where MCP secrets moved out of configs are kept (absent: routing refuses to move secrets). */
  credentials?: CredentialStore;
}>;

/** The context for this user: agents' files under `home`, Cordon's records under its data dir. */
export function protectContext(paths: CordonPaths, env: NodeJS.ProcessEnv, home: string, platform: NodeJS.Platform = process.platform): ProtectContext {
  let credentials: CredentialStore | undefined;
  try {
    credentials = createCredentialStore(createOsKeyStore({ service: env.CORDON_KEYCHAIN_SERVICE || DEFAULT_KEYCHAIN_SERVICE }), paths.dataDir);
  } catch {
    // An invalid CORDON_KEYCHAIN_SERVICE: protect still works, moving MCP secrets is refused.
  }
  return { where: { home, env, platform }, stateDir: join(paths.dataDir, 'protect'), ...(credentials ? { credentials } : {}) };
}

/** Installs (or re-installs over drift) Cordon's protection of one agent. */
export async function protectAgent(agent: ProtectAgent, scope: ProtectScope, settings: ProtectSettings, ctx: ProtectContext): Promise<ProtectOutcome> {
  const notes: string[] = [];
  const touched: string[] = [];
  const previous = await readRecord(ctx.stateDir, agent, scope);
  if (settings.mcp && scope !== 'user') return { agent, scope, status: 'failed', files: [], notes: ['routing MCP servers edits the user\'s own MCP config: use --scope user'] };
  // Protected with --mcp once: re-applying (the daemon, over drift) keeps routing.
  const launcher = settings.mcp ?? (previous?.routeMcp && scope === 'user' ? mcpLauncher() : undefined);
  const files = protectFiles(agent, scope, ctx.where, launcher !== undefined);
  const mcpPath = launcher ? mcpFile(agent, ctx.where).path : null;
  const record: ProtectRecord = {
    version: 1,
    agent,
    scope,
    installedAt: new Date().toISOString(),
    hookCommand: settings.hookCommand,
    ...(launcher ? { routeMcp: true } : {}),
    files: [...(previous?.files ?? [])],
  };
  const known = new Set(credentialsOf(previous));
  // Credentials stored in this run and not yet in a saved record: deleted again if the run fails.
  let pending: string[] = [];
  try {
    for (const file of files) {
      const snap = await readSnapshot(file.path);
      if (file.role === 'mcp-config' && snap.text === null) continue;
      let route: RouteResult | null = null;
      if (launcher && file.path === mcpPath && snap.text !== null) {
        const own = record.files.find((f) => f.path === file.path)?.mcp ?? {};
        route = file.format === 'toml' ? routeToml(snap.text, file.path, agent, launcher, own) : routeJson(snap.text, file.path, agent, launcher, own);
        notes.push(...route.notes);
      }
      const applied = EDITORS[file.role].apply(route ? route.text : snap.text, file.path, settings);
      notes.push(...applied.notes);
      const old = record.files.find((f) => f.path === file.path);
      // Nothing to change: already protected, or a Codex config / MCP file with nothing to route.
      if (applied.text === (snap.text ?? '') && (old || file.role === 'codex-config' || file.role === 'mcp-config')) continue;
      const moves = route?.moves ?? [];
      pending = await storeSecrets(ctx, moves, known);
      // The first edit keeps the original (its moved secrets as placeholders); later ones keep that first backup.
      const entry: FileRecord = old
        ? { ...old, env: mergeEnv(old.env, applied.env) }
        : { path: file.path, existed: snap.text !== null, backup: snap.text !== null ? await writeBackup(ctx.stateDir, agent, scope, file.path, redactSecrets(snap.text, moves)) : null, writtenHash: '', env: applied.env };
      if (route && Object.keys(route.routed).length > 0) entry.mcp = mergeRouted(old?.mcp ?? {}, route.routed);
      const result = await writeChecked(file.path, applied.text, snap.hash);
      if (result === 'changed') {
        if (!old && entry.backup) await rm(entry.backup, { force: true });
        await forgetSecrets(ctx, pending);
        await saveIfAny(ctx, record);
        return { agent, scope, status: 'conflict', files: touched, notes: [...notes, `${file.path} changed while Cordon was editing it: nothing was written to it; run the command again`] };
      }
      if (old?.backup && moves.length > 0) await redactBackup(old.backup, moves);
      entry.writtenHash = sha256(applied.text);
      record.files = [...record.files.filter((f) => f.path !== file.path), entry];
      touched.push(file.path);
      if (route) notes.push(...routedNotes(route));
      await writeRecord(ctx.stateDir, record);
      for (const id of pending) known.add(id);
      pending = [];
    }
  } catch (error) {
    await forgetSecrets(ctx, pending);
    await saveIfAny(ctx, record);
    return { agent, scope, status: 'failed', files: touched, notes: [...notes, messageOf(error)] };
  }
  if (touched.length === 0) return { agent, scope, status: 'unchanged', files: [], notes: [...notes, `${agent} is already protected (${scope})`] };
  return { agent, scope, status: 'protected', files: touched, notes };
}

/**
 * Removes Cordon's protection. A file that still holds exactly what Cordon wrote gets its
 * original bytes back; one the user edited since keeps the edits and loses only Cordon's entries.
 * MCP secrets Cordon moved go back into the file, and their credentials are deleted.
 */
export async function unprotectAgent(agent: ProtectAgent, scope: ProtectScope, ctx: ProtectContext): Promise<ProtectOutcome> {
  const record = await readRecord(ctx.stateDir, agent, scope);
  const notes: string[] = [];
  const touched: string[] = [];
  const entries: FileRecord[] = record?.files ?? agentFiles(agent, scope, ctx.where).map((f) => ({ path: f.path, existed: true, backup: null, writtenHash: '', env: {} }));
  let secrets: SecretLookup;
  try {
    secrets = await readSecrets(ctx, entries);
  } catch (error) {
    return { agent, scope, status: 'failed', files: [], notes: [`${messageOf(error)}: the MCP secrets Cordon moved cannot be put back, so nothing was changed`] };
  }
  const restored = new Set<string>();
  try {
    for (const entry of entries) {
      const file = fileOf(agent, scope, ctx, entry.path);
      const snap = await readSnapshot(entry.path);
      if (snap.text === null || !file) continue;
      // Only Cordon's entries go: hooks and environment, then the MCP routing under them.
      const strip = (text: string): string => {
        const out = EDITORS[file.role].remove(text, entry.path, entry.env);
        if (!entry.mcp) return out;
        const undone = file.format === 'toml' ? unrouteToml(out, secrets) : unrouteJson(out, entry.path, entry.mcp, secrets);
        for (const id of undone.restored) restored.add(id);
        notes.push(...undone.notes);
        return undone.text;
      };
      let next: string | null;
      if (snap.hash === entry.writtenHash) {
        const backup = entry.existed ? await readBackup(entry.backup ?? '') : null;
        if (backup !== null) {
          const filled = restoreSecrets(backup, secrets);
          for (const id of filled.restored) restored.add(id);
          for (const id of filled.missing) notes.push(`the secret of credential ${id} is no longer in the keychain: ${entry.path} got it back empty`);
          next = filled.text;
        } else if (entry.existed) {
          next = strip(snap.text);
          notes.push(`the backup of ${entry.path} is gone: removed only Cordon's entries`);
        } else next = null;
      } else {
        next = strip(snap.text);
        if (next === snap.text) continue;
        if (record) notes.push(`${entry.path} changed since Cordon wrote it: removed only Cordon's entries and kept your edits`);
      }
      const result = await writeChecked(entry.path, next, snap.hash);
      if (result === 'changed') return { agent, scope, status: 'conflict', files: touched, notes: [...notes, `${entry.path} changed while Cordon was editing it: run the command again`] };
      touched.push(entry.path);
    }
  } catch (error) {
    return { agent, scope, status: 'failed', files: touched, notes: [...notes, messageOf(error)] };
  }
  notes.push(...(await dropCredentials(ctx, record, restored)));
  if (record) await deleteRecord(ctx.stateDir, record);
  if (touched.length === 0) return { agent, scope, status: 'unchanged', files: [], notes: [...notes, `${agent} was not protected (${scope})`] };
  return { agent, scope, status: 'unprotected', files: touched, notes };
}

/**
 * Whether Cordon's protection of an agent is in place: read-only, cheap enough for the daemon to
 * poll. drifted = Cordon protected it, and the hook or environment is now missing or altered, or
 * the agent's files switch hooks off.
 */
export async function protectionState(agent: ProtectAgent, scope: ProtectScope, ctx: ProtectContext): Promise<ProtectionState> {
  const record = await readRecord(ctx.stateDir, agent, scope);
  const states: FileState[] = [];
  for (const file of protectFiles(agent, scope, ctx.where, record?.routeMcp === true)) {
    let text: string | null = null;
    const problems: string[] = [];
    try {
      text = (await readSnapshot(file.path)).text;
    } catch (error) {
      problems.push(messageOf(error));
    }
    const entry = record?.files.find((f) => f.path === file.path);
    const command = record?.hookCommand ?? '';
    const s = EDITORS[file.role].state(text, file.path, command, entry?.env ?? {});
    const hook = s.hook === 'n/a' || record ? s.hook : s.hook === 'missing' ? 'missing' : 'altered';
    const unrouted = entry?.mcp ? unroutedServers(text, file.format, entry.mcp) : [];
    if (unrouted.length > 0) problems.push(`MCP server${unrouted.length > 1 ? 's' : ''} ${unrouted.map((n) => `"${n}"`).join(', ')} no longer go${unrouted.length > 1 ? '' : 'es'} through the Cordon gateway`);
    const mcp = entry?.mcp ? { mcp: unrouted.length > 0 ? ('altered' as const) : ('ok' as const) } : {};
    states.push({ path: file.path, exists: text !== null, hook, env: s.env, ...mcp, problems: [...problems, ...s.problems] });
  }
  const hooksOk = states.every((s) => s.hook === 'ok' || s.hook === 'n/a');
  const intact = hooksOk && states.every((s) => s.env !== 'missing' && s.problems.length === 0);
  return { agent, scope, recorded: record !== null, protected: record !== null && hooksOk, drifted: record !== null && !intact, files: states };
}

function mergeEnv(old: FileRecord['env'], next: FileRecord['env']): FileRecord['env'] {
  const out: FileRecord['env'] = {};
  for (const [key, value] of Object.entries(next)) {
    const before = old[key];
    // Re-applying keeps the value the user had before Cordon's first edit.
    out[key] = before && (value.previous === before.ours || value.previous === null) ? { ours: value.ours, previous: before.previous } : value;
  }
  return out;
}

/** Servers routed again keep every credential recorded for them before (unprotect deletes them all). */
function mergeRouted(old: Readonly<Record<string, RoutedServer>>, next: Readonly<Record<string, RoutedServer>>): Record<string, RoutedServer> {
  const out: Record<string, RoutedServer> = { ...old };
  for (const [name, server] of Object.entries(next)) out[name] = { ...server, secrets: { ...old[name]?.secrets, ...server.secrets } };
  return out;
}

/** The file at `path` among those protect may have edited for this agent (the MCP file included). */
function fileOf(agent: ProtectAgent, scope: ProtectScope, ctx: ProtectContext, path: string): AgentFile | undefined {
  return protectFiles(agent, scope, ctx.where, true).find((f) => f.path === path);
}

function credentialsOf(record: ProtectRecord | null): string[] {
  return (record?.files ?? []).flatMap((f) => Object.values(f.mcp ?? {}).flatMap((s) => Object.values(s.secrets)));
}

/** Stores moved secrets in the keychain before the file loses them; returns the ones new to the record. */
async function storeSecrets(ctx: ProtectContext, moves: readonly SecretMove[], known: ReadonlySet<string>): Promise<string[]> {
  if (moves.length === 0) return [];
  if (!ctx.credentials) throw new ProtectRefusal('the OS keychain is not available: cannot move MCP secrets into it');
  const added: string[] = [];
  try {
    for (const m of moves) {
      await ctx.credentials.setLocal(m.credential, m.value, m.gateway);
      if (!known.has(m.credential)) added.push(m.credential);
    }
  } catch (error) {
    await forgetSecrets(ctx, added);
    throw new ProtectRefusal(`cannot store an MCP secret in the OS keychain (${error instanceof Error ? error.message : String(error)}): nothing was moved`);
  }
  return added;
}

async function forgetSecrets(ctx: ProtectContext, ids: readonly string[]): Promise<void> {
  for (const id of ids) await ctx.credentials?.remove(id).catch(() => false);
}

/** An older backup that still holds a secret now moved gets the placeholder instead. */
async function redactBackup(path: string, moves: readonly SecretMove[]): Promise<void> {
  const text = await readBackup(path);
  if (text === null) return;
  const redacted = redactSecrets(text, moves);
  if (redacted !== text) await writeFile(path, redacted, { mode: 0o600 });
}

/** The secrets of every credential the record lists (null where the keychain no longer has one). */
async function readSecrets(ctx: ProtectContext, entries: readonly FileRecord[]): Promise<SecretLookup> {
  const out = new Map<string, string | null>();
  const wanted = entries.flatMap((f) => Object.values(f.mcp ?? {}).flatMap((s) => Object.values(s.secrets).map((id) => [id, s.gateway] as const)));
  if (wanted.length === 0) return out;
  if (!ctx.credentials) throw new ProtectRefusal('the OS keychain is not available');
  for (const [id, gateway] of wanted) {
    try {
      out.set(id, await ctx.credentials.localSecret(id, gateway));
    } catch (error) {
      throw new ProtectRefusal(`cannot read credential ${id} from the OS keychain (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return out;
}

/** Deletes the credentials whose secret is back in a file; keeps (and names) the others. */
async function dropCredentials(ctx: ProtectContext, record: ProtectRecord | null, restored: ReadonlySet<string>): Promise<string[]> {
  const notes: string[] = [];
  for (const id of new Set(credentialsOf(record))) {
    if (!restored.has(id)) {
      notes.push(`credential ${id} was kept in the keychain: its secret did not go back into a file (remove it with cordon credentials remove --name ${id})`);
      continue;
    }
    const removed = await ctx.credentials?.remove(id).then(() => true, () => false);
    if (!removed) notes.push(`credential ${id} could not be deleted from the keychain: remove it with cordon credentials remove --name ${id}`);
  }
  return notes;
}

async function saveIfAny(ctx: ProtectContext, record: ProtectRecord): Promise<void> {
  if (record.files.length > 0) await writeRecord(ctx.stateDir, record);
}

function messageOf(error: unknown): string {
  if (error instanceof ProtectRefusal) return error.message;
  return `internal error: ${error instanceof Error ? error.message : String(error)}`;
}

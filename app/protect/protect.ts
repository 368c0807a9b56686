/**
 * `cordon agents protect | unprotect | status`: puts an agent's pre-action hook (and, where the
 * agent has a place for it, the proxy and CA environment) into the agent's own files, takes it
 * out again, and tells whether it is still intact (drift). Outcomes are values, never throws.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CordonPaths } from '../util/paths.ts';
import { EDITORS } from './editors.ts';
import { deleteRecord, readBackup, readRecord, readSnapshot, sha256, writeBackup, writeChecked, writeRecord } from './fileStore.ts';
import { agentFiles } from './locations.ts';
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
} from './types.ts';

export type ProtectContext = Readonly<{ where: ProtectWhere; stateDir: string }>;

/** The context for this user: agents' files under `home`, Cordon's records under its data dir. */
export function protectContext(paths: CordonPaths, env: NodeJS.ProcessEnv, home: string, platform: NodeJS.Platform = process.platform): ProtectContext {
  return { where: { home, env, platform }, stateDir: join(paths.dataDir, 'protect') };
}

/** Installs (or re-installs over drift) Cordon's protection of one agent. */
export async function protectAgent(agent: ProtectAgent, scope: ProtectScope, settings: ProtectSettings, ctx: ProtectContext): Promise<ProtectOutcome> {
  const files = agentFiles(agent, scope, ctx.where);
  const notes: string[] = [];
  const touched: string[] = [];
  const previous = await readRecord(ctx.stateDir, agent, scope);
  const record: ProtectRecord = { version: 1, agent, scope, installedAt: new Date().toISOString(), hookCommand: settings.hookCommand, files: [...(previous?.files ?? [])] };
  try {
    for (const file of files) {
      const snap = await readSnapshot(file.path);
      const applied = EDITORS[file.role].apply(snap.text, file.path, settings);
      notes.push(...applied.notes);
      const old = record.files.find((f) => f.path === file.path);
      // Nothing to change: already protected, or a Codex config without stdio MCP servers.
      if (applied.text === (snap.text ?? '') && (old || file.role === 'codex-config')) continue;
      // The first edit keeps the original; later ones (re-applying over drift) keep that first backup.
      const entry: FileRecord = old
        ? { ...old, env: mergeEnv(old.env, applied.env) }
        : { path: file.path, existed: snap.text !== null, backup: snap.text !== null ? await writeBackup(ctx.stateDir, agent, scope, file.path, snap.text) : null, writtenHash: '', env: applied.env };
      const result = await writeChecked(file.path, applied.text, snap.hash);
      if (result === 'changed') {
        if (!old && entry.backup) await rm(entry.backup, { force: true });
        await saveIfAny(ctx, record);
        return { agent, scope, status: 'conflict', files: touched, notes: [...notes, `${file.path} changed while Cordon was editing it: nothing was written to it; run the command again`] };
      }
      entry.writtenHash = sha256(applied.text);
      record.files = [...record.files.filter((f) => f.path !== file.path), entry];
      touched.push(file.path);
      await writeRecord(ctx.stateDir, record);
    }
  } catch (error) {
    await saveIfAny(ctx, record);
    return { agent, scope, status: 'failed', files: touched, notes: [...notes, messageOf(error)] };
  }
  if (touched.length === 0) return { agent, scope, status: 'unchanged', files: [], notes: [...notes, `${agent} is already protected (${scope})`] };
  return { agent, scope, status: 'protected', files: touched, notes };
}

/**
 * Removes Cordon's protection. A file that still holds exactly what Cordon wrote gets its
 * original bytes back; one the user edited since keeps the edits and loses only Cordon's entries.
 */
export async function unprotectAgent(agent: ProtectAgent, scope: ProtectScope, ctx: ProtectContext): Promise<ProtectOutcome> {
  const record = await readRecord(ctx.stateDir, agent, scope);
  const notes: string[] = [];
  const touched: string[] = [];
  const entries: FileRecord[] = record?.files ?? agentFiles(agent, scope, ctx.where).map((f) => ({ path: f.path, existed: true, backup: null, writtenHash: '', env: {} }));
  try {
    for (const entry of entries) {
      const role = agentFiles(agent, scope, ctx.where).find((f) => f.path === entry.path)?.role;
      const snap = await readSnapshot(entry.path);
      if (snap.text === null || !role) continue;
      let next: string | null;
      if (snap.hash === entry.writtenHash) {
        next = entry.existed ? await readBackup(entry.backup ?? '') : null;
        if (entry.existed && next === null) {
          next = EDITORS[role].remove(snap.text, entry.path, entry.env);
          notes.push(`the backup of ${entry.path} is gone: removed only Cordon's entries`);
        }
      } else {
        next = EDITORS[role].remove(snap.text, entry.path, entry.env);
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
  for (const file of agentFiles(agent, scope, ctx.where)) {
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
    states.push({ path: file.path, exists: text !== null, hook, env: s.env, problems: [...problems, ...s.problems] });
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

async function saveIfAny(ctx: ProtectContext, record: ProtectRecord): Promise<void> {
  if (record.files.length > 0) await writeRecord(ctx.stateDir, record);
}

function messageOf(error: unknown): string {
  if (error instanceof ProtectRefusal) return error.message;
  return `internal error: ${error instanceof Error ? error.message : String(error)}`;
}

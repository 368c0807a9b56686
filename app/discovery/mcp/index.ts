/**
 * MCP server configs of every client, user and project scope. Finds project roots from the
 * clients' registries, asks each client module where its configs live, reads every file once
 * (concurrently, bounded), and turns each entry into a record. Pure reads; never throws.
 */
import { isAbsolute } from 'node:path';
import type { McpServerRecord, ScanError } from '../../api/inventory.ts';
import type { DiscoveryContext } from '../context.ts';
import type { McpScanResult } from '../types.ts';
import { claudeCode } from './claudeCode.ts';
import { claudeDesktop } from './claudeDesktop.ts';
import { codex } from './codex.ts';
import { createConfigStore, type ConfigStore } from './configStore.ts';
import { continueDev } from './continueDev.ts';
import { createFsIndex, createLimiter, type FsIndex } from './fsIndex.ts';
import { gemini } from './gemini.ts';
import { goose } from './goose.ts';
import type { ClientModule, DirSource, ExtractContext, FileSource, Source, SourceContext } from './model.ts';
import { opencode } from './opencode.ts';
import { discoverProjects } from './projects.ts';
import { buildRecord } from './record.ts';
import { cachedRecords, rememberRecords } from './recordCache.ts';
import { standardClients } from './standardClients.ts';
import { vscodeFamily } from './vscodeFamily.ts';
import { zed } from './zed.ts';

/** Every client module, in the order their servers are listed. */
export const CLIENT_MODULES: readonly ClientModule[] = [claudeCode, claudeDesktop, vscodeFamily, standardClients, codex, gemini, continueDev, goose, zed, opencode];

/** File reads and directory listings in flight at once (each holds a file descriptor). */
const MAX_CONCURRENT_IO = 32;

/** Env vars naming base directories: listed directly, without listing their parents first. */
const BASE_DIR_VARS = [
  'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'FLATPAK_XDG_CONFIG_HOME', 'APPDATA', 'LOCALAPPDATA', 'CLAUDE_CONFIG_DIR',
  'CODEX_HOME', 'CONTINUE_GLOBAL_DIR', 'CLINE_DIR', 'COPILOT_HOME', 'VSCODE_PORTABLE', 'OPENCODE_CONFIG_DIR',
];

/** Every MCP server configured on this machine for every client; bad files become errors, never throws. */
export async function scanMcpServers(ctx: DiscoveryContext): Promise<McpScanResult> {
  const limit = createLimiter(MAX_CONCURRENT_IO);
  const anchors = [ctx.home, ...BASE_DIR_VARS.map((name) => ctx.env[name]).filter((dir): dir is string => !!dir && isAbsolute(dir))];
  const fs = createFsIndex(limit, anchors, ctx.fileTimeoutMs);
  const store = createConfigStore(ctx, fs, limit);
  try {
    const found = await discoverProjects(ctx, store, fs);
    fs.addAnchors(found.projects.map((p) => p.root));
    // List every project root up front: most candidates are then ruled out without waiting.
    await Promise.all(found.projects.map((p) => fs.list(p.root)));
    const sc: SourceContext = { ctx, workspaceFiles: found.workspaceFiles, projectRoot: found.projectRoot, projectRootsKey: found.projectRootsKey };
    const sources: Source[] = CLIENT_MODULES.flatMap((client) => client.userSources(sc));
    for (const project of found.projects) {
      for (const client of CLIENT_MODULES) sources.push(...(client.projectSources?.(sc, project) ?? []));
    }
    fs.expect(sources.flatMap((source) => (source.kind === 'file' ? [source.path] : [])));
    const servers = await readSources(sources, ctx, store, fs);
    return { servers, errors: store.errors(), filesRead: store.filesRead(), watchPaths: store.watchPaths(), projectsScanned: found.projects.length };
  } catch (error) {
    // A bug must not take the agent half of the scan down with it, nor hide what was already found.
    const name = error instanceof Error ? error.name : 'Error';
    store.error({ path: ctx.home, category: 'io', message: `MCP discovery stopped early (${name})` });
    return { servers: [], errors: store.errors(), filesRead: store.filesRead(), watchPaths: store.watchPaths(), projectsScanned: 0 };
  }
}

type FileResult = { source: FileSource; realPath: string; records: readonly McpServerRecord[] } | undefined;

async function readSources(sources: readonly Source[], ctx: DiscoveryContext, store: ConfigStore, fs: FsIndex): Promise<McpServerRecord[]> {
  // Each source reads its files as soon as its own walk (if any) is done: no phase waits for all walks.
  const perSource = await Promise.all(
    sources.map(async (source) => {
      const files = source.kind === 'file' ? [source] : await expand(source, store, fs);
      return Promise.all(files.map((file) => readOne(file, ctx, store)));
    }),
  );
  const records: McpServerRecord[] = [];
  const seenReadings = new Set<string>();
  const seenIds = new Set<string>();
  for (const results of perSource) {
    for (const result of results) {
      if (!result) continue;
      // The same client reading the same real file the same way (home as a project, a symlinked dotfile) counts once.
      const reading = `${result.source.client}\u0000${result.source.tag}\u0000${result.realPath}`;
      if (seenReadings.has(reading)) continue;
      seenReadings.add(reading);
      for (const record of result.records) {
        if (seenIds.has(record.id)) continue;
        seenIds.add(record.id);
        records.push(record);
      }
    }
  }
  return records;
}

async function expand(source: DirSource, store: ConfigStore, fs: FsIndex): Promise<FileSource[]> {
  store.watch(source.dir);
  const walked = await fs.walk(source.dir, { maxDepth: source.maxDepth, match: source.match, ...(source.skip ? { skip: source.skip } : {}) });
  for (const dir of walked.dirs) store.watch(dir);
  for (const error of walked.errors) store.error(error);
  return walked.files.flatMap((path) => source.make(path) ?? []);
}

async function readOne(source: FileSource, ctx: DiscoveryContext, store: ConfigStore): Promise<FileResult> {
  const loaded = await store.load(source.path, source.format, source.client);
  if (loaded.kind !== 'ok') return undefined;
  const key = [source.tag, source.client, source.path, source.scope, source.project ?? '', source.deps ?? ''].join('\u0000');
  const cached = cachedRecords(loaded.value, key);
  if (cached) {
    for (const error of cached.errors) store.error(error);
    return { source, realPath: loaded.realPath, records: cached.records };
  }
  const errors: ScanError[] = [];
  let readOtherFiles = false;
  const ex: ExtractContext = {
    ctx,
    path: source.path,
    report: (entry, message) => errors.push({ path: source.path, category: 'schema', message, client: source.client, ...(entry !== undefined ? { entry } : {}) }),
    load: async (path, format) => {
      readOtherFiles = true;
      const other = await store.load(path, format, source.client);
      return other.kind === 'ok' ? other.value : undefined;
    },
  };
  let records: McpServerRecord[];
  try {
    const servers = await source.extract(loaded.value, ex);
    const origin = { client: source.client, configPath: source.path, scope: source.scope, project: source.project };
    records = servers.map((raw) => buildRecord(origin, raw));
  } catch {
    ex.report(undefined, 'the file could not be interpreted');
    records = [];
  }
  for (const error of errors) store.error(error);
  // What depends on other files (an extension's settings) is rebuilt each scan; the rest is kept.
  if (!readOtherFiles) rememberRecords(loaded.value, key, { records, errors });
  return { source, realPath: loaded.realPath, records };
}

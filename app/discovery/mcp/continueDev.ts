/**
 * Continue: ~/.continue/config.yaml (`mcpServers` is a list of named entries, secrets as
 * ${{ secrets.NAME }}, hub blocks as `uses:`), the legacy config.json
 * (`experimental.modelContextProtocolServers`), and block files in .continue/mcpServers/ (YAML
 * lists, or JSON in the Claude/Cursor format) globally and per project. CONTINUE_GLOBAL_DIR moves it.
 */
import { join } from 'node:path';
import type { DiscoveryContext } from '../context.ts';
import { at, fail, optionalString, own, readEntries, readServerMap, standardEntry, standardReader, wrappedOrFlatServers } from './entries.ts';
import { fileSource, isRecord, type ClientModule, type ExtractContext, type RawServer, type Source } from './model.ts';

const CLIENT = 'continue';

function globalDir(ctx: DiscoveryContext): string {
  return ctx.env.CONTINUE_GLOBAL_DIR ?? join(ctx.home, '.continue');
}

/** Continue's config.yaml, legacy config.json and mcpServers/ block files. */
export const continueDev: ClientModule = {
  userSources({ ctx }) {
    const dir = globalDir(ctx);
    return [
      fileSource(CLIENT, join(dir, 'config.yaml'), 'yaml', 'user', null, 'continue-yaml', (doc, ex) => continueList(at(doc, ['mcpServers'], ex), ex)),
      fileSource(CLIENT, join(dir, 'config.json'), 'json', 'user', null, 'continue-json', legacyConfig),
      blockDir(join(dir, 'mcpServers'), 'user', null),
    ];
  },
  projectSources(_sc, project) {
    return [blockDir(join(project.root, '.continue', 'mcpServers'), 'project', project.root)];
  },
};

function blockDir(dir: string, scope: 'user' | 'project', project: string | null): Source {
  return {
    kind: 'dir',
    dir,
    maxDepth: 0,
    match: (name) => /\.(?:ya?ml|json)$/i.test(name),
    make: (path) =>
      /\.json$/i.test(path)
        ? fileSource(CLIENT, path, 'json', scope, project, 'continue-block-json', wrappedOrFlatServers)
        : fileSource(CLIENT, path, 'yaml', scope, project, 'continue-block', (doc, ex) => continueList(at(doc, ['mcpServers'], ex), ex)),
  };
}

/** A YAML `mcpServers` list: each item named by its `name` (or its `uses` block). */
function continueList(list: unknown, ex: ExtractContext): RawServer[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    ex.report(undefined, '"mcpServers" is not a list');
    return [];
  }
  const named = list.map((item, i): [string, unknown] => {
    const name = isRecord(item) ? (typeof item.name === 'string' ? item.name : typeof item.uses === 'string' ? item.uses : undefined) : undefined;
    return [name ?? `mcpServers[${i}]`, item];
  });
  return readEntries(named, ex, continueEntry);
}

function continueEntry(name: string, entry: unknown): RawServer {
  if (!isRecord(entry)) fail('entry is not a mapping');
  const uses = optionalString(entry, 'uses');
  if (uses !== undefined) {
    // A hub block: what it runs is defined remotely; its `with` inputs may still hold secrets.
    const inputs = own(entry, 'with');
    return {
      name,
      transport: 'unknown',
      ...(isRecord(inputs) ? { secretFields: Object.entries(inputs).map(([key, value]) => ({ location: 'env' as const, name: key, value })) } : {}),
      enabled: true,
    };
  }
  const requestOptions = own(entry, 'requestOptions');
  const headers = isRecord(requestOptions) ? own(requestOptions, 'headers') : undefined;
  return standardEntry(name, headers !== undefined ? { ...entry, headers } : entry);
}

/** Legacy config.json: experimental.modelContextProtocolServers [{transport: {...}}], or mcpServers. */
function legacyConfig(doc: unknown, ex: ExtractContext): RawServer[] {
  const servers: RawServer[] = [];
  const experimental = at(doc, ['experimental', 'modelContextProtocolServers'], ex);
  if (Array.isArray(experimental)) {
    const named = experimental.map((item, i): [string, unknown] => {
      const name = isRecord(item) && typeof item.name === 'string' ? item.name : `modelContextProtocolServers[${i}]`;
      return [name, isRecord(item) && isRecord(item.transport) ? item.transport : item];
    });
    servers.push(...readEntries(named, ex, (name, entry) => standardEntry(name, entry)));
  } else if (experimental !== undefined) {
    ex.report(undefined, '"experimental.modelContextProtocolServers" is not a list');
  }
  const map = at(doc, ['mcpServers']);
  if (Array.isArray(map)) servers.push(...continueList(map, ex));
  else if (map !== undefined) servers.push(...readServerMap(map, ex, standardReader(), 'mcpServers'));
  return servers;
}

/**
 * Claude Desktop: claude_desktop_config.json in its app-data dir (Linux builds are unofficial and
 * tools disagree on "Claude" vs "claude", so both), and installed desktop extensions (.mcpb/.dxt),
 * each a manifest.json whose server.mcp_config is the launch definition.
 */
import { basename, dirname, join } from 'node:path';
import { editorUserDataDir, xdgConfigHome, type DiscoveryContext } from '../context.ts';
import { at, fail, readEntries, readServerMap, standardEntry, standardReader } from './entries.ts';
import { fileSource, isRecord, type ClientModule, type ExtractContext, type RawServer, type Source } from './model.ts';

const CLIENT = 'claude-desktop';
const read = standardReader();

function appDirs(ctx: DiscoveryContext): string[] {
  const dirs = [editorUserDataDir(ctx, 'Claude')];
  if (ctx.platform === 'linux') dirs.push(join(xdgConfigHome(ctx), 'claude'));
  return dirs;
}

/** Claude Desktop's config file and installed desktop extensions. */
export const claudeDesktop: ClientModule = {
  userSources({ ctx }) {
    const sources: Source[] = [];
    for (const dir of appDirs(ctx)) {
      sources.push(
        fileSource(CLIENT, join(dir, 'claude_desktop_config.json'), 'json', 'user', null, 'desktop-config', (doc, ex) =>
          readServerMap(at(doc, ['mcpServers'], ex), ex, read, 'mcpServers'),
        ),
      );
      const extensions = join(dir, 'Claude Extensions');
      sources.push({
        kind: 'dir',
        dir: extensions,
        maxDepth: 1,
        match: (name, path) => name === 'manifest.json' && dirname(dirname(path)) === extensions,
        make: (path) => fileSource(CLIENT, path, 'json', 'extension', null, 'desktop-extension', (doc, ex) => extensionManifest(doc, ex, dir)),
      });
    }
    return sources;
  },
};

/** One installed extension: its server.mcp_config, disabled when its settings file says so. */
async function extensionManifest(doc: unknown, ex: ExtractContext, appDir: string): Promise<RawServer[]> {
  if (!isRecord(doc)) {
    ex.report(undefined, 'expected an object at top level');
    return [];
  }
  const id = basename(dirname(ex.path));
  const name = typeof doc.display_name === 'string' ? doc.display_name : typeof doc.name === 'string' ? doc.name : id;
  const settings = await ex.load(join(appDir, 'Claude Extensions Settings', `${id}.json`), 'json');
  const enabled = !(isRecord(settings) && settings.isEnabled === false);
  const servers = readEntries([[name, at(doc, ['server', 'mcp_config'])]], ex, (entryName, entry) => {
    if (entry === undefined) fail('manifest has no server.mcp_config');
    return standardEntry(entryName, entry);
  });
  return servers.map((s) => ({ ...s, enabled: s.enabled && enabled }));
}

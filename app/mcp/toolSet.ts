/**
 * Rug-pull detection: the tool set a server offered when it was approved (name, title,
 * description and input schema of each tool, hashed), kept in <dataDir>/mcp-tools/<server>.json,
 * and the comparison of what a server offers now against it. Pure apart from the store.
 */
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreError } from '../api/errors.ts';
import { canonicalJson, sha256Hex } from './callRecord.ts';

const SERVER_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const MAX_STORE_BYTES = 8 * 1024 * 1024;
const MAX_DESCRIPTION = 2000;

/** One tool as approved: its fingerprint and enough to show a person what was approved. */
export type ApprovedTool = Readonly<{ hash: string; description: string }>;

export type ToolSetFile = Readonly<{
  version: 1;
  server: string;
  approvedAt: string;
  tools: Readonly<Record<string, ApprovedTool>>;
}>;

/** How the offered tools compare with the approved set. */
export type ToolSetChange = Readonly<{
  /** Offered with a different name/description/schema than approved. */
  changed: readonly string[];
  /** Offered but never approved. */
  added: readonly string[];
  /** Approved but not offered now (not a risk; reported only). */
  removed: readonly string[];
}>;

export type ToolStore = Readonly<{
  server: string;
  /** The approved set, or null before the first approval. */
  approved(): Promise<ToolSetFile | null>;
  /** Replaces the approved set. */
  approve(tools: Readonly<Record<string, ApprovedTool>>): Promise<ToolSetFile>;
  /** The latest set offered that differed from the approved one (what `cordon mcp approve` accepts). */
  pending(): Promise<ToolSetFile | null>;
  setPending(tools: Readonly<Record<string, ApprovedTool>>): Promise<void>;
  clearPending(): Promise<void>;
}>;

/** Validates a server name used in file names and audit sources. */
export function checkServerName(name: string): string {
  if (!SERVER_RE.test(name)) throw new CoreError('ERR_BAD_REQUEST', `invalid MCP server name '${name.slice(0, 80)}': use letters, digits, '.', '_' or '-' (at most 64, not starting with '.' or '-')`);
  return name;
}

/** The fingerprint of one tool: SHA-256 over the canonical JSON of what the model reads. */
export function toolFingerprint(tool: Readonly<Record<string, unknown>>): ApprovedTool {
  const description = typeof tool.description === 'string' ? tool.description : '';
  const hash = sha256Hex(canonicalJson({ name: tool.name, title: tool.title ?? null, description, inputSchema: tool.inputSchema ?? null }));
  return { hash: `sha256:${hash}`, description: description.length > MAX_DESCRIPTION ? `${description.slice(0, MAX_DESCRIPTION)}...` : description };
}

/** Compares offered tools (name -> fingerprint) against an approved set. */
export function compareToolSets(approved: Readonly<Record<string, ApprovedTool>>, offered: Readonly<Record<string, ApprovedTool>>): ToolSetChange {
  const changed: string[] = [];
  const added: string[] = [];
  for (const [name, tool] of Object.entries(offered)) {
    const before = Object.hasOwn(approved, name) ? approved[name] : undefined;
    if (!before) added.push(name);
    else if (before.hash !== tool.hash) changed.push(name);
  }
  const removed = Object.keys(approved).filter((name) => !Object.hasOwn(offered, name));
  return { changed: changed.sort(), added: added.sort(), removed: removed.sort() };
}

export function createToolStore(dataDir: string, server: string): ToolStore {
  checkServerName(server);
  const dir = join(dataDir, 'mcp-tools');
  const approvedFile = join(dir, `${server}.json`);
  const pendingFile = join(dir, `${server}.pending.json`);
  const write = async (file: string, tools: Readonly<Record<string, ApprovedTool>>): Promise<ToolSetFile> => {
    const value: ToolSetFile = { version: 1, server, approvedAt: new Date().toISOString(), tools };
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, file);
    return value;
  };
  return {
    server,
    approved: () => readSet(approvedFile, server),
    approve: (tools) => write(approvedFile, tools),
    pending: () => readSet(pendingFile, server),
    async setPending(tools) {
      await write(pendingFile, tools);
    },
    async clearPending() {
      await unlink(pendingFile).catch(() => undefined);
    },
  };
}

async function readSet(file: string, server: string): Promise<ToolSetFile | null> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_STORE_BYTES) throw new CoreError('ERR_STORE', `${file} is larger than ${MAX_STORE_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error instanceof CoreError ? error : new CoreError('ERR_STORE', `cannot read ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CoreError('ERR_STORE', `${file} is not valid JSON; delete it and approve the tool set again with 'cordon mcp approve --server ${server}'`);
  }
  const v = value as Partial<ToolSetFile> | null;
  if (!v || v.version !== 1 || typeof v.tools !== 'object' || v.tools === null) throw new CoreError('ERR_STORE', `${file} is not a Cordon MCP tool set (version 1)`);
  const tools: Record<string, ApprovedTool> = {};
  for (const [name, t] of Object.entries(v.tools)) {
    if (typeof t?.hash === 'string') tools[name] = { hash: t.hash, description: typeof t.description === 'string' ? t.description : '' };
  }
  return { version: 1, server, approvedAt: typeof v.approvedAt === 'string' ? v.approvedAt : '', tools };
}

// Generates native-config/ (MDM profiles, ADMX/ADML, managed.json, service units, package scripts)
// and the generated tables of docs/it-deployment.md from the one settings schema.
// Usage: node scripts/native-config.ts [--check] [--out DIR]
//   --check    write nothing; list stale files and exit 1 when there are any
//   --out DIR  write the native-config/ tree under DIR instead (e.g. a package build); the doc is left alone
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { IT_DEPLOYMENT_DOC, fillGeneratedBlocks } from '../app/service/nativeConfig/docs.ts';
import { NATIVE_CONFIG_DIR, nativeConfigArtifacts } from '../app/service/nativeConfig/artifacts.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { check: { type: 'boolean' }, out: { type: 'string' } }, strict: true });
const root = values.out ? resolve(values.out) : repo;
const check = values.check === true;

const stale: string[] = [];
const artifacts = nativeConfigArtifacts();
for (const artifact of artifacts) {
  const path = join(root, ...artifact.path.split('/'));
  const current = await readOrNull(path);
  if (current !== null && Buffer.from(current).equals(Buffer.from(artifact.bytes))) continue;
  stale.push(artifact.path);
  if (check) continue;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, artifact.bytes);
  await chmod(path, artifact.mode);
}

// Files under native-config/ that the generator no longer produces.
const wanted = new Set(artifacts.map((a) => a.path));
for (const path of await listFiles(join(root, NATIVE_CONFIG_DIR))) {
  const rel = relative(root, path).split(sep).join('/');
  if (wanted.has(rel)) continue;
  stale.push(`${rel} (not generated any more)`);
  if (!check) await rm(path);
}

let failed = false;
if (!values.out) {
  const docPath = join(repo, IT_DEPLOYMENT_DOC);
  const text = await readFile(docPath, 'utf8');
  const filled = fillGeneratedBlocks(text);
  if (filled.missing.length > 0) {
    process.stderr.write(`native-config: ${IT_DEPLOYMENT_DOC} lacks the markers of block(s) ${filled.missing.join(', ')}\n`);
    failed = true;
  }
  if (filled.text !== text) {
    stale.push(IT_DEPLOYMENT_DOC);
    if (!check) await writeFile(docPath, filled.text);
  }
}

if (stale.length === 0) process.stdout.write('native-config: up to date\n');
else process.stdout.write(`native-config: ${check ? 'stale (run `npm run native-config`)' : 'updated'}:\n${stale.map((s) => `  ${s}\n`).join('')}`);
process.exitCode = failed || (check && stale.length > 0) ? 1 : 0;

async function readOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

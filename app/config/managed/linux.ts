/**
 * Linux managed settings: a root-owned JSON (comments allowed) file, /etc/cordon/managed.json.
 * Top-level keys are enforced; keys under "Defaults" are defaults users may change.
 */
import { decodeText } from '../../discovery/safeRead.ts';
import { parseJsonc } from '../jsonc.ts';
import { emptyManagedLayers, managedDocumentToLayers, type ManagedLayers } from '../layers.ts';
import { readManagedFile } from './secureFile.ts';

export const LINUX_MANAGED_SETTINGS_PATH = '/etc/cordon/managed.json';

export type ManagedSourceRead = Readonly<{ layers: ManagedLayers; present: boolean }>;

/**
 * Reads a managed JSON file. With `checkOwnership` (the real system path) a file that is not
 * root-owned, or is group/other-writable, is ignored and reported.
 */
export async function readManagedJsonFile(path: string, checkOwnership: boolean): Promise<ManagedSourceRead> {
  const read = await readManagedFile(path, checkOwnership);
  if (read.kind === 'missing') return { layers: emptyManagedLayers(), present: false };
  if (read.kind !== 'ok') return { layers: fileProblem(path, read.kind, read.message), present: true };
  const text = decodeText(read.bytes);
  if (text === null) return { layers: fileProblem(path, 'parse', 'not valid UTF-8 text'), present: true };
  const parsed = parseJsonc(text);
  if (!parsed.ok) return { layers: fileProblem(path, 'parse', `not valid JSON: ${parsed.message}`), present: true };
  return { layers: managedDocumentToLayers(parsed.value, path), present: true };
}

/** Layers holding nothing but one whole-file error. */
export function fileProblem(file: string, kind: 'unreadable' | 'insecure' | 'parse', message: string): ManagedLayers {
  const layers = emptyManagedLayers();
  layers.problems.push({ source: 'managed', file, key: null, kind, severity: 'error', message });
  return layers;
}

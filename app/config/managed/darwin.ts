/**
 * macOS managed settings: the managed-preferences plists an MDM configuration profile writes for
 * the bundle id, device-wide and per user. XML and binary (bplist00) plists are both parsed in
 * process with the `plist` package; binary ones pass a structural guard first (plistGuard.ts).
 */
import { parse as parsePlist, parseBinary } from 'plist';
import { decodeText } from '../../discovery/safeRead.ts';
import { emptyManagedLayers, managedDocumentToLayers, mergeManagedLayers, kindOf, type ManagedLayers } from '../layers.ts';
import { fileProblem, type ManagedSourceRead } from './linux.ts';
import { binaryPlistProblem } from './plistGuard.ts';
import { readManagedFile } from './secureFile.ts';

export { MACOS_BUNDLE_ID, MACOS_MANAGED_PREFERENCES_DIR, macosManagedPlistPaths } from './darwinPaths.ts';

const MAX_DEPTH = 64;

/** Parses plist bytes (binary bplist00, or XML/OpenStep text) into a plain value. */
export function parseSettingsPlist(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    if (startsWithBplist(bytes)) {
      const problem = binaryPlistProblem(bytes);
      if (problem) return { ok: false, message: problem };
      return { ok: true, value: parseBinary(bytes) };
    }
    const text = decodeText(bytes);
    if (text === null) return { ok: false, message: 'neither a binary plist nor UTF-8 text' };
    return parseXmlQuietly(text);
  } catch (error) {
    // The binary parser throws plain Errors (RangeError on truncated data) naming the structural fault.
    return { ok: false, message: `not a valid plist: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The XML parser underneath `plist` (xmldom) reports recoverable errors on console.error and
 * carries on. The parse is synchronous, so console.error is swapped for exactly its duration; any
 * report makes the plist invalid. Only the location is kept: xmldom's text can quote document
 * content (an unescaped "&" in a secret, say).
 */
function parseXmlQuietly(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const reports: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    reports.push(args.map(String).join(' '));
  };
  try {
    const value: unknown = parsePlist(text);
    const first = reports[0];
    return first === undefined ? { ok: true, value } : { ok: false, message: `malformed XML plist${xmlLocation(first)}` };
  } catch (error) {
    const first = reports[0];
    if (first !== undefined) return { ok: false, message: `malformed XML plist${xmlLocation(first)}` };
    // Without an xmldom report the throw is one of plist's own fixed structural messages.
    return { ok: false, message: `malformed XML plist: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    console.error = original;
  }
}

function xmlLocation(report: string): string {
  const match = /\[line:(\d+),col:(\d+)\]/.exec(report);
  return match ? ` at line ${match[1]}, column ${match[2]}` : '';
}

/**
 * Converts a parsed plist value to JSON data: dict → object, array → array; dates and data blobs
 * have no JSON form and are reported.
 */
export function plistValueToJson(value: unknown, depth = 0): { value: unknown } | { error: string } {
  if (depth > MAX_DEPTH) return { error: `nested more than ${MAX_DEPTH} levels deep` };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return { value };
  if (typeof value === 'number') return Number.isFinite(value) ? { value } : { error: 'a non-finite number' };
  if (value instanceof Date || value instanceof Uint8Array) return { error: `plist ${value instanceof Date ? '<date>' : '<data>'} values are not supported: use a string` };
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const converted = plistValueToJson(item, depth + 1);
      if ('error' in converted) return converted;
      out.push(converted.value);
    }
    return { value: out };
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const converted = plistValueToJson(item, depth + 1);
      if ('error' in converted) return converted;
      Object.defineProperty(out, key, { value: converted.value, enumerable: true, writable: true, configurable: true });
    }
    return { value: out };
  }
  return { error: `unsupported plist value (${kindOf(value)})` };
}

/** Reads one managed plist; with `checkOwnership` it must be root-owned and not group/other-writable. */
export async function readManagedPlistFile(path: string, checkOwnership: boolean): Promise<ManagedSourceRead> {
  const read = await readManagedFile(path, checkOwnership);
  if (read.kind === 'missing') return { layers: emptyManagedLayers(), present: false };
  if (read.kind !== 'ok') return { layers: fileProblem(path, read.kind, read.message), present: true };
  const parsed = parseSettingsPlist(read.bytes);
  if (!parsed.ok) return { layers: fileProblem(path, 'parse', parsed.message), present: true };
  return { layers: managedDocumentToLayers(parsed.value, path, (v) => plistValueToJson(v)), present: true };
}

/** Reads the device and user-level plists and merges them, the device one winning per key. */
export async function readMacosManaged(paths: readonly string[], checkOwnership: boolean): Promise<ManagedSourceRead> {
  const reads = await Promise.all(paths.map((p) => readManagedPlistFile(p, checkOwnership)));
  const layers: ManagedLayers = mergeManagedLayers(...reads.map((r) => r.layers));
  return { layers, present: reads.some((r) => r.present) };
}

function startsWithBplist(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && String.fromCharCode(...bytes.subarray(0, 6)) === 'bplist';
}

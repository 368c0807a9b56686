/**
 * Structural pre-check of a binary plist (bplist00) before it reaches the parser: the parser
 * follows object references blindly, so a small file with a reference cycle, or a DAG that
 * expands exponentially, would crash or hang it. This walks the reference graph once, bounded.
 */

const MAX_OBJECTS = 100_000;
/** Values after expanding shared references: a settings plist holds a few hundred. */
const MAX_EXPANDED_NODES = 100_000;
const MAX_DEPTH = 64;
const TRAILER_BYTES = 32;
const HEADER = 'bplist00';

/** Returns null when the binary plist is safe to parse, else why it is refused. */
export function binaryPlistProblem(data: Uint8Array): string | null {
  try {
    return check(data);
  } catch (error) {
    return error instanceof GuardError ? error.message : 'malformed binary plist';
  }
}

class GuardError extends Error {}

function check(data: Uint8Array): string | null {
  if (data.length < HEADER.length + TRAILER_BYTES + 2) throw new GuardError('truncated binary plist');
  if (String.fromCharCode(...data.subarray(0, HEADER.length)) !== HEADER) throw new GuardError('not a bplist00 binary plist');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const trailer = data.length - TRAILER_BYTES;
  const offsetSize = view.getUint8(trailer + 6);
  const refSize = view.getUint8(trailer + 7);
  if (![1, 2, 4, 8].includes(offsetSize) || ![1, 2, 4, 8].includes(refSize)) throw new GuardError('bad binary plist trailer');
  const count = readUInt(view, trailer + 8, 8);
  const top = readUInt(view, trailer + 16, 8);
  const tableOffset = readUInt(view, trailer + 24, 8);
  if (count < 1 || count > MAX_OBJECTS) throw new GuardError(`binary plist has ${count} objects (limit ${MAX_OBJECTS})`);
  if (top >= count) throw new GuardError('bad binary plist top object');
  if (tableOffset < HEADER.length || tableOffset + count * offsetSize > trailer) throw new GuardError('bad binary plist offset table');

  const offsetOf = (index: number): number => {
    const offset = readUInt(view, tableOffset + index * offsetSize, offsetSize);
    if (offset < HEADER.length || offset >= tableOffset) throw new GuardError('binary plist object offset out of range');
    return offset;
  };

  const children = (index: number): number[] => {
    let at = offsetOf(index);
    const marker = view.getUint8(at++);
    const type = marker >> 4;
    if (type !== 0xa && type !== 0xc && type !== 0xd) return [];
    let n = marker & 0x0f;
    if (n === 0x0f) {
      const sizeMarker = view.getUint8(at++);
      if (sizeMarker >> 4 !== 0x1) throw new GuardError('bad binary plist container size');
      const bytes = 1 << (sizeMarker & 0x0f);
      if (bytes > 8) throw new GuardError('bad binary plist container size');
      n = readUInt(view, at, bytes);
      at += bytes;
    }
    const refs = type === 0xd ? n * 2 : n;
    if (at + refs * refSize > tableOffset) throw new GuardError('binary plist container runs past its data');
    const out: number[] = [];
    for (let i = 0; i < refs; i++) {
      const ref = readUInt(view, at + i * refSize, refSize);
      if (ref >= count) throw new GuardError('binary plist reference out of range');
      out.push(ref);
    }
    return out;
  };

  // Expanded size of each object, memoized; "visiting" marks the current path to catch cycles.
  const expanded = new Map<number, number>();
  const visiting = new Set<number>();
  const size = (index: number, depth: number): number => {
    const known = expanded.get(index);
    if (known !== undefined) return known;
    if (visiting.has(index)) throw new GuardError('binary plist has a reference cycle');
    if (depth > MAX_DEPTH) throw new GuardError(`binary plist nested more than ${MAX_DEPTH} levels deep`);
    visiting.add(index);
    let total = 1;
    for (const child of children(index)) {
      total += size(child, depth + 1);
      if (total > MAX_EXPANDED_NODES) throw new GuardError(`binary plist expands to more than ${MAX_EXPANDED_NODES} values`);
    }
    visiting.delete(index);
    expanded.set(index, total);
    return total;
  };
  size(top, 0);
  return null;
}

function readUInt(view: DataView, at: number, bytes: number): number {
  switch (bytes) {
    case 1:
      return view.getUint8(at);
    case 2:
      return view.getUint16(at);
    case 4:
      return view.getUint32(at);
    case 8: {
      const big = view.getBigUint64(at);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new GuardError('binary plist integer out of range');
      return Number(big);
    }
    default:
      throw new GuardError('bad binary plist integer size');
  }
}

/**
 * A deliberately minimal reader for XML property lists (macOS Info.plist): string values of the
 * top-level dict only. No entity expansion beyond the five XML entities and character references,
 * no DTD processing, linear time. Binary plists are not read.
 */

const MAX_VALUE_LENGTH = 256;

/**
 * The string values of the root <dict>'s keys, or an error message when the text is not an XML
 * plist with a dict at its root. Nested dicts and arrays are skipped; non-string values omitted.
 */
export function plistTopLevelStrings(text: string): { ok: true; values: Map<string, string> } | { ok: false; message: string } {
  if (text.startsWith('bplist')) return { ok: false, message: 'binary property list (only XML plists are read)' };
  if (!/<plist[\s>]/.test(text)) return { ok: false, message: 'not an XML property list' };
  const values = new Map<string, string>();
  let depth = 0; // dict/array nesting; 1 = inside the root dict
  let sawRoot = false;
  let pendingKey: string | null = null;
  let captureFrom = -1;
  let captureTag = '';
  // A forward-only scan with indexOf: linear time whatever the input.
  for (let pos = 0; ; ) {
    const lt = text.indexOf('<', pos);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt) || text.startsWith('<![CDATA[', lt)) {
      const terminator = text.startsWith('<!--', lt) ? '-->' : ']]>';
      const end = text.indexOf(terminator, lt + 4);
      if (end < 0) break;
      pos = end + terminator.length;
      continue;
    }
    const gt = text.indexOf('>', lt + 1);
    if (gt < 0) break;
    const inner = text.slice(lt + 1, gt);
    pos = gt + 1;
    const parsed = /^(\/?)([A-Za-z]+)/.exec(inner);
    if (!parsed) continue; // declaration, processing instruction, DOCTYPE
    const closing = parsed[1] === '/';
    const name = parsed[2] ?? '';
    const selfClosing = inner.endsWith('/');
    if (captureFrom >= 0) {
      if (closing && name === captureTag) {
        const raw = text.slice(captureFrom, lt);
        if (captureTag === 'key') pendingKey = decodeXml(raw);
        else if (pendingKey !== null) {
          const value = decodeXml(raw);
          if (value !== null && value.length <= MAX_VALUE_LENGTH && !values.has(pendingKey)) values.set(pendingKey, value);
          pendingKey = null;
        }
        captureFrom = -1;
      }
      continue;
    }
    if (name === 'dict' || name === 'array') {
      if (selfClosing) {
        if (depth === 1) pendingKey = null;
        continue;
      }
      if (closing) {
        depth -= 1;
        if (depth < 0) return { ok: false, message: 'unbalanced <dict>/<array> tags' };
        continue;
      }
      if (depth === 0) {
        if (sawRoot || name !== 'dict') return { ok: false, message: 'root element is not a <dict>' };
        sawRoot = true;
      } else if (depth === 1) pendingKey = null; // a nested value: its key gets no string
      depth += 1;
      continue;
    }
    if (depth !== 1 || closing) continue;
    if (name === 'key' || name === 'string') {
      if (selfClosing) {
        if (name === 'string' && pendingKey !== null && !values.has(pendingKey)) values.set(pendingKey, '');
        pendingKey = name === 'key' ? '' : null;
        continue;
      }
      captureFrom = pos;
      captureTag = name;
    } else {
      pendingKey = null; // <integer>, <true/>, <date> ...: not a string value
    }
  }
  if (!sawRoot) return { ok: false, message: 'no <dict> in the property list' };
  return { ok: true, values };
}

/** Decodes the XML entities a plist writer emits; null on a malformed or control character. */
function decodeXml(raw: string): string | null {
  let bad = false;
  const text = raw.replace(/&(#x[0-9A-Fa-f]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);/g, (_m, ref: string) => {
    if (ref === 'amp') return '&';
    if (ref === 'lt') return '<';
    if (ref === 'gt') return '>';
    if (ref === 'quot') return '"';
    if (ref === 'apos') return "'";
    const code = ref.startsWith('#x') ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    if (!(code > 0x1f && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) {
      bad = true;
      return '';
    }
    return String.fromCodePoint(code);
  });
  return bad || text.includes('<') ? null : text.trim();
}

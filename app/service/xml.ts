/**
 * XML text helpers for the generated artifacts (ADMX/ADML, Task Scheduler XML): escaping, and a
 * refusal of characters XML 1.0 cannot carry at all. Plists are built by the `plist` package instead.
 */
import { CoreError } from '../api/errors.ts';

/**
 * True when `text` holds only characters an XML 1.0 document may contain (§2.2 Char): no C0
 * controls other than tab, LF and CR, no lone surrogates, no U+FFFE or U+FFFF.
 */
export function isXmlSafe(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    if (c === 0xfffe || c === 0xffff) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** True when `text` holds a C0 control character or DEL (never valid in a path or name we write). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Escapes text for element content (`&`, `<`, `>`). Throws ERR_BAD_REQUEST for characters XML
 * cannot represent at all (they would make the whole file unreadable).
 */
export function escapeXml(text: string): string {
  if (!isXmlSafe(text)) throw new CoreError('ERR_BAD_REQUEST', 'text holds a control character that XML cannot carry');
  return text.replace(/[&<>]/g, (c) => XML_ENTITIES[c] ?? c);
}

/** Escapes text for a double-quoted attribute value. */
export function escapeXmlAttribute(text: string): string {
  return escapeXml(text).replace(/"/g, '&quot;');
}

const XML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** UTF-16LE with a byte order mark: the encoding `schtasks /Create /XML` accepts reliably. */
export function utf16leWithBom(text: string): Uint8Array {
  const body = Buffer.from(text, 'utf16le');
  const out = new Uint8Array(body.length + 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  out.set(body, 2);
  return out;
}

/** Decodes UTF-16LE text with or without a byte order mark. */
export function decodeUtf16le(bytes: Uint8Array): string {
  const start = bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe ? 2 : 0;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString('utf16le');
}

/**
 * Reads the server name (SNI) from the first TLS record of a tunnel: the ClientHello, parsed from
 * bytes the proxy forwards unchanged afterwards. A parser for one record, not a TLS stack.
 * @see RFC 8446 §4.1.2 (ClientHello), RFC 6066 §3 (server_name)
 */

export type HelloPeek =
  | Readonly<{ state: 'need-more' }>
  | Readonly<{ state: 'not-tls' }>
  /** sni is null when the hello has no (valid) server_name. */
  | Readonly<{ state: 'done'; sni: string | null }>;

/** Largest TLS record plus its header: the most bytes worth waiting for. */
export const MAX_HELLO_BYTES = 5 + 16384 + 256;

const NAME_RE = /^[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*\.?$/;

/** Inspects the bytes a tunnel's client sent so far. */
export function peekClientHello(buf: Buffer): HelloPeek {
  if (buf.length === 0) return { state: 'need-more' };
  if (buf[0] !== 0x16) return { state: 'not-tls' };
  if (buf.length < 5) return { state: 'need-more' };
  if (buf[1] !== 0x03) return { state: 'not-tls' };
  const recordLength = buf.readUInt16BE(3);
  if (recordLength > 16384 + 256) return { state: 'not-tls' };
  if (buf.length < 5 + recordLength) return { state: 'need-more' };
  return { state: 'done', sni: sniOf(buf.subarray(5, 5 + recordLength)) };
}

/** The server_name of a ClientHello handshake message, or null. Bounds-checked throughout. */
function sniOf(record: Buffer): string | null {
  const r = new Reader(record);
  if (r.u8() !== 0x01) return null; // handshake type client_hello
  r.skip(3); // handshake length (the record may hold only its start)
  r.skip(2 + 32); // legacy_version, random
  r.skip(r.u8()); // legacy_session_id
  r.skip(r.u16()); // cipher_suites
  r.skip(r.u8()); // legacy_compression_methods
  const extensionsEnd = Math.min(r.pos + r.u16(), record.length);
  while (r.ok && r.pos + 4 <= extensionsEnd) {
    const type = r.u16();
    const length = r.u16();
    if (type !== 0x0000) {
      r.skip(length);
      continue;
    }
    const listEnd = r.pos + r.u16();
    while (r.ok && r.pos + 3 <= listEnd) {
      const nameType = r.u8();
      const nameLength = r.u16();
      const name = r.bytes(nameLength);
      if (nameType === 0 && name !== null) {
        const text = name.toString('latin1').toLowerCase();
        return NAME_RE.test(text) && text.length <= 253 ? text.replace(/\.$/, '') : null;
      }
    }
    return null;
  }
  return null;
}

class Reader {
  readonly #buf: Buffer;
  pos = 0;
  ok = true;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  u8(): number {
    if (this.pos + 1 > this.#buf.length) return this.#fail();
    return this.#buf[this.pos++] as number;
  }

  u16(): number {
    if (this.pos + 2 > this.#buf.length) return this.#fail();
    const v = this.#buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  skip(n: number): void {
    if (this.pos + n > this.#buf.length) this.#fail();
    else this.pos += n;
  }

  bytes(n: number): Buffer | null {
    if (this.pos + n > this.#buf.length) {
      this.#fail();
      return null;
    }
    const out = this.#buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  #fail(): number {
    this.ok = false;
    this.pos = this.#buf.length;
    return 0;
  }
}

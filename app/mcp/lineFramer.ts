/**
 * Newline-delimited framing for the MCP stdio transport: splits a byte stream into lines (robust
 * to partial chunks and CRLF), with a size cap so one endless line cannot exhaust memory.
 */

/** Default cap on one message: MCP carries base64 images and files, so this is generous. */
export const DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024;

export type LineFramer = Readonly<{
  /** Feeds a chunk; calls onLine for each complete line and onOversize once per oversized line. */
  push(chunk: Buffer): void;
  /** Bytes of an unfinished line held now. */
  pending(): number;
}>;

export type LineFramerOptions = Readonly<{
  onLine: (line: string) => void;
  /** A line longer than maxBytes was discarded (its bytes are dropped up to the next newline). */
  onOversize: (bytes: number) => void;
  maxBytes?: number;
}>;

export function createLineFramer(options: LineFramerOptions): LineFramer {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_LINE_BYTES;
  let parts: Buffer[] = [];
  let size = 0;
  let discarding = false;
  let discarded = 0;

  const emit = (line: Buffer): void => {
    let end = line.length;
    if (end > 0 && line[end - 1] === 0x0d) end--;
    if (end === 0) return;
    options.onLine(line.toString('utf8', 0, end));
  };

  return {
    push(chunk) {
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(0x0a, start);
        const piece = newline < 0 ? chunk.subarray(start) : chunk.subarray(start, newline);
        if (discarding) {
          discarded += piece.length;
        } else if (size + piece.length > maxBytes) {
          discarding = true;
          discarded = size + piece.length;
          parts = [];
          size = 0;
        } else if (piece.length > 0) {
          parts.push(piece);
          size += piece.length;
        }
        if (newline < 0) return;
        if (discarding) {
          options.onOversize(discarded);
          discarding = false;
          discarded = 0;
        } else {
          const line = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
          parts = [];
          size = 0;
          emit(line);
        }
        start = newline + 1;
      }
    },
    pending: () => size,
  };
}

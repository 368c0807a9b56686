/**
 * Reads every instance of a request header from the shapes servers hand us: fetch Headers, Node's
 * headersDistinct (string[] values), Node's headers (joined values), or rawHeaders (flat
 * name/value array). Counting instances is how the verifier refuses a doubled DPoP header.
 * Note: Node's req.headers drops duplicate Authorization headers; pass headersDistinct or rawHeaders.
 */

/** Anything the verifier accepts as request headers. */
export type HeaderSource =
  | Readonly<{ get(name: string): string | null; forEach(fn: (value: string, name: string) => void): void }>
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | readonly string[];

/**
 * All values of one header, in order. Comma-joined values (how fetch and Node fold duplicates)
 * are split: neither a DPoP proof nor a token68 credential can contain a comma.
 */
export function headerValues(source: HeaderSource, name: string): string[] {
  const wanted = name.toLowerCase();
  const raw: string[] = [];
  if (isStringArray(source)) {
    for (let i = 0; i + 1 < source.length; i += 2) {
      if (source[i]?.toLowerCase() === wanted) raw.push(source[i + 1] ?? '');
    }
  } else if (isHeadersLike(source)) {
    source.forEach((value, key) => {
      if (key.toLowerCase() === wanted) raw.push(value);
    });
  } else {
    for (const [key, value] of Object.entries(source)) {
      if (key.toLowerCase() !== wanted || value === undefined) continue;
      if (typeof value === 'string') raw.push(value);
      else raw.push(...value);
    }
  }
  return raw.flatMap((v) => v.split(',')).map((v) => v.trim());
}

function isStringArray(source: HeaderSource): source is readonly string[] {
  return Array.isArray(source);
}

function isHeadersLike(source: HeaderSource): source is Readonly<{ get(name: string): string | null; forEach(fn: (value: string, name: string) => void): void }> {
  return typeof (source as { forEach?: unknown }).forEach === 'function' && typeof (source as { get?: unknown }).get === 'function';
}

/**
 * Glob matching for paths, files, commands and MCP names, without regular expressions: the
 * classic two-pointer wildcard algorithm (O(pattern x text) worst case), so a hostile pattern or
 * request cannot make matching backtrack exponentially.
 */

/** A compiled matcher. */
export type Matcher = (text: string) => boolean;

/** The longest path or command line considered; the tail beyond it is ignored. */
export const MAX_MATCH_INPUT = 16 * 1024;

/**
 * `text` matches `pattern` where "*" matches any run of characters (also empty) and every other
 * character matches itself.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Segment-wise match: pattern segments are "**" (any number of segments, also none) or a
 * wildcard over one segment. The same two-pointer algorithm, one element per segment.
 */
export function segmentsMatch(pattern: readonly string[], segments: readonly string[]): boolean {
  let p = 0;
  let s = 0;
  let star = -1;
  let mark = 0;
  while (s < segments.length) {
    const ps = pattern[p];
    if (ps !== undefined && ps !== '**' && wildcardMatch(ps, segments[s] ?? '')) {
      p++;
      s++;
    } else if (ps === '**') {
      star = p++;
      mark = s;
    } else if (star >= 0) {
      p = star + 1;
      s = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '**') p++;
  return p === pattern.length;
}

/**
 * An HTTP path pattern: without "*" a segment prefix ("/api" matches "/api", "/api/x", not
 * "/apix"); with "*" a glob over the whole path ("*" within a segment, "**" across segments).
 * Paths are normalized first (normalizeHttpPath).
 */
export function compilePathPattern(pattern: string): Matcher {
  if (!pattern.includes('*')) {
    const base = pattern.endsWith('/') && pattern.length > 1 ? pattern.slice(0, -1) : pattern;
    if (base === '/') return () => true;
    return (path) => path === base || path.startsWith(`${base}/`);
  }
  const segs = pattern.split('/');
  return (path) => segmentsMatch(segs, path.split('/'));
}

/**
 * The path of a request as rules see it: no query or fragment, percent-decoded, dot segments
 * resolved, repeated slashes collapsed. Servers differ on these; collapsing them means a deny on
 * "/admin" also covers "//admin" and "/%61dmin".
 */
export function normalizeHttpPath(raw: string): string {
  let path = raw.length > MAX_MATCH_INPUT ? raw.slice(0, MAX_MATCH_INPUT) : raw;
  if (!path.startsWith('/')) {
    if (path === '*') return '*';
    try {
      path = new URL(path).pathname;
    } catch {
      path = `/${path}`;
    }
  }
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  if (path.includes('%')) path = percentDecode(path);
  if (!path.includes('//') && !path.includes('/.') && !path.includes('\\')) return path;
  return resolveDots(path.replaceAll('\\', '/'));
}

/**
 * A file pattern: "~/" is `home`; a relative pattern (".env", "secrets/*.pem") matches at any
 * depth; "*" stays within a segment and "**" crosses segments.
 */
export function compileFilePattern(pattern: string, home: string): Matcher {
  let full = pattern.replaceAll('\\', '/');
  if (full === '~' || full.startsWith('~/')) full = `${home.replaceAll('\\', '/').replace(/\/$/, '')}${full.slice(1)}`;
  else if (!full.startsWith('/') && !/^[A-Za-z]:\//.test(full)) full = `**/${full}`;
  const segs = resolveDots(full).split('/');
  return (path) => segmentsMatch(segs, normalizeFilePath(path).split('/'));
}

/** Absolute file path with "." and ".." resolved and "\" read as "/". */
export function normalizeFilePath(path: string): string {
  return resolveDots(path.replaceAll('\\', '/'));
}

/** A command-line glob: "*" matches anything; runs of whitespace match any run of whitespace. */
export function compileCommandPattern(pattern: string): Matcher {
  const p = normalizeCommand(pattern);
  return (command) => wildcardMatch(p, normalizeCommand(command));
}

export function normalizeCommand(command: string): string {
  const bounded = command.length > MAX_MATCH_INPUT ? command.slice(0, MAX_MATCH_INPUT) : command;
  return bounded.trim().replace(/\s+/g, ' ');
}

/** A name glob ("create_*", "*"): "*" matches anything. */
export function compileNamePattern(pattern: string): Matcher {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (name) => name === pattern;
  return (name) => wildcardMatch(pattern, name);
}

function percentDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    // Malformed escapes: decode what is valid, keep the rest as written.
    return path.replace(/%[0-9A-Fa-f]{2}/g, (m) => {
      const code = parseInt(m.slice(1), 16);
      return code < 0x80 ? String.fromCharCode(code) : m;
    });
  }
}

function resolveDots(path: string): string {
  const absolute = path.startsWith('/');
  const out: string[] = [];
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '**') out.pop();
    } else if (part !== '.' && (part !== '' || i === parts.length - 1)) {
      out.push(part);
    }
  }
  const joined = out.join('/');
  return absolute ? `/${joined}` : joined;
}

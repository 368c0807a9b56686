/**
 * Redaction for what the audit trail keeps of command lines, URL paths and free text: values that
 * look secret become "<redacted>". It errs toward redacting; it is a last line of defence, not the
 * secret scanner (egress data checks use a maintained ruleset).
 */

export const REDACTED = '<redacted>';

const MAX_ARGS = 64;
const MAX_ARG_CHARS = 512;
const MAX_PATH_CHARS = 1024;
const MAX_TEXT_CHARS = 2000;

/** Name parts that mark a secret value: --token, API_KEY=, --client-secret, DB_PASSWORD=, ... */
const SECRET_PARTS = new Set(['password', 'passwd', 'pass', 'passphrase', 'pwd', 'secret', 'token', 'apikey', 'credential', 'credentials', 'auth', 'authorization', 'bearer', 'cookie', 'session', 'privatekey', 'signature']);
const SECRET_PAIRS = new Set(['api key', 'access key', 'private key', 'secret key', 'client secret', 'account key']);
/** Header names whose value is a secret (curl -H 'Authorization: ...'). */
const SECRET_HEADER = /^\s*(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|x-auth-token|x-access-token|private-token|x-goog-api-key|dpop)\s*:/i;
/** Well-known credential shapes (prefix-typed tokens, JWTs, PEM keys, AWS key ids). */
const TOKEN_SHAPES: readonly RegExp[] = [
  /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\b(sk|rk|pk)[-_](live|test|proj|ant|or)?[-_]?[A-Za-z0-9_-]{16,}/g,
  /\bxox[abprse]-[A-Za-z0-9-]{10,}/g,
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}/g,
  /\b(npm|hf|pypi)[-_][A-Za-z0-9_-]{20,}/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];
/** The same shapes, unanchored and without the global flag, for whole-value tests. */
const TOKEN_TESTS: readonly RegExp[] = TOKEN_SHAPES.map((shape) => new RegExp(shape.source));
/** Inside free text: a credential header with its value (scheme and token, or quoted). */
const INLINE_HEADER = /\b(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token|x-access-token|private-token|x-goog-api-key)\s*:\s*(?:"[^"]*"|'[^']*'|(?:bearer|basic|token|dpop|digest)\s+[^\s'"]+|[^\s'"]+)/gi;
/** Inside free text: an option and its value (--token X, --password=X). */
const INLINE_OPTION = /(--?[A-Za-z][\w-]*)(=|\s+)(?:"[^"]*"|'[^']*'|[^\s'"-][^\s'"]*)/g;
/** Inside free text: a variable assignment (GITHUB_TOKEN=X). */
const INLINE_ASSIGNMENT = /\b([A-Za-z_][A-Za-z0-9_]*)=(?:"[^"]*"|'[^']*'|[^\s'"]+)/g;
/** Long runs of token alphabet: candidates for the entropy check. */
const LONG_RUN = /[A-Za-z0-9+/=_-]{24,}/g;

/** A command line for the audit trail: bounded, with secret-looking values redacted. */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let pending: 'value' | 'header' | null = null;
  for (const raw of argv.slice(0, MAX_ARGS)) {
    const arg = typeof raw === 'string' ? raw : String(raw);
    const expecting = pending;
    pending = null;
    if (expecting === 'value') {
      out.push(REDACTED);
      continue;
    }
    if (SECRET_HEADER.test(arg)) {
      out.push(redactHeader(arg));
      continue;
    }
    if (expecting === 'header') {
      out.push(truncate(redactText(arg), MAX_ARG_CHARS));
      continue;
    }
    const option = /^(--?[A-Za-z][\w.-]*)=([\s\S]*)$/.exec(arg) ?? /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(arg);
    if (option && isSecretName(option[1] ?? '')) {
      out.push(`${option[1]}=${REDACTED}`);
      continue;
    }
    if (/^--?[A-Za-z][\w.-]*$/.test(arg)) {
      // A flag: its value is the next argument (-H/--header take a header line, checked above).
      if (arg === '-H' || arg === '--header') pending = 'header';
      else if (isSecretName(arg)) pending = 'value';
      out.push(arg);
      continue;
    }
    out.push(truncate(redactText(/^[a-z][a-z0-9+.-]*:\/\//i.test(arg) ? redactUrl(arg) : arg), MAX_ARG_CHARS));
  }
  if (argv.length > MAX_ARGS) out.push(`<${argv.length - MAX_ARGS} more>`);
  return out;
}

/** True for option or variable names that carry secrets: --api-key, GITHUB_TOKEN, clientSecret. */
export function isSecretName(name: string): boolean {
  const parts = name
    .replace(/^-+/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_.-]+/)
    .filter((p) => p !== '');
  if (parts.length === 1 && parts[0] === 'key') return true;
  for (let i = 0; i < parts.length; i++) {
    if (SECRET_PARTS.has(parts[i] ?? '')) return true;
    if (i > 0 && SECRET_PAIRS.has(`${parts[i - 1]} ${parts[i]}`)) return true;
  }
  return false;
}

/**
 * A request path for the audit trail: query parameter names kept, values dropped ("?q=*"),
 * fragment dropped, token-shaped segments redacted.
 */
export function redactPath(path: string): string {
  const text = typeof path === 'string' ? path : String(path);
  const hashAt = text.indexOf('#');
  const noFragment = hashAt >= 0 ? text.slice(0, hashAt) : text;
  const q = noFragment.indexOf('?');
  const base = q >= 0 ? noFragment.slice(0, q) : noFragment;
  const segments = base.split('/').map((s) => (looksSecret(safeDecode(s)) ? REDACTED : redactText(s)));
  let out = segments.join('/');
  if (q >= 0) {
    const names = noFragment.slice(q + 1).split('&').filter((p) => p !== '').map((p) => {
      const name = p.split('=')[0] ?? '';
      return `${looksSecret(safeDecode(name)) ? REDACTED : name}=*`;
    });
    out += `?${names.join('&')}`;
  }
  return truncate(out, MAX_PATH_CHARS);
}

/** A URL with userinfo removed and query values dropped. Unparseable input is redacted whole. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const auth = u.username || u.password ? `${REDACTED}@` : '';
    return `${u.protocol}//${auth}${u.host}${redactPath(`${u.pathname}${u.search}`)}`;
  } catch {
    return REDACTED;
  }
}

/**
 * Free text (a shell command in one argument, reason messages) with secrets redacted: credential
 * headers, secret-named options and assignments, token shapes and long random strings.
 */
export function redactText(text: string): string {
  let out = truncate(typeof text === 'string' ? text : String(text), MAX_TEXT_CHARS);
  out = out.replace(INLINE_HEADER, (_m, name: string) => `${name}: ${REDACTED}`);
  out = out.replace(INLINE_OPTION, (m, name: string, sep: string) => (isSecretName(name) ? `${name}${sep}${REDACTED}` : m));
  out = out.replace(INLINE_ASSIGNMENT, (m, name: string) => (isSecretName(name) ? `${name}=${REDACTED}` : m));
  for (const shape of TOKEN_SHAPES) out = out.replace(shape, REDACTED);
  return out.replace(LONG_RUN, (run) => (highEntropy(run) ? REDACTED : run));
}

/** True when a whole value looks like a credential: a known token shape or a long random string. */
export function looksSecret(value: string): boolean {
  if (value.length < 16) return false;
  if (TOKEN_TESTS.some((shape) => shape.test(value))) return true;
  return /^[A-Za-z0-9+/=_.-]{24,}$/.test(value) && highEntropy(value);
}

function redactHeader(line: string): string {
  const colon = line.indexOf(':');
  return `${line.slice(0, colon + 1)} ${REDACTED}`;
}

/**
 * Shannon entropy per character above 3.5 bits with at least two character classes: random keys
 * (base64, hex, url-safe) pass, words, paths and package names rarely do.
 */
function highEntropy(value: string): boolean {
  if (value.length < 24) return false;
  // A file path (lowercase segments split by '/') is not a key, however varied its letters.
  if (value.includes('/') && value.split('/').every((segment) => /^[a-z0-9._-]{0,48}$/.test(segment))) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((r) => r.test(value)).length;
  if (classes < 2) return false;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits > 3.5;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/**
 * Removes secret-looking values from a command line before it enters a Principal (which reaches
 * audit, prompts and 403 bodies): values of credential flags, credential headers, env-style
 * assignments, URL passwords and query values, and provider token shapes. Pure; over-redacts
 * rather than under-redacts.
 */

export const REDACTED = '<redacted>';
const MAX_ARG_CHARS = 4096;

/** Names that carry a credential (flags, headers, env vars, query parameters). */
const SECRET_NAME_RE = /token|secret|passw(?:or)?d|passwd|\bpwd\b|api[-_]?key|apikey|auth|credential|private[-_]?key|access[-_]?key|session|cookie|bearer|signature|sig$/i;

/** Flags whose next argument is a credential, beyond SECRET_NAME_RE (curl -u, -b; mysql -p is attached). */
const SECRET_FLAGS = new Set(['-u', '--user', '--proxy-user', '-b', '--cookie', '--oauth2-bearer', '-p', '--pass']);

/** Flags whose next argument is a header ("Name: value"). */
const HEADER_FLAGS = new Set(['-H', '--header', '--proxy-header']);

const TOKEN_RE = new RegExp(
  [
    'gh[pousr]_[A-Za-z0-9]{30,}',
    'github_pat_[A-Za-z0-9_]{30,}',
    'glpat-[A-Za-z0-9_-]{20,}',
    'sk-ant-[A-Za-z0-9_-]{20,}',
    'sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}',
    '[sr]k_(?:live|test)_[A-Za-z0-9]{16,}',
    'xox[abposr]-[A-Za-z0-9-]{10,}',
    '(?:AKIA|ASIA)[0-9A-Z]{16}',
    'AIza[0-9A-Za-z_-]{35}',
    'ya29\\.[0-9A-Za-z_-]{20,}',
    'npm_[A-Za-z0-9]{36}',
    'hf_[A-Za-z0-9]{30,}',
    'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}',
  ].join('|'),
  'g',
);

/** A copy of argv with secret-looking values replaced by "<redacted>"; argv[0] is kept. */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let nextIsSecret = false;
  let nextIsHeader = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] ?? '';
    const arg = raw.length > MAX_ARG_CHARS ? `${raw.slice(0, MAX_ARG_CHARS)}...` : raw;
    if (i === 0) {
      out.push(arg);
      continue;
    }
    if (nextIsSecret) {
      nextIsSecret = false;
      out.push(REDACTED);
      continue;
    }
    if (nextIsHeader) {
      nextIsHeader = false;
      out.push(redactHeader(arg));
      continue;
    }
    if (arg.startsWith('-') && !arg.includes('=')) {
      if (HEADER_FLAGS.has(arg)) nextIsHeader = true;
      else if (SECRET_FLAGS.has(arg) || (arg.startsWith('--') && SECRET_NAME_RE.test(arg))) nextIsSecret = true;
      out.push(arg);
      continue;
    }
    out.push(redactValue(arg));
  }
  return out;
}

/** One argument that is not a flag name: --flag=value, NAME=value, "Header: value", URLs, tokens. */
export function redactValue(arg: string): string {
  const eq = arg.indexOf('=');
  if (eq > 0 && /^-{0,2}[A-Za-z_][A-Za-z0-9_.-]*$/.test(arg.slice(0, eq)) && SECRET_NAME_RE.test(arg.slice(0, eq))) {
    return `${arg.slice(0, eq + 1)}${REDACTED}`;
  }
  const header = redactHeader(arg);
  if (header !== arg) return header;
  return redactInline(redactTokens(redactUrls(redactJsonPairs(arg))));
}

/**
 * Credentials inside a longer string, typically a shell command (bash -c 'curl -H "Authorization:
 * Bearer x" ...'): credential headers, "Bearer x", NAME_TOKEN=x, --token x / --token=x.
 */
function redactInline(arg: string): string {
  if (arg.length < 8) return arg;
  return arg
    .replace(/\b((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|cookie)(\s*:\s*)(?:(?:bearer|basic|token|dpop)\s+)?[^\s"']+/gi, `$1$2${REDACTED}`)
    .replace(/\b(bearer|token)(\s+)(?!<redacted>)[A-Za-z0-9._~+/=-]{8,}/gi, `$1$2${REDACTED}`)
    .replace(/\b([A-Za-z0-9_]*(?:token|secret|passw(?:or)?d|api_?key|auth|_key)[A-Za-z0-9_]*)=(?!<redacted>)[^\s"']+/gi, `$1=${REDACTED}`)
    .replace(/(\s--?[A-Za-z0-9-]*(?:token|secret|passw(?:or)?d|api-?key|auth)[A-Za-z0-9-]*)(=|\s+)(?!<redacted>)(?!-)[^\s"']+/gi, `$1$2${REDACTED}`);
}

/** "name": "value" pairs inside inline JSON (--env '{"API_KEY": "..."}'). */
function redactJsonPairs(arg: string): string {
  if (!arg.includes('"')) return arg;
  return arg.replace(/"([^"\\]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g, (all, name: string, colon: string) => (SECRET_NAME_RE.test(name) ? `"${name}"${colon}"${REDACTED}"` : all));
}

function redactHeader(arg: string): string {
  const match = /^([A-Za-z0-9-]{1,64}):\s*(.*)$/s.exec(arg);
  if (match && SECRET_NAME_RE.test(match[1] ?? '') && (match[2] ?? '') !== '') return `${match[1]}: ${REDACTED}`;
  return redactTokens(arg);
}

/** URL userinfo passwords and query values under credential-like names. */
function redactUrls(arg: string): string {
  return arg.replace(/\b([a-z][a-z0-9+.-]{0,20}:\/\/)([^\s/?#@]*@)?([^\s?#]*)(\?[^\s#]*)?/gi, (_m, scheme: string, userinfo: string | undefined, rest: string, query: string | undefined) => {
    let user = userinfo ?? '';
    const colon = user.indexOf(':');
    if (colon >= 0) user = `${user.slice(0, colon)}:${REDACTED}@`;
    else if (user !== '' && user.length > 21) user = `${REDACTED}@`; // a bare token used as the user name
    const q = query ? query.replace(/([?&])([^=&]+)=([^&]*)/g, (all, sep: string, name: string) => (SECRET_NAME_RE.test(name) ? `${sep}${name}=${REDACTED}` : all)) : '';
    return `${scheme}${user}${rest}${q}`;
  });
}

function redactTokens(arg: string): string {
  let out = arg.replace(TOKEN_RE, REDACTED);
  if (/-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----/.test(out)) out = REDACTED;
  return out;
}

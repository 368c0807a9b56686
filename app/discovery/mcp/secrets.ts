/**
 * Pure secret heuristics, no IO: which names are credential-like, which values look like provider
 * tokens, and which substrings are references to a secret kept elsewhere (${VAR}, ${input:x},
 * {env:X}, ${{ secrets.X }}, $(cmd) ...). Callers decide what to report; nothing here keeps values.
 */

export type Reference = Readonly<{ kind: string; target: string }>;

/** A value split into the references it holds and what is left once they are removed. */
export type ValueParts = Readonly<{ references: readonly Reference[]; remainder: string }>;

/** Longest value (or token) examined; longer ones are judged by their first part. */
const MAX_EXAMINED = 8192;

/**
 * Every reference syntax the clients expand, in one pass. Groups: 1-2 Continue ${{ secrets.X }},
 * 3 ${env:X}, 4 ${input:x}, 5 ${user_config.x} (Claude Desktop extensions), 6-7 ${X} / ${X:-default},
 * 8 {env:X} and 9 {file:path} (opencode), 10 $(cmd) (Crush), 11 $X.
 */
const REFERENCE_RE =
  /\$\{\{\s*(secrets|inputs)\.([^}\s]{1,200})\s*\}\}|\$\{env:([^}]{1,200})\}|\$\{input:([^}]{1,200})\}|\$\{user_config\.([^}]{1,200})\}|\$\{([A-Za-z_][A-Za-z0-9_]{0,200})(?::?-([^}]{0,500}))?\}|\{env:([^}]{1,200})\}|\{file:([^}]{1,500})\}|\$\(([^)]{0,500})\)|\$([A-Za-z_][A-Za-z0-9_]{0,200})/g;

/** Splits a value into references and literal remainder (defaults of ${X:-default} count as literal). */
export function splitReferences(value: string): ValueParts {
  const text = value.length > MAX_EXAMINED ? value.slice(0, MAX_EXAMINED) : value;
  const references: Reference[] = [];
  const defaults: string[] = [];
  const remainder = text.replace(REFERENCE_RE, (...m: (string | undefined)[]) => {
    if (m[1] !== undefined) references.push({ kind: m[1] === 'secrets' ? 'continue-secret' : 'continue-input', target: m[2] ?? '' });
    else if (m[3] !== undefined) references.push({ kind: 'env-var', target: m[3] });
    else if (m[4] !== undefined) references.push({ kind: 'vscode-input', target: m[4] });
    else if (m[5] !== undefined) references.push({ kind: 'user-config', target: m[5] });
    else if (m[6] !== undefined) {
      references.push({ kind: 'env-var', target: m[6] });
      if (m[7]) defaults.push(m[7]);
    } else if (m[8] !== undefined) references.push({ kind: 'env-var', target: m[8] });
    else if (m[9] !== undefined) references.push({ kind: 'file', target: m[9] });
    else if (m[10] !== undefined) references.push({ kind: 'shell-command', target: '' });
    else if (m[11] !== undefined) references.push({ kind: 'env-var', target: m[11] });
    return ' ';
  });
  return { references, remainder: [remainder, ...defaults].join(' ') };
}

/** Reference kinds that always stand for a secret, whatever the name they are assigned to. */
const SECRET_REFERENCE_KINDS = new Set(['continue-secret', 'vscode-input', 'user-config', 'shell-command', 'file']);

/** Whether a reference is to a credential: a secret kind, or a secret-like target name. */
export function isSecretReference(reference: Reference): boolean {
  return SECRET_REFERENCE_KINDS.has(reference.kind) || isSecretName(reference.target);
}

const TOKEN_PATTERNS: readonly (readonly [RegExp, string])[] = [
  [/^gh[pousr]_[A-Za-z0-9]{30,}$/, 'github-token'],
  [/^github_pat_[A-Za-z0-9_]{30,}$/, 'github-token'],
  [/^glpat-[A-Za-z0-9_-]{20,}$/, 'gitlab-token'],
  [/^sk-ant-[A-Za-z0-9_-]{20,}$/, 'anthropic-key'],
  [/^sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}$/, 'openai-key'],
  [/^[sr]k_(?:live|test)_[A-Za-z0-9]{16,}$/, 'stripe-key'],
  [/^xox[abposr]-[A-Za-z0-9-]{10,}$/, 'slack-token'],
  [/^xapp-[A-Za-z0-9-]{10,}$/, 'slack-token'],
  [/^(?:AKIA|ASIA)[0-9A-Z]{16}$/, 'aws-access-key'],
  [/^AIza[0-9A-Za-z_-]{35}$/, 'google-api-key'],
  [/^ya29\.[0-9A-Za-z_-]{20,}$/, 'google-oauth-token'],
  [/^npm_[A-Za-z0-9]{36}$/, 'npm-token'],
  [/^hf_[A-Za-z0-9]{30,}$/, 'huggingface-token'],
  [/^(?:ntn|secret)_[A-Za-z0-9]{30,}$/, 'notion-token'],
  [/^lin_(?:api|oauth)_[A-Za-z0-9]{30,}$/, 'linear-key'],
  [/^SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}$/, 'sendgrid-key'],
  [/^dop_v1_[a-f0-9]{64}$/, 'digitalocean-token'],
  [/^shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}$/, 'shopify-token'],
  [/^ATATT[A-Za-z0-9_=-]{20,}$/, 'atlassian-token'],
  [/^pypi-[A-Za-z0-9_-]{50,}$/, 'pypi-token'],
  [/^figd_[A-Za-z0-9_-]{20,}$/, 'figma-token'],
  [/^PMAK-[A-Za-z0-9-]{20,}$/, 'postman-key'],
  [/^sntry[su]_[A-Za-z0-9_=+-]{20,}$/, 'sentry-token'],
  [/^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$/, 'jwt'],
];

const PRIVATE_KEY_RE = /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----/;
/** Characters that cannot be inside a token: the value is cut into candidate tokens at these. */
const TOKEN_SEPARATORS = /[\s"'`,;=:@/?&#<>()[\]{}|\\]+/;

/** The provider kind of the first token-looking part of a value ("github-token", "jwt" ...). */
export function detectToken(value: string): string | undefined {
  const text = value.length > MAX_EXAMINED ? value.slice(0, MAX_EXAMINED) : value;
  if (PRIVATE_KEY_RE.test(text)) return 'private-key';
  for (const part of text.split(TOKEN_SEPARATORS)) {
    if (part.length < 16 || part.length > 4096) continue;
    for (const [pattern, kind] of TOKEN_PATTERNS) if (pattern.test(part)) return kind;
  }
  return undefined;
}

/** A long, random-looking string (not hex, not a UUID): used for URL paths and usernames only. */
export function looksRandom(value: string): boolean {
  if (value.length < 32 || value.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(value)) return false;
  if (/^[0-9a-fA-F-]+$/.test(value)) return false;
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy >= 4;
}

const SECRET_WORDS = new Set([
  'token', 'tokens', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'pwd', 'passphrase',
  'apikey', 'apikeys', 'accesskey', 'secretkey', 'privatekey', 'authtoken', 'accesstoken',
  'credential', 'credentials', 'creds', 'bearer', 'cookie', 'cookies', 'auth', 'authorization',
  'pat', 'dsn', 'session', 'sessionid',
]);
/** A last word that makes a secret-sounding name describe something else (TOKEN_URL, AUTH_TYPE). */
const NOT_SECRET_LAST = new Set([
  'id', 'ids', 'url', 'uri', 'urls', 'path', 'paths', 'file', 'dir', 'directory', 'name', 'type',
  'ttl', 'expiry', 'expires', 'expiration', 'host', 'hostname', 'port', 'endpoint', 'region', 'mode',
  'method', 'provider', 'scope', 'scopes', 'enabled', 'disabled', 'timeout', 'user', 'username',
  'email', 'version', 'header', 'prefix', 'length', 'count', 'format', 'location', 'env', 'var',
  'server', 'issuer', 'audience', 'strategy', 'flow', 'domain', 'realm', 'tenant', 'level',
]);

/** Words of an identifier: "X-Api-Key" / "apiKey" / "API_KEY" -> ["x", "api", "key"] / ["api", "key"]. */
export function nameWords(name: string): string[] {
  return name
    .slice(0, 200)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** Whether a name (env var, header, flag, query parameter) sounds like it holds a credential. */
export function isSecretName(name: string): boolean {
  const words = nameWords(name);
  const last = words[words.length - 1];
  if (last === undefined) return false;
  if (words.length > 1 && NOT_SECRET_LAST.has(last)) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  return last === 'key' || last === 'keys';
}

/** The kind of secret a credential-like name suggests ("password", "api-key", "token" ...). */
export function kindFromName(name: string): string {
  const words = nameWords(name);
  const has = (...candidates: string[]): boolean => words.some((w) => candidates.includes(w));
  if (has('password', 'passwords', 'passwd', 'pwd', 'passphrase')) return 'password';
  if (has('token', 'tokens', 'pat', 'bearer', 'authtoken', 'accesstoken')) return 'token';
  if (has('apikey', 'apikeys', 'accesskey', 'key', 'keys', 'secretkey', 'privatekey')) return 'api-key';
  if (has('secret', 'secrets')) return 'secret';
  if (has('cookie', 'cookies', 'session', 'sessionid')) return 'cookie';
  if (has('dsn')) return 'connection-string';
  if (has('credential', 'credentials', 'creds')) return 'credential';
  return 'authorization';
}

/** Values that are not secrets even under a secret name: flags, small numbers, placeholders. */
export function isTrivialValue(value: string): boolean {
  const v = value.trim();
  if (v.length === 0) return true;
  if (/^(?:true|false|yes|no|on|off|null|none|nil|undefined|-?\d{1,6})$/i.test(v)) return true;
  if (/^<[^<>]*>$/.test(v) || /^\*+$/.test(v) || /^x+$/i.test(v) || /^\.+$/.test(v)) return true;
  if (/^(?:your|my|insert|enter|put)[-_ ]/i.test(v)) return true;
  return /^(?:changeme|change[-_]me|replace[-_]?me|todo|placeholder|redacted|secret|token|password|api[-_]?key)$/i.test(v);
}

/** A value that names a file rather than holding the secret (GOOGLE_APPLICATION_CREDENTIALS=/path). */
export function isPathLike(value: string): boolean {
  return /^(?:~|\.{1,2})?[/\\]/.test(value) || /^[A-Za-z]:[/\\]/.test(value);
}

/** "Bearer x" / "Basic x" / "Token x": the auth scheme and what follows it. */
export function splitAuthScheme(value: string): { scheme: string | undefined; rest: string } {
  const m = /^\s*(bearer|basic|token|apikey|api-key|digest)\s+([\s\S]*)$/i.exec(value);
  if (!m) return { scheme: undefined, rest: value.trim() };
  return { scheme: (m[1] ?? '').toLowerCase(), rest: (m[2] ?? '').trim() };
}

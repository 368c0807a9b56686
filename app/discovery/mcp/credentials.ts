/**
 * Credential posture of one server definition and the redacted forms of its args and URL. Each
 * finding says where a credential sits and its name, never its value; values are read here to be
 * classified and then dropped. URL query values and userinfo passwords are always redacted.
 */
import type { CredentialFinding, CredentialPosture } from '../../api/inventory.ts';
import type { RawServer } from './model.ts';
import {
  detectToken,
  isPathLike,
  isSecretName,
  isSecretReference,
  isTrivialValue,
  kindFromName,
  looksRandom,
  splitAuthScheme,
  splitReferences,
} from './secrets.ts';

/** What replaces a literal secret value in args and URLs. */
export const REDACTED = '<redacted>';
/** Longest single argument examined; a longer one is redacted whole. */
const MAX_ARG_EXAMINED = 8192;

export type Analysis = Readonly<{
  command?: string;
  args?: readonly string[];
  url?: string;
  remoteUrl?: string;
  envNames: readonly string[];
  headerNames: readonly string[];
  posture: CredentialPosture;
  findings: readonly CredentialFinding[];
}>;

type Location = CredentialFinding['location'];
type Verdict = { posture: 'reference' | 'literal'; kind: string } | undefined;

/** Stdio launchers that proxy a remote MCP server: the URL in their args is the real endpoint. */
const BRIDGE_RE = /(?:^|[/@\\])(?:mcp-remote|supergateway|mcp-proxy|mcp-remote-client|remote-mcp)(?:@[\w.^~-]+)?(?:\.(?:js|cmd|exe))?$/i;
const HEADER_FLAGS = new Set(['--header', '-H', '--headers', '--http-header']);

/** Classifies every place a server definition may hold a credential and redacts args, command and URL. */
export function analyzeServer(raw: RawServer): Analysis {
  const findings: CredentialFinding[] = [];
  const add = (location: Location, name: string, verdict: Verdict): void => {
    // A token pasted where a name belongs is a literal secret in its own right.
    const nameToken = detectToken(name);
    if (nameToken) verdict = { posture: 'literal', kind: nameToken };
    if (!verdict) return;
    if (findings.some((f) => f.location === location && f.name === name && f.posture === verdict.posture && f.kind === verdict.kind)) return;
    findings.push({ location, name: safeName(name), posture: verdict.posture, kind: verdict.kind });
  };

  const envNames = new Set<string>();
  for (const [name, value] of raw.env ?? []) {
    envNames.add(safeName(name));
    add('env', name, classifyValue(name, value, add, 'env'));
  }
  for (const name of raw.envPassthrough ?? []) {
    envNames.add(safeName(name));
    if (isSecretName(name)) add('env', name, { posture: 'reference', kind: 'env-passthrough' });
  }

  const headerNames = new Set<string>();
  for (const [name, value] of raw.headers ?? []) {
    headerNames.add(safeName(name));
    add('header', name, classifyHeader(name, value));
  }
  for (const field of raw.secretFields ?? []) add(field.location, field.name, classifyValue(field.name, field.value, add, field.location));
  for (const reference of raw.references ?? []) add(reference.location, reference.name, { posture: reference.posture, kind: reference.kind });

  let url: string | undefined;
  if (raw.url !== undefined) {
    const analyzed = analyzeUrl(raw.url);
    url = analyzed.redacted;
    for (const s of analyzed.secrets) add(s.location, s.name, s.verdict);
  }

  // A command is normally a program path, but a shell-string command can carry a secret too.
  let command: string | undefined;
  if (raw.command !== undefined) {
    const analyzed = analyzeArgs([raw.command]);
    command = analyzed.args[0] ?? raw.command;
    for (const s of analyzed.secrets) add('arg', 'command', s.verdict);
  }

  let args: string[] | undefined;
  let remoteUrl: string | undefined;
  if (raw.args !== undefined || raw.command !== undefined) {
    const analyzed = analyzeArgs(raw.args ?? []);
    if (raw.args !== undefined) args = analyzed.args;
    for (const s of analyzed.secrets) add(s.location, s.name, s.verdict);
    const isBridge = [raw.command ?? '', ...(raw.args ?? [])].some((a) => BRIDGE_RE.test(a));
    if (isBridge) {
      remoteUrl = analyzed.firstUrl;
      for (const name of analyzed.headerNames) headerNames.add(safeName(name));
    }
  }

  const posture: CredentialPosture = findings.some((f) => f.posture === 'literal')
    ? 'literal'
    : findings.length > 0
      ? 'reference'
      : 'none';
  return {
    ...(command !== undefined ? { command } : {}),
    ...(args !== undefined ? { args } : {}),
    ...(url !== undefined ? { url } : {}),
    ...(remoteUrl !== undefined ? { remoteUrl } : {}),
    envNames: [...envNames].sort(),
    headerNames: [...headerNames].sort(),
    posture,
    findings,
  };
}

/** Env-style value (env var, extension setting, CLI flag value) under a name. */
function classifyValue(name: string, value: unknown, add: (l: Location, n: string, v: Verdict) => void, location: Location): Verdict {
  if (typeof value === 'number' || typeof value === 'bigint') value = String(value);
  if (typeof value !== 'string') return undefined;
  const { references, remainder } = splitReferences(value);
  const literal = splitAuthScheme(remainder);
  const rest = literal.rest.trim();
  const token = detectToken(rest);
  if (token) return { posture: 'literal', kind: token };
  if (references.length === 0 && /^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    // A URL (DATABASE_URL, a webhook): its userinfo and query are what may hold a secret.
    for (const s of analyzeUrl(rest).secrets) add(location, name, s.verdict);
    return undefined;
  }
  if (literal.scheme && !isTrivialValue(rest)) return { posture: 'literal', kind: schemeKind(literal.scheme) };
  const secretName = isSecretName(name);
  if (secretName && !isTrivialValue(rest)) {
    if (isPathLike(rest) && references.length === 0) return { posture: 'reference', kind: 'file-path' };
    return { posture: 'literal', kind: kindFromName(name) };
  }
  const reference = references.find((r) => secretName || isSecretReference(r));
  return reference ? { posture: 'reference', kind: reference.kind } : undefined;
}

function classifyHeader(name: string, value: unknown): Verdict {
  if (typeof value !== 'string') return undefined;
  const lower = name.toLowerCase();
  const isAuth = lower === 'authorization' || lower === 'proxy-authorization';
  const secretName = isAuth || lower === 'cookie' || isSecretName(name);
  const { references, remainder } = splitReferences(value);
  const literal = splitAuthScheme(remainder);
  const rest = literal.rest.trim();
  const token = detectToken(rest);
  if (token) return { posture: 'literal', kind: token };
  if (!isTrivialValue(rest) && (secretName || literal.scheme)) {
    if (isAuth || literal.scheme) return { posture: 'literal', kind: literal.scheme ? schemeKind(literal.scheme) : 'authorization' };
    return { posture: 'literal', kind: kindFromName(name) };
  }
  const reference = references.find((r) => secretName || isSecretReference(r));
  return reference ? { posture: 'reference', kind: reference.kind } : undefined;
}

function schemeKind(scheme: string): string {
  return scheme === 'bearer' || scheme === 'basic' ? scheme : 'authorization';
}

type Secret = { location: Location; name: string; verdict: Verdict };

/**
 * Redacts a URL: every query and fragment value, the userinfo password (and a token-looking
 * username), and token-looking path segments. Works on the text, so ${VAR} hosts survive.
 */
export function analyzeUrl(url: string): { redacted: string; secrets: Secret[] } {
  const secrets: Secret[] = [];
  const m = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)([^?#]*)(\?[^#]*)?(#[\s\S]*)?$/i.exec(url);
  if (!m) return { redacted: REDACTED, secrets: [{ location: 'url-query', name: 'url', verdict: { posture: 'literal', kind: 'unparsable-url' } }] };
  const scheme = m[1] ?? '';
  let authority = m[2] ?? '';
  const at = authority.lastIndexOf('@');
  if (at !== -1 && scheme) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    let user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    const password = colon === -1 ? undefined : userinfo.slice(colon + 1);
    if (detectToken(user) || looksRandom(user)) {
      secrets.push({ location: 'url-userinfo', name: 'username', verdict: { posture: 'literal', kind: detectToken(user) ?? 'token' } });
      user = REDACTED;
    }
    if (password !== undefined && password.length > 0) {
      const { references, remainder } = splitReferences(password);
      const verdict: Verdict =
        remainder.trim().length === 0 && references[0]
          ? { posture: 'reference', kind: references[0].kind }
          : { posture: 'literal', kind: detectToken(password) ?? 'password' };
      secrets.push({ location: 'url-userinfo', name: 'password', verdict });
    }
    authority = `${user}${password !== undefined ? `:${password.length > 0 ? REDACTED : ''}` : ''}@${authority.slice(at + 1)}`;
  }
  const path = (m[3] ?? '')
    .split('/')
    .map((segment) => {
      const kind = detectToken(segment) ?? (looksRandom(segment) ? 'token' : undefined);
      if (!kind) return segment;
      secrets.push({ location: 'url-query', name: '(path)', verdict: { posture: 'literal', kind } });
      return REDACTED;
    })
    .join('/');
  const query = m[4] ? `?${redactParams(m[4].slice(1), secrets)}` : '';
  const fragment = m[5] ? `#${redactParams(m[5].slice(1), secrets)}` : '';
  return { redacted: `${scheme}${authority}${path}${query}${fragment}`, secrets };
}

function redactParams(params: string, secrets: Secret[]): string {
  if (params.length === 0) return '';
  return params
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) {
        // A bare value (#token, ?abc): keep it only when it is plainly not a secret.
        if (detectToken(pair)) secrets.push({ location: 'url-query', name: '(bare)', verdict: { posture: 'literal', kind: detectToken(pair) ?? 'token' } });
        return pair.length === 0 || /^[\w.-]{1,32}$/.test(pair) ? pair : REDACTED;
      }
      const name = safeDecode(pair.slice(0, eq));
      const value = safeDecode(pair.slice(eq + 1));
      if (value.length > 0) {
        const verdict = classifyParam(name, value);
        if (verdict) secrets.push({ location: 'url-query', name, verdict });
      }
      return `${pair.slice(0, eq)}=${value.length > 0 ? REDACTED : ''}`;
    })
    .join('&');
}

function classifyParam(name: string, value: string): Verdict {
  const { references, remainder } = splitReferences(value);
  const token = detectToken(remainder);
  if (token) return { posture: 'literal', kind: token };
  const secretName = isSecretName(name) || /^(?:key|sig|signature|code)$/i.test(name);
  if (secretName && !isTrivialValue(remainder)) return { posture: 'literal', kind: kindFromName(name) };
  const reference = references.find((r) => secretName || isSecretReference(r));
  return reference ? { posture: 'reference', kind: reference.kind } : undefined;
}

/**
 * Redacts literal secrets in argv: `--token=X`, `--token X`, `-H "Authorization: Bearer X"`,
 * `NAME=X` (docker -e), URLs, and bare token-looking args. Also returns header names passed with
 * --header and the first URL, for stdio bridges to remote servers.
 */
export function analyzeArgs(args: readonly string[]): { args: string[]; secrets: Secret[]; headerNames: string[]; firstUrl?: string } {
  const out: string[] = [];
  const secrets: Secret[] = [];
  const headerNames: string[] = [];
  let firstUrl: string | undefined;
  const pushValue = (flag: string, value: string): string => {
    if (HEADER_FLAGS.has(flag)) return redactHeaderArg(value, secrets, headerNames);
    const verdict = classifyValue(flag, value, (_location, name, v) => v && secrets.push({ location: 'arg', name, verdict: v }), 'arg');
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      const analyzed = analyzeUrl(value);
      firstUrl ??= analyzed.redacted;
      return analyzed.redacted;
    }
    if (!verdict) return redactInline(value, secrets);
    secrets.push({ location: 'arg', name: flag, verdict });
    return verdict.posture === 'literal' ? REDACTED : value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg.length > MAX_ARG_EXAMINED) {
      // Too long to examine fully and cheaply: nothing unexamined may be shown, so none of it is.
      out.push(REDACTED);
      continue;
    }
    const flagWithValue = /^(--?[A-Za-z][\w.-]*)=([\s\S]*)$/.exec(arg);
    if (flagWithValue) {
      const flag = flagWithValue[1] ?? '';
      out.push(`${flag}=${pushValue(flag, flagWithValue[2] ?? '')}`);
      continue;
    }
    const next = args[i + 1];
    if (/^--?[A-Za-z][\w.-]*$/.test(arg) && next !== undefined && !next.startsWith('-') && (HEADER_FLAGS.has(arg) || isSecretName(arg))) {
      out.push(arg, pushValue(arg, next));
      i++;
      continue;
    }
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(arg);
    if (assignment) {
      const name = assignment[1] ?? '';
      const value = assignment[2] ?? '';
      const verdict = classifyValue(name, value, (_location, n, v) => v && secrets.push({ location: 'arg', name: n, verdict: v }), 'arg');
      if (verdict) secrets.push({ location: 'arg', name, verdict });
      if (verdict?.posture === 'literal') out.push(`${name}=${REDACTED}`);
      else out.push(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? `${name}=${analyzeUrl(value).redacted}` : arg);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
      const analyzed = analyzeUrl(arg);
      secrets.push(...analyzed.secrets);
      firstUrl ??= analyzed.redacted;
      out.push(analyzed.redacted);
      continue;
    }
    if (/^[A-Za-z][\w-]*:\s*\S/.test(arg) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
      const colon = arg.indexOf(':');
      const headerName = arg.slice(0, colon);
      if (headerName.toLowerCase() === 'authorization' || isSecretName(headerName)) {
        out.push(redactHeaderArg(arg, secrets, headerNames));
        continue;
      }
    }
    const token = detectToken(arg);
    if (token) {
      secrets.push({ location: 'arg', name: `args[${i}]`, verdict: { posture: 'literal', kind: token } });
      out.push(REDACTED);
      continue;
    }
    out.push(redactInline(arg, secrets));
  }
  return { args: out, secrets, headerNames, ...(firstUrl !== undefined ? { firstUrl } : {}) };
}

/** `"apiKey": "x"` or `token=x` inside a larger argument (inline JSON, a query-ish string). */
const INLINE_PAIR_RE = /(["']?)([A-Za-z_][\w.-]{0,100})\1(\s*[:=]\s*)(["']?)([^"'\s,;&}\]]{1,4096})\4/g;

/** Redacts secret-named pairs inside an argument that is not itself a flag, a URL or a token. */
function redactInline(text: string, secrets: Secret[]): string {
  if (!/[:=]/.test(text)) return text;
  return text.replace(INLINE_PAIR_RE, (whole: string, q1: string, name: string, sep: string, q2: string, value: string) => {
    const verdict = classifyValue(name, value, () => undefined, 'arg');
    if (!verdict || verdict.posture !== 'literal') return whole;
    secrets.push({ location: 'arg', name, verdict });
    return `${q1}${name}${q1}${sep}${q2}${REDACTED}${q2}`;
  });
}

/** "Name: value" (or "Name=value") passed as one argument; the value is redacted when literal. */
function redactHeaderArg(text: string, secrets: Secret[], headerNames: string[]): string {
  const m = /^\s*([^:=\s]+)\s*[:=]\s*([\s\S]*)$/.exec(text);
  if (!m) {
    const token = detectToken(text);
    if (token) secrets.push({ location: 'header', name: '(header)', verdict: { posture: 'literal', kind: token } });
    return token ? REDACTED : text;
  }
  const name = m[1] ?? '';
  const value = m[2] ?? '';
  headerNames.push(name);
  const verdict = classifyHeader(name, value);
  if (!verdict) return text;
  secrets.push({ location: 'header', name, verdict });
  return verdict.posture === 'literal' ? `${name}: ${REDACTED}` : text;
}

/** A name is shown as is, unless it is itself a token (a secret pasted where a name belongs). */
function safeName(name: string): string {
  return detectToken(name) ? REDACTED : name;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

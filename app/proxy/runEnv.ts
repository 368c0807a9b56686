/**
 * The environment that puts any command behind Cordon (`cordon run`, `cordon proxy env`): proxy
 * variables for every common client, a NO_PROXY that bypasses nothing, and CA variables so clients
 * trust inspected tunnels. Variables that replace a client's trust store get a bundle of the
 * system roots plus the Cordon CA, so opaque tunnels to real sites still verify.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getCACertificates } from 'node:tls';
import { CoreError } from '../api/errors.ts';

export type RunEnvOptions = Readonly<{
  /** NO_PROXY for the child; default empty (nothing bypasses Cordon, loopback included). */
  noProxy?: string;
  /** The system-plus-Cordon bundle for variables that replace the trust store; default caFile. */
  bundleFile?: string;
}>;

/** Variables removed from the child's environment: a SOCKS or other ALL_PROXY would route around Cordon. */
export const RUN_ENV_REMOVED: readonly string[] = ['ALL_PROXY', 'all_proxy'];

const PROXY_VARS = ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'] as const;
/** Trust-store variables that *add* to the default roots. */
const ADDITIVE_CA_VARS = ['NODE_EXTRA_CA_CERTS'] as const;
/** Trust-store variables that *replace* the default roots (OpenSSL, Python requests, curl, git, Codex, pip, AWS, gRPC, ...). */
const REPLACING_CA_VARS = [
  'SSL_CERT_FILE',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'CODEX_CA_CERTIFICATE',
  'PIP_CERT',
  'AWS_CA_BUNDLE',
  'HTTPLIB2_CA_CERTS',
  'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH',
  'NIX_SSL_CERT_FILE',
  'CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE',
  'DENO_CERT',
] as const;
const AGENT_RE = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;
const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The variables for a command run behind the proxy at proxyUrl. Throws ERR_BAD_REQUEST for a
 * proxy URL that is not http://host:port or an unprintable agent name.
 */
export function cordonRunEnv(proxyUrl: string, caFile?: string, agent?: string, options: RunEnvOptions = {}): Record<string, string> {
  const url = checkProxyUrl(proxyUrl);
  const env: Record<string, string> = {};
  for (const name of PROXY_VARS) env[name] = url;
  env.NO_PROXY = options.noProxy ?? '';
  env.no_proxy = env.NO_PROXY;
  // Node 24's built-in fetch and http honour the proxy variables only with this set.
  env.NODE_USE_ENV_PROXY = '1';
  env.CORDON_PROXY_URL = url;
  if (caFile !== undefined && caFile !== '') {
    for (const name of ADDITIVE_CA_VARS) env[name] = caFile;
    const bundle = options.bundleFile ?? caFile;
    for (const name of REPLACING_CA_VARS) env[name] = bundle;
  }
  if (agent !== undefined) {
    if (!AGENT_RE.test(agent)) throw new CoreError('ERR_BAD_REQUEST', 'the agent name must be 1-128 printable characters');
    env.CORDON_AGENT = agent;
  }
  return env;
}

/** The child's environment: the parent's, minus RUN_ENV_REMOVED, plus the run variables. */
export function applyRunEnv(base: NodeJS.ProcessEnv, runEnv: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of RUN_ENV_REMOVED) delete env[name];
  return Object.assign(env, runEnv);
}

/**
 * Writes (once per content) a PEM bundle of Node's default roots, the system store and the Cordon
 * CA into dir, for the variables that replace a client's trust store. Returns its path. Throws
 * ERR_CA when caFile cannot be read or holds no certificate.
 */
export function writeCaBundle(caFile: string, dir: string): string {
  let caPem: string;
  try {
    caPem = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new CoreError('ERR_CA', `cannot read the Cordon CA file ${caFile}`, { cause: error });
  }
  const cordon = caPem.match(PEM_CERT_RE) ?? [];
  if (cordon.length === 0) throw new CoreError('ERR_CA', `${caFile} holds no PEM certificate`);
  const roots = new Set<string>();
  for (const type of ['default', 'system'] as const) {
    try {
      for (const pem of getCACertificates(type)) roots.add(pem.trim());
    } catch {
      // A platform without a readable system store still gets Node's bundled roots.
    }
  }
  for (const pem of cordon) roots.add(pem.trim());
  const text = `${[...roots].join('\n')}\n`;
  const path = join(dir, `ca-bundle-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.pem`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  }
  return path;
}

/** Shell lines that set the run environment (`cordon proxy env`). */
export function formatRunEnv(env: Readonly<Record<string, string>>, format: 'sh' | 'fish' | 'powershell' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(env, null, 2)}\n`;
  const lines: string[] = [];
  if (format === 'sh') {
    lines.push(`unset ${RUN_ENV_REMOVED.join(' ')}`);
    for (const [k, v] of Object.entries(env)) lines.push(`export ${k}='${v.replace(/'/g, `'\\''`)}'`);
  } else if (format === 'fish') {
    for (const name of RUN_ENV_REMOVED) lines.push(`set -e ${name}`);
    for (const [k, v] of Object.entries(env)) lines.push(`set -gx ${k} '${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
  } else {
    for (const name of RUN_ENV_REMOVED) lines.push(`Remove-Item Env:${name} -ErrorAction SilentlyContinue`);
    for (const [k, v] of Object.entries(env)) lines.push(`$env:${k} = '${v.replace(/'/g, "''")}'`);
  }
  return `${lines.join('\n')}\n`;
}

function checkProxyUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CoreError('ERR_BAD_REQUEST', `'${text.slice(0, 100)}' is not a proxy URL (expected http://127.0.0.1:PORT)`);
  }
  if (url.protocol !== 'http:' || !url.hostname || url.username || url.password || (url.pathname !== '/' && url.pathname !== '')) {
    throw new CoreError('ERR_BAD_REQUEST', 'the proxy URL must be http://host:port');
  }
  return `http://${url.host}`;
}

/**
 * Finds secrets leaving in a request's URL, headers or body sample with secretlint's maintained
 * recommended rule preset (not hand-written regexes). Returns only where and which rule: the
 * secret values never leave this function (secretlint masks them and we drop its messages).
 * secretlint is loaded on the first text that may hold a secret, not with the daemon: an idle
 * daemon does not carry it (several MB resident).
 */
import type { lintSource as LintSource } from '@secretlint/core';
import type { AnomalyFlag } from '../api/anomaly.ts';

export type SecretScanInput = Readonly<{
  url?: string;
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /** A bounded prefix of the body (the proxy never buffers a whole upload for this). */
  bodySample?: string;
}>;

type Linter = Readonly<{ lintSource: typeof LintSource; config: Parameters<typeof LintSource>[0]['options']['config'] }>;
/** Headers that legitimately carry credentials to their own upstream: not "leaving". */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key', 'dpop']);

export async function scanForSecrets(input: SecretScanInput): Promise<AnomalyFlag[]> {
  const flags: AnomalyFlag[] = [];
  if (input.url) {
    const rules = await rulesFound(safeDecode(input.url));
    if (rules.length > 0) flags.push({ code: 'secret-in-url', message: `the URL carries what looks like a secret (${rules.join(', ')})` });
  }
  if (input.headers) {
    const lines: string[] = [];
    for (const [name, value] of Object.entries(input.headers)) {
      if (CREDENTIAL_HEADERS.has(name.toLowerCase())) continue;
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    }
    const rules = lines.length > 0 ? await rulesFound(lines.join('\n')) : [];
    if (rules.length > 0) flags.push({ code: 'secret-in-header', message: `request headers carry what looks like a secret (${rules.join(', ')})` });
  }
  if (input.bodySample) {
    const rules = await rulesFound(input.bodySample);
    if (rules.length > 0) flags.push({ code: 'secret-in-body', message: `the request body carries what looks like a secret (${rules.join(', ')})` });
  }
  return flags;
}

/**
 * Every secret the preset detects carries a long token-like run, a private-key header, or URL
 * userinfo; text with none of them cannot match, so the linter (about 0.5 ms a call) is skipped.
 * This keeps clean requests, the common case on the proxy's path, cheap.
 */
const MAY_HOLD_SECRET = /[A-Za-z0-9_+=-]{16,}|PRIVATE KEY|:\/\/[^/\s:@]+:[^/\s@]+@/;

let linter: Promise<Linter> | null = null;

/**
 * secretlint and its preset, imported once (the promise is kept; a failed import is retried).
 * secretlint's profiler is on by default and records performance marks for every rule of every
 * lint in Node's global timeline, which nothing clears: in the daemon that grew by about 24 KB
 * per request. It is turned off before the first lint, as its README says library users should.
 */
function loadLinter(): Promise<Linter> {
  linter ??= Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend'), import('@secretlint/profiler')]).then(
    ([core, preset, profiler]) => {
      profiler.secretLintProfiler.setEnabled(false);
      return { lintSource: core.lintSource, config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: preset.creator }] } };
    },
    (error: unknown) => {
      linter = null;
      throw error;
    },
  );
  return linter;
}

async function rulesFound(content: string): Promise<string[]> {
  if (!MAY_HOLD_SECRET.test(content)) return [];
  try {
    const { lintSource, config } = await loadLinter();
    const result = await lintSource({
      source: { content, filePath: '/cordon-request', ext: '', contentType: 'text' },
      options: { config, maskSecrets: true, noPhysicFilePath: true },
    });
    return [...new Set(result.messages.map((m) => m.messageId))].sort();
  } catch {
    // A scanner failure must not pass silently as "no secret": report it as a finding of its own.
    return ['SCANNER_ERROR'];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

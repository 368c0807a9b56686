/**
 * Validates one setting value against its schema (draft 2020-12), key by key, so one bad key
 * never discards the good keys beside it. Messages describe the rule broken, never the value.
 * The validators are ajv's code generated from schema.ts ahead of time
 * (scripts/generate-validators.ts), so the daemon neither loads ajv nor compiles schemas.
 */
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { SettingKey } from '../api/settings.ts';
import * as generated from './generated/settingValidators.js';

/** One validator per key; the type fails to check when a key has none. */
const VALIDATORS: Readonly<Record<SettingKey, ValidateFunction>> = generated;

/** Friendlier text than the raw regular expression for keys whose pattern a user may trip on. */
const PATTERN_HINTS: Partial<Record<SettingKey, string>> = {
  fleetServerUrl: 'must be an https:// URL (http:// only for localhost) or ""',
  enrollSecretFile: 'must be an absolute path or ""',
  lockedPolicyFile: 'must be an absolute path or ""',
  allowedAgents: 'must be an agent kind: lowercase letters, digits, ".", "_" or "-", e.g. "claude-code"',
  blockedAgents: 'must be an agent kind: lowercase letters, digits, ".", "_" or "-", e.g. "claude-code"',
  protectAgents: 'must be "*" or an agent kind: lowercase letters, digits, ".", "_" or "-", e.g. "claude-code"',
  tlsInspectionHosts: 'must be a host name, optionally starting with "*." (no scheme, port or path)',
  projectRoots: 'must be an absolute directory or start with ~',
};

const MAX_MESSAGES = 3;

/** Returns null when `value` is valid for `key`, else a human message (never containing the value). */
export function validateSettingValue(key: SettingKey, value: unknown): string | null {
  const validate = Object.hasOwn(VALIDATORS, key) ? VALIDATORS[key] : undefined;
  if (!validate) return 'unknown setting';
  if (validate(value)) return null;
  const messages = [...new Set((validate.errors ?? []).map((e) => describeError(key, e)))];
  const shown = messages.slice(0, MAX_MESSAGES).join('; ');
  return messages.length > MAX_MESSAGES ? `${shown}; and ${messages.length - MAX_MESSAGES} more` : shown || 'is invalid';
}

function describeError(key: SettingKey, error: ErrorObject): string {
  const where = error.instancePath ? `${pointerToLabel(error.instancePath)}: ` : '';
  switch (error.keyword) {
    case 'enum':
      return `${where}must be one of: ${((error.params as { allowedValues?: unknown[] }).allowedValues ?? []).map(String).join(', ')}`;
    case 'pattern':
      return `${where}${PATTERN_HINTS[key] ?? error.message ?? 'has the wrong format'}`;
    case 'uniqueItems': {
      const p = error.params as { i?: number; j?: number };
      return `${where}items ${p.j} and ${p.i} are the same (items must be unique)`;
    }
    default:
      return `${where}${error.message ?? 'is invalid'}`;
  }
}

/** "/2" → "item 2"; "/a/b" → "a.b". */
function pointerToLabel(pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (parts.length === 1 && /^\d+$/.test(parts[0] ?? '')) return `item ${parts[0]}`;
  return parts.join('.');
}

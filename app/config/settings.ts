/**
 * Effective settings: built-in defaults < IT Defaults < user file < IT-enforced, validated key by
 * key. Nothing is silent: an invalid value, an unknown key, or a user value under an IT lock is a
 * reported problem, and an invalid value's key takes its value from the layers below.
 */
import type {
  SettingEntry,
  SettingKey,
  Settings,
  SettingsProblem,
  SettingsReport,
  SettingSource,
} from '../api/settings.ts';
import { REDACTED_SET, SECRET_SETTING_KEYS, SETTING_KEYS } from '../api/settings.ts';
import { CoreError } from '../api/errors.ts';
import type { CordonPaths } from '../util/paths.ts';
import type { Layer, LayerValue } from './layers.ts';
import { readManagedSettings } from './managed/index.ts';
import type { RegQueryRunner } from './managed/win32.ts';
import { isSettingKey, settingsDefaults } from './schema.ts';
import { editUserFile, readUserLayer, type EditResult } from './userFile.ts';
import { validateSettingValue } from './validate.ts';
import { suggest } from '../util/suggest.ts';

export type LoadSettingsOptions = Readonly<{
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Windows: how to run `reg query` (tests inject fixture output). */
  runRegistryQuery?: RegQueryRunner;
  /** macOS: the account whose user-level managed plist applies (default: this process's). */
  username?: string;
}>;

type Candidate = { source: SettingSource; entry: LayerValue };

/** Loads and merges every layer. Never throws for bad settings: they are in `problems`. */
export async function loadSettings(options: LoadSettingsOptions): Promise<SettingsReport> {
  const [user, managed] = await Promise.all([readUserLayer(options.paths.userSettingsFile), readManagedSettings(options)]);
  const problems: SettingsProblem[] = [...managed.layers.problems, ...user.problems];
  const defaults = settingsDefaults();
  const effective: Record<string, unknown> = { ...defaults };
  const entries: SettingEntry[] = [];

  for (const key of SETTING_KEYS) {
    const enforced = managed.layers.enforced.get(key);
    const locked = enforced !== undefined;
    const userValue = user.layer.get(key);
    const errors: string[] = [];
    let note: string | undefined;
    const candidates: Candidate[] = [];
    if (enforced) candidates.push({ source: 'managed', entry: enforced });
    if (userValue && locked) {
      note = 'the user value is ignored: locked by IT';
      problems.push(problemOf('user', userValue, key, 'locked', 'info', 'locked by IT: this value is ignored'));
    }
    // An invalid IT value keeps the key locked (IT meant to control it), so the user value is not a fallback.
    if (userValue && !locked) candidates.push({ source: 'user', entry: userValue });
    const managedDefault = managed.layers.defaults.get(key);
    if (managedDefault) candidates.push({ source: 'managed-default', entry: managedDefault });

    let chosen: Candidate | undefined;
    for (const candidate of candidates) {
      const message = 'error' in candidate.entry ? candidate.entry.error : validateSettingValue(key, candidate.entry.value);
      if (message === null) {
        chosen = candidate;
        break;
      }
      const layerSource = candidate.source === 'user' ? 'user' : 'managed';
      problems.push(problemOf(layerSource, candidate.entry, key, 'invalid', 'error', message));
      errors.push(`${candidate.entry.file}: ${candidate.entry.label}: ${message}`);
    }
    if (chosen && 'value' in chosen.entry) effective[key] = structuredClone(chosen.entry.value);
    entries.push({
      key,
      value: displayValue(key, effective[key]),
      source: chosen?.source ?? 'default',
      ...(chosen ? { file: chosen.entry.file } : {}),
      locked,
      secret: SECRET_SETTING_KEYS.includes(key),
      ...(errors.length > 0 ? { error: `${errors.join('; ')}; using the ${chosen?.source ?? 'default'} value` } : {}),
      ...(note ? { note } : {}),
    });
  }

  problems.push(...unknownKeys('user', user.layer), ...unknownKeys('managed', managed.layers.enforced), ...unknownKeys('managed', managed.layers.defaults));
  return {
    effective: effective as Settings,
    entries,
    problems,
    files: { user: options.paths.userSettingsFile, managed: managed.info },
  };
}

/**
 * Sets one key in the user file: validated against the schema (ERR_SETTINGS_INVALID) and refused
 * when IT enforces the key (ERR_SETTINGS_LOCKED). Comments in the file are kept.
 */
export async function setUserSetting(options: LoadSettingsOptions, key: string, value: unknown): Promise<EditResult> {
  if (!isSettingKey(key)) throw new CoreError('ERR_SETTINGS_INVALID', `unknown setting "${key}" (see 'cordon settings schema')`);
  const message = validateSettingValue(key, value);
  if (message !== null) throw new CoreError('ERR_SETTINGS_INVALID', `${key}: ${message}`);
  const managed = await readManagedSettings(options);
  const enforced = managed.layers.enforced.get(key);
  if (enforced) throw new CoreError('ERR_SETTINGS_LOCKED', `${key} is locked by IT (${enforced.file}); it cannot be changed here`);
  return editUserFile(options.paths.userSettingsFile, key, value);
}

/** Removes one key from the user file (also an unknown one, to clean up a typo); a no-op when absent. */
export async function unsetUserSetting(options: LoadSettingsOptions, key: string): Promise<EditResult> {
  return editUserFile(options.paths.userSettingsFile, key, undefined);
}

/** A copy of the report safe to print: secret values replaced by REDACTED_SET (or "" when unset). */
export function redactSettingsReport(report: SettingsReport): SettingsReport {
  const effective: Record<string, unknown> = { ...report.effective };
  for (const key of SECRET_SETTING_KEYS) effective[key] = displayValue(key, effective[key]);
  return { ...report, effective: effective as Settings };
}

function displayValue(key: SettingKey, value: unknown): unknown {
  if (!SECRET_SETTING_KEYS.includes(key)) return value;
  return typeof value === 'string' && value === '' ? '' : REDACTED_SET;
}

function problemOf(
  source: 'user' | 'managed',
  entry: LayerValue,
  key: SettingKey,
  kind: SettingsProblem['kind'],
  severity: SettingsProblem['severity'],
  message: string,
): SettingsProblem {
  return { source, file: entry.file, key: entry.label === key ? key : entry.label, kind, severity, message };
}

function unknownKeys(source: 'user' | 'managed', layer: Layer): SettingsProblem[] {
  const out: SettingsProblem[] = [];
  for (const [key, entry] of layer) {
    if (isSettingKey(key)) continue;
    out.push({ source, file: entry.file, key: entry.label, kind: 'unknown-key', severity: 'warning', message: `unknown setting${suggestKey(key)}: ignored` });
  }
  return out;
}

/** "did you mean" for a key that differs from a real one only by case or one or two characters. */
function suggestKey(key: string): string {
  return suggest(key, SETTING_KEYS);
}


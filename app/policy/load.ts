/**
 * Loads the effective policy: builtin + the user file (<configDir>/policy.yaml) + IT's locked
 * policy from settings (lockedPolicyFile, root-owned; lockedPolicy inline) + the fleet policy
 * given by the sync engine. The IO edge of app/policy: every failure is a problem, never a throw.
 */
import { join } from 'node:path';
import type { PolicyLayerName, PolicyMode, PolicyProblem } from '../api/policy.ts';
import type { SettingsReport } from '../api/settings.ts';
import { loadSettings } from '../config/settings.ts';
import { readManagedFile } from '../config/managed/secureFile.ts';
import { readTextFile } from '../discovery/safeRead.ts';
import type { CordonPaths } from '../util/paths.ts';
import { builtinSource } from './builtin.ts';
import { compilePolicy, type CompiledPolicy, type LayerSource } from './compile.ts';
import { MAX_POLICY_BYTES, parsePolicyText, parsePolicyValue, type ParseResult } from './parse.ts';

export type PolicyTextInput = Readonly<{ source: string; text?: string; value?: unknown }>;

export type LoadPolicyOptions = Readonly<{
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Extra user-layer files read after the user file (`cordon policy explain --policy FILE`). */
  extraUserFiles?: readonly string[];
  /** The fleet layer, as received by the sync engine. */
  fleet?: PolicyTextInput;
  /** Settings already loaded (the daemon has them); else loadSettings() is called. */
  settings?: SettingsReport;
  /** Skip settings entirely and use these managed policies instead (tests, embedding). */
  managed?: readonly PolicyTextInput[];
  /** "~/" in local file rules (default: this process's home). */
  home?: string;
}>;

export type LoadedPolicy = Readonly<{
  policy: CompiledPolicy;
  /** Every problem of every source (warnings included). */
  problems: readonly PolicyProblem[];
  /** Files whose change should trigger a reload. */
  watchPaths: readonly string[];
  /** The settings mode (monitor when settings were skipped); pass it to decide(). */
  settingsMode: PolicyMode;
}>;

/** Where the user's policy lives. */
export function userPolicyFile(paths: CordonPaths): string {
  return join(paths.configDir, 'policy.yaml');
}

/** Loads and compiles every layer. */
export async function loadEffectivePolicy(options: LoadPolicyOptions): Promise<LoadedPolicy> {
  const platform = options.platform ?? process.platform;
  const sources: LayerSource[] = [builtinSource()];
  const problems: PolicyProblem[] = [];
  const watchPaths: string[] = [];
  const add = (layer: PolicyLayerName, file: string, result: ParseResult | 'missing'): void => {
    if (result === 'missing') {
      sources.push({ layer, file, status: 'missing' });
      return;
    }
    problems.push(...result.problems);
    sources.push(result.ok ? { layer, file, status: 'loaded', policy: result.policy } : { layer, file, status: 'invalid', problems: result.problems });
  };

  const userFile = userPolicyFile(options.paths);
  watchPaths.push(userFile);
  add('user', userFile, await readPolicyFile(userFile));
  for (const file of options.extraUserFiles ?? []) {
    watchPaths.push(file);
    add('user', file, await readPolicyFile(file));
  }

  let settingsMode: PolicyMode = 'monitor';
  if (options.managed) {
    for (const m of options.managed) add('managed', m.source, parseInput(m));
  } else {
    const report = options.settings ?? (await loadSettings({ paths: options.paths, env: options.env, platform }));
    settingsMode = report.effective.mode;
    const layerOf = (key: 'lockedPolicy' | 'lockedPolicyFile'): { layer: PolicyLayerName; from: string } | null => {
      const entry = report.entries.find((e) => e.key === key);
      if (!entry || entry.source === 'default') return null;
      // A value the user set themselves is only a user-layer policy, whatever the key is called.
      return { layer: entry.source === 'user' ? 'user' : 'managed', from: entry.file ?? 'settings' };
    };
    const fileKey = layerOf('lockedPolicyFile');
    const path = report.effective.lockedPolicyFile;
    if (fileKey && path !== '') {
      watchPaths.push(path);
      const checkOwnership = fileKey.layer === 'managed' && !report.files.managed.overridden && platform !== 'win32';
      add(fileKey.layer, path, await readLockedFile(path, checkOwnership));
    }
    const inlineKey = layerOf('lockedPolicy');
    const inline = report.effective.lockedPolicy;
    if (inlineKey && Object.keys(inline).length > 0) {
      const label = `${inlineKey.from} (lockedPolicy)`;
      add(inlineKey.layer, label, parsePolicyValue(inline, label));
    }
  }
  if (options.fleet) add('fleet', options.fleet.source, parseInput(options.fleet));

  const policy = compilePolicy(sources, options.home !== undefined ? { home: options.home } : {});
  return { policy, problems: [...problems, ...policy.problems.filter((p) => !problems.includes(p))], watchPaths, settingsMode };
}

/** Reads and parses one policy file (missing is not an error: the layer is simply absent). */
export async function readPolicyFile(file: string): Promise<ParseResult | 'missing'> {
  const read = await readTextFile(file, { maxBytes: MAX_POLICY_BYTES });
  if (read.kind === 'missing') return 'missing';
  if (read.kind === 'error') return unreadable(file, read.error.message);
  return parsePolicyText(read.text, file);
}

async function readLockedFile(path: string, checkOwnership: boolean): Promise<ParseResult> {
  const read = await readManagedFile(path, checkOwnership);
  switch (read.kind) {
    case 'ok':
      return parsePolicyText(read.bytes.toString('utf8').replace(/^\uFEFF/, ''), path);
    case 'missing':
      return unreadable(path, 'the locked policy file set in managed settings does not exist');
    default:
      return unreadable(path, read.message);
  }
}

function parseInput(input: PolicyTextInput): ParseResult {
  if (input.text !== undefined) return parsePolicyText(input.text, input.source);
  return parsePolicyValue(input.value, input.source);
}

function unreadable(file: string, message: string): ParseResult {
  return { ok: false, problems: [{ file, line: 0, column: 0, path: '', severity: 'error', message: `cannot read the policy: ${message}` }] };
}

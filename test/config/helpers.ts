// Shared by the settings tests: a private temp home (CORDON_HOME) with a user settings file and a
// managed file that CORDON_MANAGED_SETTINGS points at.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cordonPaths, type CordonPaths } from '../../app/util/paths.ts';
import type { LoadSettingsOptions } from '../../app/config/settings.ts';

export type TempHome = {
  root: string;
  paths: CordonPaths;
  managedFile: string;
  env: NodeJS.ProcessEnv;
  options: LoadSettingsOptions;
  writeUser(text: string): Promise<void>;
  writeManaged(text: string): Promise<void>;
  cleanup(): Promise<void>;
};

export async function tempHome(): Promise<TempHome> {
  const root = await mkdtemp(join(tmpdir(), 'cordon-settings-'));
  const managedFile = join(root, 'managed.json');
  const env: NodeJS.ProcessEnv = { HOME: root, CORDON_HOME: join(root, 'home'), CORDON_MANAGED_SETTINGS: managedFile };
  const paths = cordonPaths(env, 'linux');
  return {
    root,
    paths,
    managedFile,
    env,
    options: { paths, env, platform: 'linux' },
    async writeUser(text) {
      await mkdir(dirname(paths.userSettingsFile), { recursive: true });
      await writeFile(paths.userSettingsFile, text);
    },
    async writeManaged(text) {
      await writeFile(managedFile, text);
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

import { collector } from '../helpers/collector.ts';

export { collector };

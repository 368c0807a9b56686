/** Every `cordon` verb, in help order. */
import type { Command } from '../command.ts';
import { daemonCommands } from './daemon.ts';
import { identityCommands } from './identity.ts';
import { scanCommands } from './scan.ts';
import { settingsCommands } from './settings.ts';

export function allCommands(): readonly Command[] {
  return [...scanCommands, ...daemonCommands, ...settingsCommands, ...identityCommands];
}

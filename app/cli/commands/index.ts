/** Every `cordon` verb, in help order. */
import type { Command } from '../command.ts';
import { identityCommands } from './identity.ts';
import { settingsCommands } from './settings.ts';

export function allCommands(): readonly Command[] {
  return [...settingsCommands, ...identityCommands];
}

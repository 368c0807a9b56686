/** Every `cordon` verb, in help order. */
import type { Command } from '../command.ts';
import { identityCommands } from './identity.ts';

export function allCommands(): readonly Command[] {
  return [...identityCommands];
}

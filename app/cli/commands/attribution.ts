/** `cordon attribution ...` verbs. */
import type { Command } from '../command.ts';

export const attributionCommands: readonly Command[] = [];

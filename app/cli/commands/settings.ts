/** `cordon settings`: effective settings and where each value came from. */
import type { Command } from '../command.ts';

export const settingsCommands: readonly Command[] = [];

/** `cordon keys ...`, `cordon dpop ...`, `cordon ca ...`: the identity issue's verbs. */
import type { Command } from '../command.ts';

export const identityCommands: readonly Command[] = [];

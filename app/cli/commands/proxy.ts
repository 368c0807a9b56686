/** `cordon proxy ...` verbs. */
import type { Command } from '../command.ts';

export const proxyCommands: readonly Command[] = [];

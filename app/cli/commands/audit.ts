/** `cordon audit ...` verbs. */
import type { Command } from '../command.ts';

export const auditCommands: readonly Command[] = [];

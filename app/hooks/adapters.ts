/** The hook adapter of each agent family, by agent name. */
import { claudeCodeAdapter } from './claudeCode.ts';
import { codexAdapter } from './codex.ts';
import { cursorAdapter } from './cursor.ts';
import { geminiAdapter } from './gemini.ts';
import type { HookAdapter, HookAgent } from './types.ts';
import { windsurfAdapter } from './windsurf.ts';

export const HOOK_ADAPTERS: Readonly<Record<HookAgent, HookAdapter>> = {
  'claude-code': claudeCodeAdapter,
  codex: codexAdapter,
  cursor: cursorAdapter,
  'gemini-cli': geminiAdapter,
  windsurf: windsurfAdapter,
};

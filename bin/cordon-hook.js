#!/usr/bin/env node
// `cordon-hook hook <agent>`: the pre-action hook program agents run. A lean entry point (the full
// CLI loads every command), with a private per-user compile cache (bin/compileCache.js) so
// TypeScript is not re-stripped per call.
import { enablePrivateCompileCache } from './compileCache.js';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  // Exit 2 blocks in every agent: a hook that cannot run must not let the action through.
  process.stderr.write(`cordon hook: needs Node.js 24 or newer (this is ${process.version}); blocking the action\n`);
  process.exit(2);
}
enablePrivateCompileCache();
const args = process.argv.slice(2);
try {
  const { hookMain } = await import('../app/hooks/main.ts');
  const code = await hookMain(args[0] === 'hook' ? args.slice(1) : args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
  process.exit(code);
} catch (error) {
  process.stderr.write(`cordon hook: internal error (${error instanceof Error ? error.message : String(error)}); blocking the action\n`);
  process.exit(2);
}

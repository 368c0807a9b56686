#!/usr/bin/env node
// The `cordon` command: a thin launcher for the TypeScript CLI, which Node 24 runs directly.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`cordon: needs Node.js 24 or newer (this is ${process.version}); run: source scripts/ensure-node.sh\n`);
  process.exit(1);
}
const { main } = await import('../app/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

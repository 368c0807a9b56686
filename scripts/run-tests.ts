// Runs the test suite with node:test against a real Secret Service (see keyringSession.ts).
// Usage: node scripts/run-tests.ts [test files or globs...]
import { fileURLToPath } from 'node:url';
import { inKeyringSession } from './keyringSession.ts';

const args = process.argv.slice(2);
const files = args.length > 0 ? args : ['test/**/*.test.ts'];
process.exitCode = await inKeyringSession(fileURLToPath(import.meta.url), args, process.execPath, [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=180000',
  ...files,
]);

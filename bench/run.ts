// `npm run bench`: runs every benchmark (bench/*.bench.ts) one after another, inside a private
// D-Bus session with a real keyring (identity benchmarks sign with keys from the keychain).
// Each benchmark prints its own table with ratios against a baseline measured in the same run.
// Usage: node bench/run.ts [name...]   e.g. node bench/run.ts discovery watcher
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inKeyringSession } from '../scripts/keyringSession.ts';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

// inKeyringSession sets CORDON_TEST_KEYRING=1 for the command it runs inside the session.
if (process.env.CORDON_TEST_KEYRING === '1') {
  const dir = dirname(self);
  const benches = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => args.length === 0 || args.includes(f.replace('.bench.ts', '')))
    .sort();
  let failed = 0;
  for (const file of benches) {
    process.stdout.write(`\n=== ${file.replace('.bench.ts', '')} ===\n`);
    try {
      const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run(): Promise<void> };
      await mod.run();
    } catch (error) {
      failed++;
      process.stderr.write(`${file} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
} else {
  process.exitCode = await inKeyringSession(self, args, process.execPath, [self, ...args]);
}

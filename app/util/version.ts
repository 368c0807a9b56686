/**
 * Cordon's version, from the package.json at the repository (or installed package) root: what the
 * CLI prints, the daemon records, the sync client reports and OCSF exports name. Read once.
 */
import { readFileSync } from 'node:fs';

let version: string | null = null;

/** The package version, or "unknown" when package.json cannot be read. */
export function cordonVersion(): string {
  if (version === null) {
    try {
      version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

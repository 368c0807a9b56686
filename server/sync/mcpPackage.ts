/**
 * Which package (and version) an MCP server runs, read from how it is launched: npx/bunx/pnpm dlx
 * specs (`@scope/name@1.2.3`), uvx/pipx specs (`name==1.2`, `--from name==1.2`) and container
 * images (`docker run ... image:tag`). This is what lets the console answer "which laptops run
 * server X at which version". Unknown launchers give null, never a guess.
 */
import type { McpServerRecord } from '../../app/api/inventory.ts';

export type McpPackage = Readonly<{ name: string; version: string | null; ecosystem: 'npm' | 'pypi' | 'oci' }>;

const NPM_RUNNERS = new Set(['npx', 'bunx', 'pnpx']);
const DLX_RUNNERS = new Set(['pnpm', 'yarn', 'bun', 'npm']);
const PY_RUNNERS = new Set(['uvx', 'pipx']);
const CONTAINER_RUNNERS = new Set(['docker', 'podman']);
/** npx flags that take a value (the next argument is not the package). */
const NPX_VALUE_FLAGS = new Set(['-p', '--package', '-c', '--call', '--cache', '--registry', '--userconfig']);
const DOCKER_VALUE_FLAGS = new Set(['-e', '--env', '-v', '--volume', '--name', '-p', '--publish', '--network', '--env-file', '-w', '--workdir', '--entrypoint', '-u', '--user', '--mount', '--platform', '-l', '--label']);

export function mcpPackageOf(server: Pick<McpServerRecord, 'command' | 'args'>): McpPackage | null {
  const command = server.command;
  if (!command) return null;
  const runner = (command.split(/[\\/]/).pop() ?? '').replace(/\.(cmd|exe)$/i, '').toLowerCase();
  let args = [...(server.args ?? [])];
  if (DLX_RUNNERS.has(runner)) {
    const verb = args.findIndex((a) => a === 'dlx' || a === 'exec' || a === 'x');
    if (verb < 0) return null;
    args = args.slice(verb + 1);
    return npmSpec(firstPositional(args, NPX_VALUE_FLAGS, '--package'));
  }
  if (NPM_RUNNERS.has(runner)) return npmSpec(firstPositional(args, NPX_VALUE_FLAGS, '--package'));
  if (PY_RUNNERS.has(runner)) {
    if (runner === 'pipx') {
      if (args[0] !== 'run') return null;
      args = args.slice(1);
    }
    const from = args.findIndex((a) => a === '--from' || a === '--spec');
    const spec = from >= 0 ? args[from + 1] : firstPositional(args, new Set(['--python', '--with', '--index-url', '--from', '--spec']));
    return pySpec(spec);
  }
  if (CONTAINER_RUNNERS.has(runner)) {
    const run = args.indexOf('run');
    if (run < 0) return null;
    return imageSpec(firstPositional(args.slice(run + 1), DOCKER_VALUE_FLAGS));
  }
  return null;
}

/** The first argument that is not a flag (skipping values of flags that take one). */
function firstPositional(args: readonly string[], valueFlags: ReadonlySet<string>, packageFlag?: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (packageFlag && arg === packageFlag) return args[i + 1];
    if (packageFlag && arg.startsWith(`${packageFlag}=`)) return arg.slice(packageFlag.length + 1);
    if (arg === '--') return args[i + 1];
    if (arg.startsWith('-')) {
      if (valueFlags.has(arg)) i++;
      continue;
    }
    return arg;
  }
  return undefined;
}

function npmSpec(spec: string | undefined): McpPackage | null {
  if (!spec || (spec.includes('/') && !spec.startsWith('@')) || /^[.~]|^[a-z]+:/i.test(spec)) return null;
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const version = at > 0 ? spec.slice(at + 1) || null : null;
  if (!/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+$/i.test(name)) return null;
  return { name: name.toLowerCase(), version: version ? version.slice(0, 64) : null, ecosystem: 'npm' };
}

function pySpec(spec: string | undefined): McpPackage | null {
  if (!spec) return null;
  const m = /^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?(?:(?:==|@)([A-Za-z0-9.+!_-]+))?$/.exec(spec);
  if (!m?.[1]) return null;
  return { name: m[1].toLowerCase().replace(/_/g, '-'), version: m[2] ?? null, ecosystem: 'pypi' };
}

function imageSpec(spec: string | undefined): McpPackage | null {
  if (!spec || !/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(spec)) return null;
  const digest = spec.indexOf('@');
  if (digest > 0) return { name: spec.slice(0, digest), version: spec.slice(digest + 1).slice(0, 80), ecosystem: 'oci' };
  const colon = spec.lastIndexOf(':');
  const slash = spec.lastIndexOf('/');
  if (colon > slash) return { name: spec.slice(0, colon), version: spec.slice(colon + 1), ecosystem: 'oci' };
  return { name: spec, version: null, ecosystem: 'oci' };
}

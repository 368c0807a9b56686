/**
 * `cordon service install|uninstall|status` without the CLI: writes or removes the one service
 * file and runs the service manager's commands through an injectable runner. Results are values;
 * only an unusable target (a relative path, a control character) throws.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CoreError } from '../api/errors.ts';
import { failureText, serviceBackend, type Backend, type Stepper } from './backends.ts';
import { serviceTargetProblem, type ServiceTarget } from './definitions.ts';
import type { CommandResult, ServiceHost, ServiceOutcome, ServiceStatusReport, ServiceStep } from './types.ts';
import { decodeUtf16le } from './xml.ts';

export type ServiceActionOptions = Readonly<{ dryRun?: boolean }>;

/** Writes the service file for `target` and registers and starts it. */
export async function installService(host: ServiceHost, target: ServiceTarget, options: ServiceActionOptions = {}): Promise<ServiceOutcome> {
  const problem = serviceTargetProblem(target, host.platform);
  if (problem) throw new CoreError('ERR_BAD_REQUEST', problem);
  const backend = serviceBackend(host);
  const { file } = backend.location;
  const bytes = backend.render(target);
  const dryRun = options.dryRun === true;
  const { steps, step } = stepper(host, dryRun);
  const previous = await readOrNull(file);
  const same = previous !== null && Buffer.from(previous).equals(Buffer.from(bytes));
  if (!dryRun && !same) await writeAtomically(file, bytes);
  const result = await backend.activate(step);
  const base = { action: 'install' as const, location: backend.location, dryRun, fileChanged: !dryRun && !same, steps };
  const start = `${target.nodePath} ${target.cordonPath} daemon`;
  if (dryRun) {
    const content = host.platform === 'win32' ? decodeUtf16le(bytes) : new TextDecoder().decode(bytes);
    return { ...base, ok: true, content, message: `dry run: would write ${file} and run the commands below` };
  }
  const wrote = same ? `${file} is already up to date` : `wrote ${file}`;
  if (result.ok) return { ...base, ok: true, message: `${wrote}; ${backend.location.name} is registered and started` };
  return {
    ...base,
    ok: false,
    message: `${wrote}, but could not register it with ${backend.location.manager}: ${result.unavailable ? 'the service manager is not available' : 'it refused'} (${result.message ?? 'no detail'})`,
    hint: result.unavailable
      ? `start the daemon yourself, e.g. from your login profile: ${start}; run 'cordon service install' again where ${backend.location.manager} is available`
      : `${backend.location.manager === 'launchd' ? `if the daemon was switched off under System Settings → General → Login Items, allow it there (or run launchctl enable gui/${host.uid}/${backend.location.name}), then ` : 'fix the problem above, then '}run 'cordon service install' again; or start the daemon yourself: ${start}`,
  };
}

/** Stops and unregisters the service and removes its file: exactly what install did, nothing else. */
export async function uninstallService(host: ServiceHost, options: ServiceActionOptions = {}): Promise<ServiceOutcome> {
  const backend = serviceBackend(host);
  const { file } = backend.location;
  const dryRun = options.dryRun === true;
  const { steps, step } = stepper(host, dryRun);
  const base = { action: 'uninstall' as const, location: backend.location, dryRun, steps };
  const exists = (await readOrNull(file)) !== null;
  if (!exists) {
    const state = await backend.query(step);
    if (state.registered !== true) return { ...base, ok: true, fileChanged: false, message: `not installed: ${file} does not exist` };
  }
  const result = await backend.deactivate(step);
  if (dryRun) return { ...base, ok: true, fileChanged: false, message: `dry run: would run the commands below${exists ? ` and remove ${file}` : ''}` };
  if (exists) await removeFile(file);
  if (!result.unavailable) await backend.afterRemove(step);
  const removed = exists ? `removed ${file}` : `${file} was already gone`;
  if (result.ok) return { ...base, ok: true, fileChanged: exists, message: `${removed}; ${backend.location.name} is stopped and unregistered` };
  if (result.unavailable) {
    return { ...base, ok: true, fileChanged: exists, message: `${removed}; ${backend.location.manager} could not be reached (${result.message ?? 'no detail'}): a daemon it started in another session of yours stops when that session ends` };
  }
  return {
    ...base,
    ok: false,
    fileChanged: exists,
    message: `${removed}, but ${backend.location.manager} could not stop or unregister ${backend.location.name}: ${result.message ?? 'no detail'}`,
    hint: 'the daemon may run until the next logout; stop it with `cordon stop`',
  };
}

/** Whether the file exists, matches what install would write for `target`, and is registered and running. */
export async function serviceStatus(host: ServiceHost, target: ServiceTarget): Promise<ServiceStatusReport> {
  const backend = serviceBackend(host);
  const { steps, step } = stepper(host, false);
  const current = await readOrNull(backend.location.file);
  const upToDate = current === null ? null : serviceTargetProblem(target, host.platform) === null && Buffer.from(current).equals(Buffer.from(backend.render(target)));
  const { registered, active } = await backend.query(step);
  return { location: backend.location, installed: current !== null, upToDate, registered, active, steps, message: statusMessage(backend, current !== null, upToDate, registered, active) };
}

function statusMessage(backend: Backend, installed: boolean, upToDate: boolean | null, registered: boolean | null, active: boolean | null): string {
  const { file, manager, name } = backend.location;
  const parts = [installed ? `${file} exists${upToDate ? ' and is up to date' : ', but differs from what install would write now (run cordon service install)'}` : `not installed (${file} does not exist)`];
  parts.push(registered === null ? `${manager} cannot be asked` : `${name} is ${registered ? '' : 'not '}registered with ${manager}`);
  if (active !== null) parts.push(active ? 'running' : 'not running');
  return parts.join('; ');
}

/** Records every command; in a dry run only read-only ones really run (the others "succeed"). */
function stepper(host: ServiceHost, dryRun: boolean): { steps: ServiceStep[]; step: Stepper } {
  const steps: ServiceStep[] = [];
  const step: Stepper = async (command, options = {}) => {
    const [file, ...args] = command;
    if (file === undefined) throw new CoreError('ERR_INTERNAL', 'empty command');
    if (dryRun && options.readOnly !== true) {
      steps.push({ command, ok: true, exitCode: null, message: 'dry run: not run' });
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    const result: CommandResult = await host.run(file, args);
    const ok = result.exitCode === 0;
    steps.push({ command, ok, exitCode: result.exitCode, ...(ok ? {} : { message: failureText(result) }) });
    return result;
  };
  return { steps, step };
}

async function readOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new CoreError('ERR_INTERNAL', `cannot read ${path}: ${code ?? String(error)}`, { cause: error });
  }
}

/** Temp file in the same directory, then rename: a reader never sees half a unit. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, bytes, { mode: 0o644 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new CoreError('ERR_INTERNAL', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

async function removeFile(path: string): Promise<void> {
  try {
    await rm(path, { force: true });
  } catch (error) {
    throw new CoreError('ERR_INTERNAL', `cannot remove ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

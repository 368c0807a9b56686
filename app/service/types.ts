/**
 * Types of `cordon service`: the injectable command runner, the machine facts a backend needs,
 * and the results of install, uninstall and status (plain values; `--json` prints them as is).
 */

export type ServicePlatform = 'linux' | 'darwin' | 'win32';
export type ServiceManagerName = 'systemd' | 'launchd' | 'task-scheduler';

/** What running one command gave. `spawnError` is set when it could not run at all (not found, timed out). */
export type CommandResult = Readonly<{ exitCode: number | null; stdout: string; stderr: string; spawnError?: string }>;

/** Runs a program with arguments, no shell. Tests inject one that records calls. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandResult>;

/** The machine and user the service is for. Paths come from `env`, never from the real home in tests. */
export type ServiceHost = Readonly<{
  platform: ServicePlatform;
  env: NodeJS.ProcessEnv;
  run: CommandRunner;
  /** Numeric user id (launchd's gui/<uid> domain). */
  uid: number;
  /** Account name (the Windows task's user and name suffix). */
  username: string;
}>;

/** Where the service lives for one user. */
export type ServiceLocation = Readonly<{
  platform: ServicePlatform;
  manager: ServiceManagerName;
  /** The unit name, launchd label, or task name. */
  name: string;
  /** The file install writes. */
  file: string;
}>;

/** One command that was run (or, with --dry-run, would run). */
export type ServiceStep = Readonly<{
  command: readonly string[];
  ok: boolean;
  exitCode: number | null;
  /** First line of the command's error output, or why it could not run. */
  message?: string;
}>;

export type ServiceOutcome = Readonly<{
  action: 'install' | 'uninstall';
  location: ServiceLocation;
  /** True when everything was done (for a dry run: when nothing stands in the way). */
  ok: boolean;
  dryRun: boolean;
  /** install: the file was written; uninstall: the file was removed. */
  fileChanged: boolean;
  steps: readonly ServiceStep[];
  /** One sentence for people. */
  message: string;
  /** What to do next, when something could not be done. */
  hint?: string;
  /** Dry-run install only: the file's text (the task XML is decoded from UTF-16). */
  content?: string;
}>;

export type ServiceStatusReport = Readonly<{
  location: ServiceLocation;
  /** The file install writes exists. */
  installed: boolean;
  /** It holds exactly what install would write now; null when there is no file. */
  upToDate: boolean | null;
  /** The service manager knows the service (enabled / loaded / task registered); null when it cannot be asked. */
  registered: boolean | null;
  /** The service manager reports it running; null when it cannot be asked or does not say. */
  active: boolean | null;
  steps: readonly ServiceStep[];
  message: string;
}>;

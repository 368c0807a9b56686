/**
 * The complete list of generated native-config/ files, with their bytes: what
 * `npm run native-config` writes and what the staleness test compares byte for byte.
 */
import { launchAgentPlist, scheduledTaskXml, SYSTEMD_UNIT_NAME, systemdUserUnit } from '../definitions.ts';
import { utf16leWithBom } from '../xml.ts';
import { managedJsonExample, managedSchemaJson, postinstScript, postrmScript, prermScript } from './linux.ts';
import { LAUNCH_AGENT_FILE, LOGIN_ITEMS_PROFILE_FILE, loginItemsMobileconfig, macosReadme, SETTINGS_PROFILE_FILE, settingsMobileconfig } from './macos.ts';
import { indexReadme, linuxReadme, windowsReadme } from './readmes.ts';
import { PACKAGED_TARGETS } from './template.ts';
import { cordonAdml, cordonAdmx } from './windows.ts';

export const NATIVE_CONFIG_DIR = 'native-config';

/** One generated file: repository-relative POSIX path, exact bytes, and its line in the index. */
export type Artifact = Readonly<{
  path: string;
  bytes: Uint8Array;
  description: string;
  /** 0o755 for maintainer scripts, else 0o644. */
  mode: number;
}>;

type Entry = Readonly<{ path: string; description: string; render: () => string | Uint8Array; mode?: number }>;

const ENTRIES: readonly Entry[] = [
  { path: 'macos/README.md', description: 'macOS: every key, the profiles, notes for Jamf, Intune and Kandji.', render: macosReadme },
  { path: `macos/${SETTINGS_PROFILE_FILE}`, description: 'Settings profile (managed preferences for dev.cordon.agent): every key, enforced or under Defaults.', render: settingsMobileconfig },
  { path: `macos/${LOGIN_ITEMS_PROFILE_FILE}`, description: 'Managed login items: users cannot switch the daemon off (macOS 13+).', render: loginItemsMobileconfig },
  { path: `macos/${LAUNCH_AGENT_FILE}`, description: 'LaunchAgent for /Library/LaunchAgents: cordon daemon at login, restarted on failure.', render: () => launchAgentPlist(PACKAGED_TARGETS.darwin) },
  { path: 'windows/README.md', description: 'Windows: Group Policy, Intune, registry values, the scheduled task.', render: windowsReadme },
  { path: 'windows/Cordon.admx', description: 'Group Policy definitions for HKLM\\SOFTWARE\\Policies\\Cordon and its Defaults subkey.', render: cordonAdmx },
  { path: 'windows/en-US/Cordon.adml', description: 'English strings and presentations for Cordon.admx.', render: cordonAdml },
  {
    path: 'windows/cordon-daemon.task.xml',
    description: 'Task Scheduler task (all users, at logon, restart on failure); UTF-16LE as schtasks requires.',
    render: () => utf16leWithBom(scheduledTaskXml(PACKAGED_TARGETS.win32, { kind: 'users' })),
  },
  { path: 'linux/README.md', description: 'Linux: deploying managed.json, the user unit, package conventions.', render: linuxReadme },
  { path: 'linux/managed.json', description: 'Example /etc/cordon/managed.json with every key and its default.', render: managedJsonExample },
  { path: 'linux/managed.schema.json', description: 'JSON Schema of managed.json.', render: managedSchemaJson },
  { path: `linux/${SYSTEMD_UNIT_NAME}`, description: 'systemd user unit: cordon daemon at login, Restart=on-failure.', render: () => systemdUserUnit(PACKAGED_TARGETS.linux) },
  { path: 'linux/postinst', description: '.deb postinst / .rpm %post: enables the user unit for all users on first install.', render: postinstScript, mode: 0o755 },
  { path: 'linux/prerm', description: '.deb prerm / .rpm %preun: disables the user unit for all users on removal.', render: prermScript, mode: 0o755 },
  { path: 'linux/postrm', description: '.deb postrm / .rpm %postun: removes a dangling enable link; never touches /etc/cordon.', render: postrmScript, mode: 0o755 },
];

/** Every file under native-config/, the index README first. Pure: same bytes on every run. */
export function nativeConfigArtifacts(): Artifact[] {
  const rendered = ENTRIES.map((entry) => artifact(`${NATIVE_CONFIG_DIR}/${entry.path}`, entry.description, entry.render(), entry.mode));
  const index = indexReadme([{ path: `${NATIVE_CONFIG_DIR}/README.md`, description: 'This index.' }, ...rendered]);
  return [artifact(`${NATIVE_CONFIG_DIR}/README.md`, 'This index.', index), ...rendered];
}

function artifact(path: string, description: string, content: string | Uint8Array, mode = 0o644): Artifact {
  return { path, description, bytes: typeof content === 'string' ? new TextEncoder().encode(content) : content, mode };
}

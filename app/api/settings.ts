/**
 * The settings contract: the typed shape of Cordon's settings and of the effective-settings report
 * (`cordon settings --json`, the daemon, the UI). Types and constants only, importing nothing, so
 * browser code can use it. The JSON Schema in app/config/schema.ts describes the same keys.
 */

/** monitor: observe and record; enforce: block what policy denies. */
export type SettingsMode = 'monitor' | 'enforce';
/** user: agent settings written in the user's own files; managed: in the agents' system-wide managed files. */
export type ProtectScope = 'user' | 'managed';
/** How agents are made to trust Cordon's TLS-inspection CA. */
export type CaDistribution = 'none' | 'user-env' | 'system-trust-store';
export type SettingsLogLevel = 'debug' | 'info' | 'warn' | 'error';
/** What happens to a pending approval nobody answered in time. */
export type ApprovalTimeoutAction = 'deny' | 'allow';

/** Every setting, flat and camelCase so each maps 1:1 to a plist key and a registry value name. */
export type Settings = {
  readonly fleetServerUrl: string;
  readonly enrollSecret: string;
  readonly enrollSecretFile: string;
  readonly mode: SettingsMode;
  readonly lockedPolicy: Readonly<Record<string, unknown>>;
  readonly lockedPolicyFile: string;
  readonly allowedAgents: readonly string[];
  readonly blockedAgents: readonly string[];
  readonly protectAgents: readonly string[];
  readonly protectScope: ProtectScope;
  /** Auto-protection also routes the agents' stdio MCP servers through the gateway. */
  readonly protectMcpServers: boolean;
  readonly allowPause: boolean;
  readonly syncIntervalSeconds: number;
  readonly tlsInspectionHosts: readonly string[];
  readonly caDistribution: CaDistribution;
  readonly projectRoots: readonly string[];
  readonly watchEnabled: boolean;
  readonly logLevel: SettingsLogLevel;
  readonly proxyPort: number;
  readonly approvalTimeoutSeconds: number;
  readonly approvalTimeoutAction: ApprovalTimeoutAction;
  readonly auditRetentionDays: number;
};

export type SettingKey = keyof Settings;

/** The keys in display order (the schema lists its properties in the same order). */
export const SETTING_KEYS: readonly SettingKey[] = [
  'fleetServerUrl',
  'enrollSecret',
  'enrollSecretFile',
  'mode',
  'lockedPolicy',
  'lockedPolicyFile',
  'allowedAgents',
  'blockedAgents',
  'protectAgents',
  'protectScope',
  'protectMcpServers',
  'allowPause',
  'syncIntervalSeconds',
  'tlsInspectionHosts',
  'caDistribution',
  'projectRoots',
  'watchEnabled',
  'logLevel',
  'proxyPort',
  'approvalTimeoutSeconds',
  'approvalTimeoutAction',
  'auditRetentionDays',
];

/** Keys whose values are secrets: shown only as REDACTED_SET or "" in any output. */
export const SECRET_SETTING_KEYS: readonly SettingKey[] = ['enrollSecret'];
export const REDACTED_SET = '<set>';

/** In a managed source, the dictionary (plist), subkey (registry) or object (JSON) of user-changeable defaults. */
export const MANAGED_DEFAULTS_KEY = 'Defaults';

/**
 * Where an effective value came from, lowest precedence first:
 * default < managed-default (IT's `Defaults`) < user < managed (IT-enforced).
 */
export type SettingSource = 'default' | 'managed-default' | 'user' | 'managed';

export type SettingsProblemKind =
  /** A value that fails the schema (or a registry/plist type that cannot map to it). */
  | 'invalid'
  /** A key the schema does not know: usually a typo. */
  | 'unknown-key'
  /** A user value for a key IT enforces: ignored. */
  | 'locked'
  /** The file is not valid JSON/JSONC or plist, or its root is not an object. */
  | 'parse'
  /** The file or registry key exists but could not be read. */
  | 'unreadable'
  /** A managed file that a non-root user could have written: ignored. */
  | 'insecure'
  /** The CORDON_MANAGED_SETTINGS override was refused or applied. */
  | 'override';

/** error: a value was not applied; warning: applied but suspicious; info: visible, not a fault. */
export type SettingsProblemSeverity = 'error' | 'warning' | 'info';

export type SettingsProblem = {
  readonly source: 'user' | 'managed';
  /** File path, plist path, or registry key path (HKLM\SOFTWARE\Policies\Cordon[\Defaults]). */
  readonly file: string;
  /** The setting key (dotted for nested: "Defaults.mode"); null for a whole-file problem. */
  readonly key: string | null;
  readonly kind: SettingsProblemKind;
  readonly severity: SettingsProblemSeverity;
  /** Never contains a secret value. */
  readonly message: string;
};

/** One setting as the report shows it. */
export type SettingEntry = {
  readonly key: SettingKey;
  /** The effective value; for secret keys REDACTED_SET or "". */
  readonly value: unknown;
  readonly source: SettingSource;
  /** The file or registry key the value came from; absent for built-in defaults. */
  readonly file?: string;
  /** True when IT enforces the key: the user cannot change it. */
  readonly locked: boolean;
  readonly secret: boolean;
  /** Why a value from some layer was not used because it is invalid; the value shown is from the layer below. */
  readonly error?: string;
  /** Something visible but not a fault, e.g. "the user value is ignored: locked by IT". */
  readonly note?: string;
};

export type ManagedSettingsFileInfo = {
  /** The file, plist or registry key read (the first one when several are consulted). */
  readonly path: string;
  /** Every location consulted, highest precedence first. */
  readonly paths: readonly string[];
  /** True when CORDON_MANAGED_SETTINGS chose the path. */
  readonly overridden: boolean;
  /** True when at least one managed source exists. */
  readonly present: boolean;
};

export type SettingsReport = {
  /** Fully typed effective settings. Holds real secret values: redact before printing. */
  readonly effective: Settings;
  /** One entry per key, in SETTING_KEYS order. */
  readonly entries: readonly SettingEntry[];
  readonly problems: readonly SettingsProblem[];
  readonly files: {
    readonly user: string;
    readonly managed: ManagedSettingsFileInfo;
  };
};

/**
 * The fleet sync protocol (version 1, paths under /v1/): what a device and the fleet server send
 * each other, plus the admin (console) query API shapes under /admin/v1/. Types and constants only,
 * importing nothing at run time. docs/sync-openapi.yaml documents the same shapes over HTTP.
 */
import type { AuditEvent } from './audit.ts';
import type { AgentRecord, Inventory, InventoryHost, McpServerRecord } from './inventory.ts';

export const SYNC_PROTOCOL_VERSION = 1;

/** Bounds both sides apply: the client never sends more, the server refuses more (4xx). */
export const SYNC_LIMITS = {
  /** Largest request body the server reads (bytes). */
  maxBodyBytes: 8 * 1024 * 1024,
  /** Events in one POST /v1/events batch. */
  maxBatchEvents: 1000,
  /** Serialized size of one event (bytes). */
  maxEventBytes: 256 * 1024,
  /** Agents and MCP servers in one inventory upload (snapshot, or upserts of a delta). */
  maxAgents: 2000,
  maxMcpServers: 5000,
  /** Serialized size of one agent or MCP server record (bytes). */
  maxRecordBytes: 32 * 1024,
  /** Generic string bounds. */
  maxIdLength: 256,
  maxShortString: 1024,
  maxLongString: 4096,
} as const;

/** Response header on any device call: the console asked this device to move to a new key. */
export const REKEY_HEADER = 'cordon-rekey';

// ---------------------------------------------------------------------------------------------
// Errors

/** Every non-2xx JSON body has this shape (DPoP failures also carry WWW-Authenticate). */
export type SyncErrorCode =
  | 'invalid_request'
  | 'invalid_batch'
  | 'invalid_inventory'
  | 'invalid_policy'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'method_not_allowed'
  | 'snapshot_required'
  | 'enroll_refused'
  | 'device_revoked'
  | 'rekey_not_requested'
  | 'unauthorized'
  | 'forbidden'
  | 'csrf_failed'
  | 'rate_limited'
  | 'invalid_token'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'internal';

/** One problem of a refused batch or document: `index` is the event's position in the batch. */
export type SyncProblem = { readonly index?: number; readonly field: string; readonly message: string };

export type SyncErrorBody = {
  readonly error: SyncErrorCode;
  /** Human explanation; never contains secrets, tokens or proofs. */
  readonly message: string;
  readonly problems?: readonly SyncProblem[];
};

// ---------------------------------------------------------------------------------------------
// Enrollment (POST /v1/enroll, DPoP proof from the device key, no access token)

/** What a device says about itself when it enrolls. */
export type DeviceInfo = {
  readonly hostname: string;
  readonly platform: string;
  readonly user: string;
  /** Cordon version on the device. */
  readonly agentVersion: string;
};

export type EnrollRequest = {
  /** The enroll secret IT distributed (MDM). Sent once; the server stores only its hash. */
  readonly secret: string;
  readonly device: DeviceInfo;
};

export type EnrollResponse = {
  readonly deviceId: string;
  /** Opaque, DPoP-bound (cnf.jkt = keyThumbprint): send as `Authorization: DPoP <token>`. */
  readonly accessToken: string;
  readonly tokenType: 'DPoP';
  readonly keyThumbprint: string;
  readonly serverTime: string;
  readonly protocolVersion: typeof SYNC_PROTOCOL_VERSION;
};

/** POST /v1/rekey: the old key signs the DPoP header; `proof` is a DPoP proof for the same request signed by the new key. */
export type RekeyRequest = { readonly proof: string };
export type RekeyResponse = { readonly accessToken: string; readonly keyThumbprint: string };

// ---------------------------------------------------------------------------------------------
// Audit events up (POST /v1/events)

/** One audit event as uploaded: the device's AuditEvent, field for field (its hash chain included). */
export type SyncEvent = AuditEvent;

/**
 * A batch: events in increasing seq order. `after` is the cursor the device last had
 * acknowledged; the device asserts it will never send another event with a seq between `after`
 * and the batch's last seq (events it dropped under its buffer policy are announced by a
 * `sync.dropped` event instead).
 */
export type EventBatch = { readonly after: number; readonly events: readonly SyncEvent[] };

export type EventBatchAck = {
  /** Every event with seq <= cursor is stored (or was announced as dropped): the device may forget them. */
  readonly cursor: number;
  /** Events of this batch newly stored. */
  readonly stored: number;
  /** Events of this batch the server already had (a retried batch). */
  readonly duplicates: number;
  /** The device's chain head as the server now knows it (tamper evidence off the machine). */
  readonly headSeq: number | null;
  readonly headHash: string | null;
};

// ---------------------------------------------------------------------------------------------
// Inventory up (POST /v1/inventory)

export type ProtectionState = 'protected' | 'degraded' | 'unprotected' | 'unknown';

/** The device's state, sent with every inventory upload. */
export type DeviceState = {
  readonly agentVersion: string;
  readonly mode: 'monitor' | 'enforce';
  readonly protection: ProtectionState;
  /** Version of the fleet policy the device has applied (null: none). */
  readonly policyVersion: number | null;
  /** What IT manages on the device (MDM profile, registry policy, /etc/cordon/managed.json); absent from older clients. */
  readonly managed?: DeviceManagedState;
};

/** The device's managed settings as the daemon applied them: which keys, from where, and a fingerprint of their values. */
export type DeviceManagedState = {
  /** Keys IT enforces (the user cannot change them). */
  readonly enforced: readonly string[];
  /** Keys whose value is an IT default the user has not overridden. */
  readonly defaults: readonly string[];
  /** The managed source read (file, plist or registry key); null when none exists. */
  readonly source: string | null;
  /** SHA-256 over the managed keys and values (secret values hashed first): equal profiles give equal fingerprints. */
  readonly fingerprint: string | null;
  /** Managed values refused (invalid) by the device. */
  readonly problems: number;
};

export type InventorySnapshot = {
  readonly kind: 'snapshot';
  readonly state: DeviceState;
  readonly inventory: Inventory;
  /** Digest of the agents and MCP servers (app/sync/inventoryHash.ts). */
  readonly hash: string;
};

/** Changes since the inventory whose digest is baseHash; refused with 409 snapshot_required when the server has another base. */
export type InventoryDelta = {
  readonly kind: 'delta';
  readonly state: DeviceState;
  readonly baseHash: string;
  readonly hash: string;
  readonly scannedAt: string;
  readonly host: InventoryHost;
  readonly agents: { readonly upsert: readonly AgentRecord[]; readonly remove: readonly string[] };
  readonly mcpServers: { readonly upsert: readonly McpServerRecord[]; readonly remove: readonly string[] };
};

export type InventoryUpload = InventorySnapshot | InventoryDelta;

export type InventoryAck = {
  /** The digest the server now holds: the baseHash of the next delta. */
  readonly hash: string;
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
};

// ---------------------------------------------------------------------------------------------
// Policy down (GET /v1/policy, ETag / If-None-Match) and time (GET /v1/time, no auth)

export type FleetPolicy = {
  readonly version: number;
  /** Policy text (YAML or JSON, `version: 1`), validated by the server before it was saved. */
  readonly text: string;
  readonly sha256: string;
  readonly updatedAt: string;
};

/** `policy: null` when no fleet policy is set (the device then drops its fleet layer). */
export type PolicyResponse = { readonly etag: string; readonly policy: FleetPolicy | null };

/**
 * GET /v1/context/destination?host=H: what the rest of the fleet decided about a destination, so
 * an approval prompt can say "allowed on 12 other devices". Counts distinct other devices over
 * the last CONTEXT_DAYS days; the asking device is left out.
 */
export type DestinationContext = {
  readonly host: string;
  readonly days: number;
  /** Other devices with at least one allowed (or logged) request to host. */
  readonly devicesAllowed: number;
  /** Other devices with at least one blocked request to host. */
  readonly devicesDenied: number;
};

export const CONTEXT_DAYS = 30;

export type ServerTime = { readonly time: string; readonly epochMs: number; readonly protocolVersion: typeof SYNC_PROTOCOL_VERSION };

// ---------------------------------------------------------------------------------------------
// Admin (console) query API, /admin/v1/..., `Authorization: Bearer <admin token>` (temporary)

/** A page of results; pass nextCursor back as `cursor` for the next page (null: last page). */
export type Page<T> = { readonly items: readonly T[]; readonly nextCursor: string | null; readonly tookMs: number };

export type DeviceSummary = {
  readonly id: string;
  readonly hostname: string;
  readonly platform: string;
  readonly user: string;
  readonly agentVersion: string;
  readonly mode: string | null;
  readonly protection: string | null;
  readonly policyVersion: number | null;
  /** What IT manages on the device, as last reported (null: not reported yet). */
  readonly managed: DeviceManagedState | null;
  readonly enrolledAt: string;
  readonly lastSeenAt: string | null;
  readonly revokedAt: string | null;
  readonly rekeyRequested: boolean;
  readonly keyThumbprint: string;
  readonly agents: number;
  readonly mcpServers: number;
  /** MCP servers on the device with a literal secret in their config. */
  readonly literalSecrets: number;
  /** Highest seq acknowledged, and the chain head the server holds. */
  readonly cursor: number;
  readonly headSeq: number | null;
  readonly headHash: string | null;
  /** Events the device's hashes did not verify or chain (tamper evidence). */
  readonly chainProblems: number;
};

/** One device with its agents, MCP servers and recorded gaps (GET /admin/v1/devices/{id}). */
export type DeviceDetail = {
  readonly device: DeviceSummary;
  readonly agents: readonly AgentRecord[];
  readonly mcpServers: readonly FleetMcpInstance[];
  readonly gaps: readonly { readonly fromSeq: number; readonly toSeq: number; readonly recordedAt: string }[];
};

export type FleetAgentGroup = { readonly kind: string; readonly name: string; readonly version: string | null; readonly devices: number };

export type FleetMcpGroup = {
  readonly name: string;
  /** npm/PyPI package the server runs (from npx/uvx/... args), when it can be told. */
  readonly package: string | null;
  readonly version: string | null;
  readonly transport: string;
  readonly url: string | null;
  readonly devices: number;
  /** Devices where this server's config holds a literal secret. */
  readonly literalDevices: number;
};

export type FleetMcpInstance = {
  readonly deviceId: string;
  readonly hostname: string;
  readonly user: string;
  readonly serverId: string;
  readonly name: string;
  readonly client: string;
  readonly scope: string;
  readonly transport: string;
  readonly package: string | null;
  readonly version: string | null;
  readonly command: string | null;
  readonly url: string | null;
  readonly posture: string;
  readonly enabled: boolean;
  readonly firstSeenAt: string;
  readonly changedAt: string;
};

export type FleetChange = {
  readonly at: string;
  readonly deviceId: string;
  readonly hostname: string;
  readonly item: 'agent' | 'mcp-server';
  readonly itemId: string;
  readonly name: string;
  readonly change: 'added' | 'changed' | 'removed';
  readonly detail: string | null;
};

/** An audit event as the server stores it, with the device it came from. */
export type FleetAuditEvent = SyncEvent & { readonly deviceId: string; readonly hostname: string; readonly receivedAt: string };

export type PolicyVersionInfo = {
  readonly version: number;
  readonly sha256: string;
  readonly createdAt: string;
  readonly comment: string | null;
  readonly current: boolean;
};

export type PolicyStatus = {
  readonly current: (FleetPolicy & { readonly comment: string | null }) | null;
  /** How many devices report each applied version (null: none applied). */
  readonly applied: readonly { readonly version: number | null; readonly devices: number }[];
};

export type EnrollSecretInfo = {
  readonly id: string;
  readonly label: string | null;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly maxUses: number | null;
  readonly uses: number;
  readonly revokedAt: string | null;
};

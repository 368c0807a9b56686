/**
 * The fleet console's contract: sign-in and sessions for security staff, and the console-only
 * admin endpoints (overview, audit timeline and export, users). The fleet inventory, audit search,
 * policy and enroll-secret endpoints and their types are in ./sync.ts (`/admin/v1/...`). Types
 * and constants only: server/ implements them, server/console/ (the browser app) calls them.
 *
 * Auth: `POST /console/api/session` sets an HttpOnly, SameSite=Strict session cookie (Secure
 * whenever the server is reached over HTTPS) and answers a ConsoleSession whose csrfToken the
 * browser sends back in the CSRF_HEADER on every request that is not GET or HEAD. Every
 * `/admin/v1/` endpoint takes that cookie (or an admin API token for scripts). Viewers may read;
 * changes (policy, devices, enroll secrets, users) need the admin role (403 `forbidden`).
 */

export const CSRF_HEADER = 'x-cordon-csrf';

export type ConsoleRole = 'viewer' | 'admin';

export const CONSOLE_ROLES: readonly ConsoleRole[] = ['viewer', 'admin'];

/** Usernames: 1-64 of letters, digits and . _ @ - (case-insensitive, stored lower-case). */
export const USERNAME_PATTERN = '^[A-Za-z0-9._@-]{1,64}$';
/** Passwords: 12 to 1024 characters (a passphrase is encouraged). */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

// ---------------------------------------------------------------------------------------------
// Sessions: GET (who am I) / POST (sign in) / DELETE (sign out) /console/api/session

export type SignInRequest = { readonly username: string; readonly password: string };

export type ConsoleSession = {
  readonly user: { readonly id: string; readonly username: string; readonly role: ConsoleRole };
  /** Send back as the x-cordon-csrf header on POST, PUT and DELETE. */
  readonly csrfToken: string;
  /** The session ends at this time (idle sessions end earlier: see idleMinutes). */
  readonly expiresAt: string;
  readonly idleMinutes: number;
};

// ---------------------------------------------------------------------------------------------
// Users (admin only): GET/POST /admin/v1/users, POST /admin/v1/users/{id}/disable|enable|password
// (password: body {"password"}; it ends the user's sessions)

export type ConsoleUserInfo = {
  readonly id: string;
  readonly username: string;
  readonly role: ConsoleRole;
  readonly createdAt: string;
  readonly lastSignInAt: string | null;
  readonly disabledAt: string | null;
};

export type NewConsoleUser = { readonly username: string; readonly password: string; readonly role: ConsoleRole };

// ---------------------------------------------------------------------------------------------
// GET /admin/v1/overview: the fleet at a glance

export type FleetOverview = {
  readonly devices: {
    /** Enrolled and not revoked. */
    readonly active: number;
    readonly revoked: number;
    /** Active devices seen in the last 24 hours. */
    readonly seenLastDay: number;
    /** Active devices not seen for 7 days or more. */
    readonly stale: number;
    readonly enforce: number;
    readonly monitor: number;
    readonly protection: { readonly protected: number; readonly degraded: number; readonly unprotected: number; readonly unknown: number };
    /** Active devices with at least one chain problem (tamper evidence). */
    readonly chainProblems: number;
  };
  /** Distinct agent kinds and MCP server groups across the fleet. */
  readonly agentKinds: number;
  readonly mcpServerGroups: number;
  /** Active devices with at least one MCP server holding a literal secret. */
  readonly devicesWithLiteralSecrets: number;
  /** Decision events in the last 24 hours. */
  readonly lastDay: { readonly allow: number; readonly log: number; readonly ask: number; readonly deny: number };
  readonly policy: { readonly currentVersion: number | null; readonly devicesOnCurrent: number };
  readonly tookMs: number;
};

// ---------------------------------------------------------------------------------------------
// GET /admin/v1/audit/timeline?since=&until=&bucket=hour|day&deviceId=&agent=

export type TimelineBucket = {
  /** Start of the bucket (ISO time). */
  readonly start: string;
  readonly allow: number;
  readonly log: number;
  readonly ask: number;
  /** Blocked requests and actions. */
  readonly deny: number;
  readonly approvalsRequested: number;
  readonly approvalsAllowed: number;
  /** Answered other than allowed: denied, expired (nobody answered in time) or refused (prompt budget). */
  readonly approvalsDenied: number;
};

export type AuditTimeline = {
  readonly bucket: 'hour' | 'day';
  readonly since: string;
  readonly until: string;
  readonly buckets: readonly TimelineBucket[];
  readonly tookMs: number;
};

/** The widest timeline one request may ask for: 31 days by hour, 366 by day. */
export const TIMELINE_MAX_BUCKETS = 744;

// ---------------------------------------------------------------------------------------------
// GET /admin/v1/audit/export?format=ocsf|csv&<the /admin/v1/audit filters>
// Answers a download (Content-Disposition: attachment): OCSF 1.8 JSON lines (one event a line, the
// device in `device`), or CSV whose header row is device_id, hostname, then the columns of
// `cordon audit export --csv`. At most AUDIT_EXPORT_MAX events, newest first; the
// X-Cordon-Truncated: true HTTP trailer says when more matched (narrow the time range).

export type AuditExportFormat = 'ocsf' | 'csv';
export const AUDIT_EXPORT_MAX = 100_000;

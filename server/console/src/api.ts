/**
 * The typed client of the fleet server for the web console: one function per endpoint of
 * /console/api/session and /admin/v1/ (app/api/fleetConsole.ts and app/api/sync.ts). Same origin,
 * the HttpOnly session cookie goes along; every request that changes something sends the CSRF
 * token of the session. Non-2xx answers become an ApiError carrying the server's SyncErrorBody.
 */
import type { AuditDecision } from '../../../app/api/audit.ts';
import type {
  AuditExportFormat,
  AuditTimeline,
  ConsoleSession,
  ConsoleUserInfo,
  FleetOverview,
  NewConsoleUser,
  SignInRequest,
} from '../../../app/api/fleetConsole.ts';
import { CSRF_HEADER } from '../../../app/api/fleetConsole.ts';
import type {
  DeviceDetail,
  DeviceSummary,
  EnrollSecretInfo,
  FleetAgentGroup,
  FleetAuditEvent,
  FleetChange,
  FleetMcpGroup,
  FleetMcpInstance,
  FleetPolicy,
  Page,
  PolicyStatus,
  PolicyVersionInfo,
  SyncErrorBody,
  SyncErrorCode,
} from '../../../app/api/sync.ts';

/** A refused or failed request: the HTTP status and the server's error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: SyncErrorBody;
  /** Seconds to wait before trying again (429 Retry-After), when the server said. */
  readonly retryAfter: number | null;
  constructor(status: number, body: SyncErrorBody, retryAfter: number | null = null) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
  get code(): SyncErrorCode {
    return this.body.error;
  }
}

export type DeviceFilter = { q?: string; platform?: string; mode?: string; protection?: string; status?: string; seenSince?: string; limit?: number; cursor?: string };
export type AgentFilter = { kind?: string; q?: string; limit?: number; cursor?: string };
export type McpFilter = { q?: string; name?: string; package?: string; version?: string; posture?: string; transport?: string; deviceId?: string; changedSince?: string; limit?: number; cursor?: string };
export type ChangeFilter = { since?: string; deviceId?: string; item?: string; limit?: number; cursor?: string };
export type AuditFilter = { deviceId?: string; agent?: string; host?: string; decision?: AuditDecision | ''; type?: string; since?: string; until?: string; limit?: number; cursor?: string };
export type TimelineFilter = { since?: string; until?: string; bucket?: 'hour' | 'day'; deviceId?: string; agent?: string };
export type NewEnrollSecret = { label?: string; expiresInDays?: number; maxUses?: number };
export type PolicyPushResult = { readonly version: number; readonly warnings: readonly string[] };
export type PolicyVersion = FleetPolicy & { readonly comment: string | null };

type Query = Readonly<Record<string, string | number | undefined>>;

/** The query string of a filter: empty values are left out (the server refuses unknown or empty noise). */
export function queryString(params: Query): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '') continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

const ERROR_CODES: ReadonlySet<string> = new Set<SyncErrorCode>([
  'invalid_request', 'invalid_batch', 'invalid_inventory', 'invalid_policy', 'payload_too_large', 'unsupported_media_type', 'not_found',
  'method_not_allowed', 'snapshot_required', 'enroll_refused', 'device_revoked', 'rekey_not_requested', 'unauthorized', 'forbidden',
  'csrf_failed', 'rate_limited', 'invalid_token', 'invalid_dpop_proof', 'use_dpop_nonce', 'internal',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The error body of a response, or one made up from the status when the server sent no JSON error. */
function errorBody(status: number, body: unknown): SyncErrorBody {
  if (isRecord(body) && typeof body.error === 'string' && ERROR_CODES.has(body.error) && typeof body.message === 'string') {
    const problems = Array.isArray(body.problems)
      ? body.problems.filter(isRecord).map((p) => ({
          field: typeof p.field === 'string' ? p.field : '',
          message: typeof p.message === 'string' ? p.message : '',
          ...(typeof p.index === 'number' ? { index: p.index } : {}),
        }))
      : undefined;
    return { error: body.error as SyncErrorCode, message: body.message, ...(problems ? { problems } : {}) };
  }
  const error: SyncErrorCode = status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not_found' : status === 429 ? 'rate_limited' : status >= 500 ? 'internal' : 'invalid_request';
  return { error, message: `the server answered ${status}` };
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (response.ok) throw new ApiError(response.status, { error: 'internal', message: `the server answered ${response.status} without JSON` });
    return null;
  }
}

function retryAfterOf(response: Response): number | null {
  const value = response.headers.get('retry-after');
  return value !== null && /^\d{1,6}$/.test(value) ? Number(value) : null;
}

/** One same-origin JSON request; a non-2xx answer throws ApiError. */
async function request<T>(method: string, path: string, options: { csrfToken?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (options.csrfToken) headers[CSRF_HEADER] = options.csrfToken;
    headers['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (e) {
    throw new ApiError(0, { error: 'internal', message: `the fleet server could not be reached (${e instanceof Error ? e.message : String(e)})` });
  }
  const body = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, errorBody(response.status, body), retryAfterOf(response));
  return body as T;
}

// ---------------------------------------------------------------------------------------------
// Sessions (no CSRF token yet: the session cookie is SameSite=Strict and the body is JSON)

/** Who is signed in, or null when no session (401). */
export async function getSession(): Promise<ConsoleSession | null> {
  try {
    return await request<ConsoleSession>('GET', '/console/api/session');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

/** Signs in: 401 unauthorized for a wrong username or password, 429 rate_limited (retryAfter). */
export function signIn(credentials: SignInRequest): Promise<ConsoleSession> {
  return request<ConsoleSession>('POST', '/console/api/session', { body: credentials });
}

export async function signOut(csrfToken: string): Promise<void> {
  await request<null>('DELETE', '/console/api/session', { csrfToken });
}

// ---------------------------------------------------------------------------------------------
// The admin API, bound to one session

/** Link target of an audit export with the same filters as the search (a download; GET needs no CSRF). */
export function auditExportUrl(format: AuditExportFormat, filter: AuditFilter): string {
  const { cursor: _cursor, limit: _limit, ...rest } = filter;
  return `/admin/v1/audit/export${queryString({ format, ...rest })}`;
}

export type ConsoleApi = ReturnType<typeof createConsoleApi>;

/**
 * The admin endpoints for a signed-in session. `onUnauthorized` runs when the server says the
 * session is gone (401), so the app can go back to sign-in; `onActivity` after every answered
 * call (each one keeps the session alive on the server).
 */
export function createConsoleApi(session: ConsoleSession, onUnauthorized: () => void, onActivity: () => void = () => undefined) {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    try {
      const result = await request<T>(method, path, { csrfToken: session.csrfToken, ...(body !== undefined ? { body } : {}) });
      onActivity();
      return result;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) onUnauthorized();
      else if (e instanceof ApiError && e.status !== 0) onActivity();
      throw e;
    }
  };
  const id = (value: string): string => encodeURIComponent(value);
  return {
    overview: () => call<FleetOverview>('GET', '/admin/v1/overview'),
    timeline: (f: TimelineFilter) => call<AuditTimeline>('GET', `/admin/v1/audit/timeline${queryString(f)}`),
    devices: (f: DeviceFilter) => call<Page<DeviceSummary>>('GET', `/admin/v1/devices${queryString(f)}`),
    device: (deviceId: string) => call<DeviceDetail>('GET', `/admin/v1/devices/${id(deviceId)}`),
    revokeDevice: (deviceId: string) => call<{ revoked: true; deviceId: string }>('POST', `/admin/v1/devices/${id(deviceId)}/revoke`, {}),
    rekeyDevice: (deviceId: string) => call<{ rekeyRequested: true; deviceId: string }>('POST', `/admin/v1/devices/${id(deviceId)}/rekey`, {}),
    agents: (f: AgentFilter) => call<Page<FleetAgentGroup>>('GET', `/admin/v1/agents${queryString(f)}`),
    mcpServers: (f: McpFilter) => call<Page<FleetMcpGroup>>('GET', `/admin/v1/mcp-servers${queryString(f)}`),
    mcpInstances: (f: McpFilter) => call<Page<FleetMcpInstance>>('GET', `/admin/v1/mcp-servers/instances${queryString(f)}`),
    changes: (f: ChangeFilter) => call<Page<FleetChange>>('GET', `/admin/v1/changes${queryString(f)}`),
    audit: (f: AuditFilter) => call<Page<FleetAuditEvent>>('GET', `/admin/v1/audit${queryString(f)}`),
    policy: () => call<PolicyStatus>('GET', '/admin/v1/policy'),
    pushPolicy: (text: string, comment: string) => call<PolicyPushResult>('PUT', '/admin/v1/policy', comment ? { text, comment } : { text }),
    clearPolicy: () => call<{ current: null }>('DELETE', '/admin/v1/policy'),
    policyVersions: () => call<{ items: readonly PolicyVersionInfo[] }>('GET', '/admin/v1/policy/versions'),
    policyVersion: (version: number) => call<PolicyVersion>('GET', `/admin/v1/policy/versions/${version}`),
    activatePolicyVersion: (version: number) => call<{ current: number }>('POST', `/admin/v1/policy/versions/${version}/activate`, {}),
    enrollSecrets: () => call<{ items: readonly EnrollSecretInfo[] }>('GET', '/admin/v1/enroll-secrets'),
    createEnrollSecret: (options: NewEnrollSecret) => call<{ info: EnrollSecretInfo; secret: string }>('POST', '/admin/v1/enroll-secrets', options),
    revokeEnrollSecret: (secretId: string) => call<{ revoked: true }>('POST', `/admin/v1/enroll-secrets/${id(secretId)}/revoke`, {}),
    users: () => call<{ items: readonly ConsoleUserInfo[] }>('GET', '/admin/v1/users'),
    createUser: (user: NewConsoleUser) => call<ConsoleUserInfo>('POST', '/admin/v1/users', user),
    disableUser: (userId: string) => call<ConsoleUserInfo>('POST', `/admin/v1/users/${id(userId)}/disable`, {}),
    enableUser: (userId: string) => call<ConsoleUserInfo>('POST', `/admin/v1/users/${id(userId)}/enable`, {}),
    /** Who is signed in; also keeps the session alive ("Stay signed in"). */
    session: () => call<ConsoleSession>('GET', '/console/api/session'),
  };
}

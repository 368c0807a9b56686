/**
 * OCSF 1.8.0 mapping of audit events, one JSON object per event: tunnels and connections as
 * Network Activity (4001), visible HTTP requests as HTTP Activity (4002), inventory and settings
 * changes as Device Config State Change (5019), daemon start/stop, unclean or unmanaged stops and
 * uninstalls as Application Lifecycle (6002), anything else as Base Event (0). Cordon-specific
 * fields (agent, chain, rule, hashes) go in `unmapped`.
 */
import type { AuditDecisionData, AuditEvent, AuditProcess } from '../api/audit.ts';

export const OCSF_SCHEMA_VERSION = '1.8.0';

export type OcsfContext = Readonly<{
  productVersion: string;
  /** This machine's name (device.hostname). */
  hostname: string;
  /** The fleet's id of the device (device.uid), when exported by the fleet server. */
  deviceId?: string;
}>;

export type OcsfEvent = Record<string, unknown> & {
  activity_id: number;
  category_uid: number;
  class_uid: number;
  type_uid: number;
  time: number;
  severity_id: number;
  metadata: { product: { name: string; vendor_name: string; version: string }; version: string };
};

const HTTP_ACTIVITY: Readonly<Record<string, number>> = { CONNECT: 1, DELETE: 2, GET: 3, HEAD: 4, OPTIONS: 5, POST: 6, PUT: 7, TRACE: 8, PATCH: 9 };
/** severity_id: 1 Informational, 2 Low, 3 Medium. */
const SEVERITY: Readonly<Record<string, number>> = { allow: 1, log: 1, ask: 2, deny: 3 };
/** security_control profile: action_id 1 Allowed / 2 Denied / 0 Unknown; disposition_id 1 Allowed, 2 Blocked, 14 Delayed, 17 Logged. */
const CONTROL: Readonly<Record<string, { action_id: number; action: string; disposition_id: number; disposition: string }>> = {
  allow: { action_id: 1, action: 'Allowed', disposition_id: 1, disposition: 'Allowed' },
  log: { action_id: 1, action: 'Allowed', disposition_id: 17, disposition: 'Logged' },
  ask: { action_id: 0, action: 'Unknown', disposition_id: 14, disposition: 'Delayed' },
  deny: { action_id: 2, action: 'Denied', disposition_id: 2, disposition: 'Blocked' },
};

/** The OCSF record of one audit event. */
export function toOcsf(event: AuditEvent, ctx: OcsfContext): OcsfEvent {
  const decision = decisionData(event);
  if (decision && event.decision) return egressEvent(event, decision, ctx);
  if (/^(agent|server)\./.test(event.type) || event.type === 'settings.changed') return configChange(event, ctx);
  if (event.type === 'daemon.started' || event.type === 'daemon.stopped') return lifecycle(event, ctx);
  if (event.type === 'daemon.unclean-stop' || event.type === 'daemon.stopped-outside-service' || event.type === 'cordon.uninstalled') return tamper(event, ctx);
  return base(event, ctx, { class_uid: 0, category_uid: 0, activity_id: 99, activity_name: event.type, severity_id: 1 });
}

function egressEvent(event: AuditEvent, d: AuditDecisionData, ctx: OcsfContext): OcsfEvent {
  const action = event.decision ?? 'deny';
  const control = CONTROL[action] ?? CONTROL.deny!;
  const dst = isIpLiteral(d.request.host) ? { ip: d.request.host.replace(/^\[|\]$/g, ''), port: d.request.port } : { hostname: d.request.host, port: d.request.port };
  const common = {
    severity_id: SEVERITY[action] ?? 1,
    status_id: action === 'deny' ? 2 : 1,
    status: action === 'deny' ? 'Failure' : 'Success',
    ...(d.decision.reasons.length > 0 ? { status_detail: d.decision.reasons.map((r) => r.message).join('; ') } : {}),
    ...control,
    policy: { uid: d.decision.rule, name: d.decision.rule },
    dst_endpoint: dst,
    connection_info: { direction_id: 2, direction: 'Outbound', protocol_name: 'tcp' },
    traffic: { bytes_out: d.bytesUp ?? 0, bytes_in: d.bytesDown ?? 0, bytes: (d.bytesUp ?? 0) + (d.bytesDown ?? 0) },
    ...(d.principal.chain.length > 0 ? { actor: { process: processChain(d.principal.chain) } } : {}),
    device: device(ctx),
  };
  if (d.request.kind === 'connect') {
    const activity = action === 'deny' ? { activity_id: 5, activity_name: 'Refuse' } : action === 'ask' ? { activity_id: 99, activity_name: 'Held for approval' } : { activity_id: 1, activity_name: 'Open' };
    return base(event, ctx, { class_uid: 4001, category_uid: 4, ...activity, ...common }, ['security_control', 'host'], d);
  }
  const method = d.request.method ?? 'GET';
  const activityId = HTTP_ACTIVITY[method] ?? 99;
  return base(event, ctx, {
    class_uid: 4002,
    category_uid: 4,
    activity_id: activityId,
    activity_name: activityId === 99 ? method : method.charAt(0) + method.slice(1).toLowerCase(),
    ...common,
    http_request: {
      http_method: method,
      url: { scheme: d.request.kind, hostname: d.request.host, port: d.request.port, path: d.request.path ?? '/' },
    },
    ...(d.status !== null ? { http_status: d.status, http_response: { code: d.status } } : {}),
  }, ['security_control', 'host'], d);
}

function configChange(event: AuditEvent, ctx: OcsfContext): OcsfEvent {
  const state = /\.(added|installed)$/.test(event.type) ? { state_id: 2, state: 'Enabled' } : /\.removed$/.test(event.type) ? { state_id: 1, state: 'Disabled' } : { state_id: 99, state: event.type };
  return base(event, ctx, { class_uid: 5019, category_uid: 5, activity_id: 1, activity_name: 'Log', severity_id: 1, device: device(ctx), ...state });
}

function lifecycle(event: AuditEvent, ctx: OcsfContext): OcsfEvent {
  const start = event.type === 'daemon.started';
  return base(event, ctx, {
    class_uid: 6002, category_uid: 6, activity_id: start ? 3 : 4, activity_name: start ? 'Start' : 'Stop', severity_id: 1,
    app: { name: 'Cordon daemon', vendor_name: 'Cordon', version: ctx.productVersion }, device: device(ctx),
  }, ['host']);
}

/** Tamper evidence and removal, as Application Lifecycle: Stop (4) or Remove (2), with the event's own severity (4 High, 3 Medium). */
function tamper(event: AuditEvent, ctx: OcsfContext): OcsfEvent {
  const severity = (event.data as { severity?: unknown } | null)?.severity;
  const removed = event.type === 'cordon.uninstalled';
  return base(event, ctx, {
    class_uid: 6002, category_uid: 6, activity_id: removed ? 2 : 4, activity_name: removed ? 'Remove' : 'Stop',
    severity_id: severity === 'high' ? 4 : severity === 'medium' ? 3 : 2, status_id: removed ? 1 : 2, status: removed ? 'Success' : 'Failure',
    app: { name: 'Cordon daemon', vendor_name: 'Cordon', version: ctx.productVersion }, device: device(ctx),
  }, ['host']);
}

function base(event: AuditEvent, ctx: OcsfContext, fields: Record<string, unknown> & { class_uid: number; category_uid: number; activity_id: number; severity_id: number }, profiles: string[] = [], decision?: AuditDecisionData): OcsfEvent {
  const time = Date.parse(event.time);
  return {
    ...fields,
    type_uid: fields.class_uid * 100 + fields.activity_id,
    time: Number.isNaN(time) ? 0 : time,
    message: event.summary,
    metadata: {
      product: { name: 'Cordon', vendor_name: 'Cordon', version: ctx.productVersion },
      version: OCSF_SCHEMA_VERSION,
      uid: event.id,
      sequence: event.seq,
      log_name: 'cordon-audit',
      ...(profiles.length > 0 ? { profiles } : {}),
    },
    unmapped: { cordon: cordonFields(event, decision) },
  } as OcsfEvent;
}

function cordonFields(event: AuditEvent, d: AuditDecisionData | undefined): Record<string, unknown> {
  return {
    seq: event.seq,
    type: event.type,
    ...(event.subjectId !== null ? { subject_id: event.subjectId } : {}),
    ...(d
      ? {
          agent: d.principal.agent,
          attributed: d.principal.attributed,
          ...(d.principal.reason !== null ? { attribution_reason: d.principal.reason } : {}),
          principal_chain: d.principal.chain.map((p) => ({ pid: p.pid, exe: p.exe, argv: p.argv, user: p.user })),
          decision: d.decision.action,
          rule: d.decision.rule,
          layer: d.decision.layer,
          reasons: d.decision.reasons,
          ...(d.request.sni !== null ? { sni: d.request.sni } : {}),
          ...(d.keyThumbprint !== null ? { key_thumbprint: d.keyThumbprint } : {}),
          ...(d.durationMs !== null ? { duration_ms: d.durationMs } : {}),
        }
      : { data: event.data }),
    hash: event.hash,
    prev_hash: event.prevHash,
  };
}

/** The chain as OCSF process objects, self first with parent_process nested. */
function processChain(chain: readonly AuditProcess[]): Record<string, unknown> | undefined {
  let parent: Record<string, unknown> | undefined;
  for (let i = chain.length - 1; i >= 0; i--) {
    const p = chain[i]!;
    const name = p.exe ? (p.exe.split(/[\\/]/).pop() ?? p.exe) : undefined;
    parent = {
      pid: p.pid,
      ...(name ? { name, file: { path: p.exe, name, type_id: 1, type: 'Regular File' } } : {}),
      ...(p.argv.length > 0 ? { cmd_line: p.argv.join(' ') } : {}),
      ...(p.user !== null || p.uid !== null ? { user: { ...(p.user !== null ? { name: p.user } : {}), ...(p.uid !== null ? { uid: String(p.uid) } : {}) } } : {}),
      ...(p.cwd !== null ? { working_directory: p.cwd } : {}),
      ...(parent ? { parent_process: parent } : {}),
    };
  }
  return parent;
}

function device(ctx: OcsfContext): Record<string, unknown> {
  return { type_id: 0, type: 'Unknown', hostname: ctx.hostname, ...(ctx.deviceId !== undefined ? { uid: ctx.deviceId } : {}) };
}

function decisionData(event: AuditEvent): AuditDecisionData | null {
  const d = event.data as Partial<AuditDecisionData> | null;
  if (!d || typeof d !== 'object' || !d.request || !d.principal || !d.decision || !Array.isArray(d.principal.chain) || !Array.isArray(d.decision.reasons)) return null;
  return d as AuditDecisionData;
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/**
 * Turns a raw server (as one client's config defines it) into an inventory record: a stable id,
 * redacted args and URL, env and header names, a credential posture, and a fingerprint of the
 * definition that never includes a secret value.
 */
import type { McpScope, McpServerRecord } from '../../api/inventory.ts';
import { fingerprint, stableId } from '../ids.ts';
import { analyzeServer } from './credentials.ts';
import type { RawServer } from './model.ts';

export type RecordOrigin = Readonly<{ client: string; configPath: string; scope: McpScope; project: string | null }>;

/** Builds the record; the same definition always yields the same id and fingerprint. */
export function buildRecord(origin: RecordOrigin, raw: RawServer): McpServerRecord {
  const scope = raw.scope ?? origin.scope;
  const project = raw.project !== undefined ? raw.project : origin.project;
  const analysis = analyzeServer(raw);
  const definition = {
    transport: raw.transport,
    command: analysis.command,
    args: analysis.args,
    url: analysis.url,
    envNames: analysis.envNames,
    headerNames: analysis.headerNames,
  };
  return {
    id: serverId(origin.client, origin.configPath, project, raw.name),
    client: origin.client,
    configPath: origin.configPath,
    scope,
    project,
    name: raw.name,
    transport: raw.transport,
    ...(analysis.command !== undefined ? { command: analysis.command } : {}),
    ...(analysis.args !== undefined ? { args: analysis.args } : {}),
    ...(analysis.url !== undefined ? { url: analysis.url } : {}),
    ...(analysis.remoteUrl !== undefined ? { remoteUrl: analysis.remoteUrl } : {}),
    envNames: analysis.envNames,
    headerNames: analysis.headerNames,
    credential: { posture: analysis.posture, findings: analysis.findings },
    enabled: raw.enabled,
    fingerprint: fingerprint(definition),
  };
}

/** stableId('mcp', client, configPath, project, name): one config entry, across scans. */
export function serverId(client: string, configPath: string, project: string | null, name: string): string {
  return stableId('mcp', client, configPath, project ?? '', name);
}

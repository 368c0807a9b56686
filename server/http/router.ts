/**
 * A small method + path router (`/admin/v1/devices/:id`) with typed handler context. Unknown paths
 * are 404, known paths with another method 405 with Allow; path parameters are length-bounded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../app/util/log.ts';
import { HttpError } from './respond.ts';

export type RequestContext = Readonly<{
  req: IncomingMessage;
  res: ServerResponse;
  /** The request URL (path and query) parsed against the server's public base. */
  url: URL;
  /** The full URL the client addressed, for DPoP htu checks. */
  publicUrl: string;
  params: Readonly<Record<string, string>>;
  /** The client's address: the TCP peer, or the forwarded client when the peer is a trusted proxy (clientAddress.ts). */
  clientAddress: string;
  now: number;
  log: Logger;
}>;

export type Handler = (ctx: RequestContext) => Promise<void>;
export type Route = Readonly<{ method: string; path: string; handler: Handler }>;

type Compiled = { method: string; segments: readonly string[]; handler: Handler };

const MAX_PARAM = 200;

export type Router = Readonly<{ match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } }>;

export function createRouter(routes: readonly Route[]): Router {
  const compiled: Compiled[] = routes.map((r) => ({ method: r.method, segments: r.path.split('/').filter(Boolean), handler: r.handler }));
  return {
    match(method, pathname) {
      const parts = pathname.split('/').filter(Boolean);
      const allowed: string[] = [];
      for (const route of compiled) {
        const params = matchSegments(route.segments, parts);
        if (!params) continue;
        if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { handler: route.handler, params };
        allowed.push(route.method);
      }
      if (allowed.length > 0) throw new HttpError(405, 'method_not_allowed', `use ${allowed.join(' or ')}`, { headers: { allow: allowed.join(', ') } });
      throw new HttpError(404, 'not_found', 'no such endpoint');
    },
  };
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] ?? '';
    const v = parts[i] ?? '';
    if (p.startsWith(':')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(v);
      } catch {
        return null;
      }
      if (decoded.length === 0 || decoded.length > MAX_PARAM) return null;
      params[p.slice(1)] = decoded;
    } else if (p !== v) return null;
  }
  return params;
}

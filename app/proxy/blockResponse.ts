/**
 * The answers the proxy writes itself: the 403 for a blocked request or tunnel (naming Cordon, the
 * rule, the reason and the audit id), and the 400/413/502/504 error answers. Over a
 * ServerResponse or, for CONNECT and upgrades, straight onto the raw socket.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Decision } from '../api/enforcement.ts';

/** The answer that opens a tunnel. */
export const CONNECT_ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  403: 'Forbidden',
  413: 'Content Too Large',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

/** The text body of a 403: what decided and where to look it up. */
export function blockedBody(decision: Decision, auditId: string): string {
  const reasons = decision.reasons.length > 0 ? decision.reasons.map((r) => r.message).join('; ') : 'denied by policy';
  return `Blocked by Cordon.\nRule: ${decision.rule}\nReason: ${reasons}\nAudit id: ${auditId}\n`;
}

/** The X-Cordon-* headers of a 403. */
export function blockedHeaders(decision: Decision, auditId: string): Record<string, string> {
  return {
    'X-Cordon-Decision': 'deny',
    'X-Cordon-Rule': headerSafe(decision.rule),
    'X-Cordon-Audit-Id': headerSafe(auditId),
  };
}

/** 403 over a ServerResponse; closes the connection when an unread request body would follow. */
export function sendBlocked(res: ServerResponse, decision: Decision, auditId: string, close: boolean): void {
  sendText(res, 403, blockedBody(decision, auditId), blockedHeaders(decision, auditId), close);
}

/** An error answer over a ServerResponse (e.g. 400, 413, 502, 504). */
export function sendError(res: ServerResponse, status: number, message: string, close: boolean): void {
  sendText(res, status, `Cordon: ${message}\n`, { 'X-Cordon-Error': headerSafe(message) }, close);
}

/** 403 written onto a raw socket (CONNECT, upgrade), then the socket is ended. */
export function writeBlocked(socket: Duplex, decision: Decision, auditId: string): void {
  writeRaw(socket, 403, blockedBody(decision, auditId), blockedHeaders(decision, auditId));
}

/** An error answer written onto a raw socket, then the socket is ended. */
export function writeError(socket: Duplex, status: number, message: string): void {
  writeRaw(socket, status, `Cordon: ${message}\n`, { 'X-Cordon-Error': headerSafe(message) });
}

/** Printable ASCII only, bounded: policy text must not be able to inject header lines. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string>, close: boolean): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(bytes.length),
    'Cache-Control': 'no-store',
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(bytes);
}

function writeRaw(socket: Duplex, status: number, body: string, headers: Record<string, string>): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const bytes = Buffer.from(body, 'utf8');
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${bytes.length}`,
    'Connection: close',
  ];
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), bytes]));
  // A client that never reads must not hold the socket open forever.
  setTimeout(() => socket.destroy(), 5000).unref();
}

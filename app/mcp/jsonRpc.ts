/**
 * JSON-RPC 2.0 as MCP uses it: message shapes, classification, and the error responses the
 * gateway answers with. No IO; the stdio framing lives in lineFramer.ts, HTTP in remoteGateway.ts.
 */

export type JsonRpcId = string | number;

export type JsonRpcRequest = { jsonrpc: '2.0'; id: JsonRpcId; method: string; params?: unknown };
export type JsonRpcNotification = { jsonrpc: '2.0'; method: string; params?: unknown };
export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId | null; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId | null; error: { code: number; message: string; data?: unknown } };
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** What one parsed line or body holds: a single message, a batch (2025-03-26 only), or junk. */
export type Parsed =
  | { kind: 'single'; message: JsonRpcMessage }
  | { kind: 'batch'; messages: JsonRpcMessage[] }
  | { kind: 'invalid'; reason: string };

/** JSON-RPC parse error. */
export const PARSE_ERROR = -32700;
/** JSON-RPC invalid request. */
export const INVALID_REQUEST = -32600;
/** Server-defined range: a call Cordon refused (policy, changed tool, unreachable daemon). */
export const CORDON_BLOCKED = -32001;

/** Parses text into JSON-RPC messages; never throws. */
export function parseJsonRpc(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return { kind: 'invalid', reason: 'an empty batch' };
    const messages: JsonRpcMessage[] = [];
    for (const item of value) {
      if (!isMessage(item)) return { kind: 'invalid', reason: 'a batch element is not a JSON-RPC 2.0 message' };
      messages.push(item);
    }
    return { kind: 'batch', messages };
  }
  if (!isMessage(value)) return { kind: 'invalid', reason: 'not a JSON-RPC 2.0 message' };
  return { kind: 'single', message: value };
}

export function isMessage(value: unknown): value is JsonRpcMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  if (v.jsonrpc !== '2.0') return false;
  if (typeof v.method === 'string') return v.id === undefined || isId(v.id);
  return (v.id === null || isId(v.id)) && ('result' in v || (typeof v.error === 'object' && v.error !== null));
}

export function isRequest(message: JsonRpcMessage): message is JsonRpcRequest {
  return 'method' in message && 'id' in message && isId((message as JsonRpcRequest).id);
}

export function isNotification(message: JsonRpcMessage): message is JsonRpcNotification {
  return 'method' in message && !('id' in message && (message as { id?: unknown }).id !== undefined);
}

export function isResponse(message: JsonRpcMessage): message is JsonRpcResponse {
  return !('method' in message);
}

/** An error response to `id`. `data` must hold no secret: it reaches the client. */
export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

/** A stable key for an id in maps (1 and "1" are different ids). */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

function isId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

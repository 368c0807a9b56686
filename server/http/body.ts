/**
 * Strict JSON request bodies: application/json only, no content-encoding, a hard size limit
 * (checked against Content-Length first and then while streaming), valid UTF-8 and valid JSON.
 * Every failure is an HttpError with a 4xx status and a clear message, never a crash.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './respond.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'unsupported_media_type', 'the body must be application/json');
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') throw new HttpError(415, 'unsupported_media_type', 'content-encoding is not supported');
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.resume();
    throw new HttpError(413, 'payload_too_large', `the body is larger than ${maxBytes} bytes`, { headers: { connection: 'close' } });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      throw new HttpError(413, 'payload_too_large', `the body is larger than ${maxBytes} bytes`, { headers: { connection: 'close' } });
    }
    chunks.push(chunk);
  }
  if (size === 0) throw new HttpError(400, 'invalid_request', 'the body is empty');
  let text: string;
  try {
    text = decoder.decode(Buffer.concat(chunks, size));
  } catch {
    throw new HttpError(400, 'invalid_request', 'the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // Only the position: V8's message can quote the body, which may hold a secret.
    const position = error instanceof SyntaxError ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    throw new HttpError(400, 'invalid_request', `the body is not valid JSON${position !== undefined ? ` (at position ${position})` : ''}`);
  }
}

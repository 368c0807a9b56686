// Pure pieces of the MCP gateway: stdio line framing, SSE parsing, JSON-RPC classification,
// call records (names and hash, never values) and tool-set comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callDetails, canonicalJson } from '../../app/mcp/callRecord.ts';
import { errorResponse, isNotification, isRequest, isResponse, parseJsonRpc } from '../../app/mcp/jsonRpc.ts';
import { createLineFramer } from '../../app/mcp/lineFramer.ts';
import { createSseParser, formatSseEvent, type SseEvent } from '../../app/mcp/sse.ts';
import { checkServerName, compareToolSets, toolFingerprint } from '../../app/mcp/toolSet.ts';

test('line framer: partial chunks, CRLF, empty lines, and an oversized line dropped without losing the next', () => {
  const lines: string[] = [];
  const oversize: number[] = [];
  const framer = createLineFramer({ maxBytes: 16, onLine: (l) => lines.push(l), onOversize: (n) => oversize.push(n) });
  framer.push(Buffer.from('{"a":'));
  framer.push(Buffer.from('1}\r\n\n{"b":2}\n{"c"'));
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
  framer.push(Buffer.from(':3}\n'));
  framer.push(Buffer.from('x'.repeat(10)));
  framer.push(Buffer.from('y'.repeat(10)));
  assert.equal(framer.pending(), 0, 'an oversized line is not buffered');
  framer.push(Buffer.from('zz\n{"d":4}\n'));
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}']);
  assert.deepEqual(oversize, [22]);
});

test('JSON-RPC parsing classifies messages and rejects junk without throwing', () => {
  const req = parseJsonRpc('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}');
  assert.equal(req.kind, 'single');
  assert.ok(req.kind === 'single' && isRequest(req.message));
  const note = parseJsonRpc('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  assert.ok(note.kind === 'single' && isNotification(note.message) && !isRequest(note.message));
  const res = parseJsonRpc('{"jsonrpc":"2.0","id":"x","result":{}}');
  assert.ok(res.kind === 'single' && isResponse(res.message));
  const batch = parseJsonRpc('[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"}]');
  assert.equal(batch.kind, 'batch');
  for (const junk of ['not json', '[]', '{"id":1,"method":"x"}', '{"jsonrpc":"2.0","id":{},"method":"x"}', '[1]', 'null', '"s"']) {
    assert.equal(parseJsonRpc(junk).kind, 'invalid', junk);
  }
  assert.deepEqual(errorResponse(7, -32001, 'no'), { jsonrpc: '2.0', id: 7, error: { code: -32001, message: 'no' } });
});

test('call details hold argument names and a hash of canonical arguments, never values', () => {
  const secret = 'AKIAIOSFODNN7EXAMPLE-secret';
  const a = callDetails({ path: '/x', token: secret, nested: { b: 1, a: [1, { z: 2, y: 3 }] } });
  const b = callDetails({ nested: { a: [1, { y: 3, z: 2 }], b: 1 }, token: secret, path: '/x' });
  assert.deepEqual(a.argNames, ['nested', 'path', 'token']);
  assert.equal(a.argsHash, b.argsHash, 'key order does not change the hash');
  assert.match(a.argsHash, /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(callDetails({ path: '/y', token: secret }).argsHash, callDetails({ path: '/x', token: secret }).argsHash);
  assert.ok(!JSON.stringify(a).includes(secret));
  assert.deepEqual(callDetails(undefined).argNames, []);
  assert.equal(canonicalJson({ b: [undefined, 2], a: 'x' }), '{"a":"x","b":[null,2]}');
});

test('SSE parser: any chunking, CR/LF/CRLF, multi-line data, comments; formatting round-trips', () => {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const parser = createSseParser((e) => events.push(e), (c) => comments.push(c), () => assert.fail('no oversize'));
  const text = 'event: message\r\nid: 1\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: keepalive\n\ndata: plain\r\r';
  for (const ch of text) parser.push(ch);
  assert.deepEqual(events, [
    { event: 'message', id: '1', data: '{"a":\n1}', retry: null },
    { event: null, id: null, data: 'plain', retry: null },
  ]);
  assert.deepEqual(comments, [' keepalive']);
  const again: SseEvent[] = [];
  const p2 = createSseParser((e) => again.push(e), () => undefined, () => undefined);
  p2.push(events.map(formatSseEvent).join(''));
  assert.deepEqual(again, events);
});

test('tool sets: a changed description, a changed schema and a new tool are all reported', () => {
  const base = { name: 't', description: 'd', inputSchema: { type: 'object' } };
  const approved = { t: toolFingerprint(base), u: toolFingerprint({ name: 'u', description: 'u' }) };
  assert.deepEqual(compareToolSets(approved, { t: toolFingerprint({ ...base }) }), { changed: [], added: [], removed: ['u'] });
  assert.deepEqual(compareToolSets(approved, { t: toolFingerprint({ ...base, description: 'd2' }) }).changed, ['t']);
  assert.deepEqual(compareToolSets(approved, { t: toolFingerprint({ ...base, inputSchema: { type: 'object', properties: { x: {} } } }) }).changed, ['t']);
  assert.deepEqual(compareToolSets(approved, { v: toolFingerprint({ name: 'v' }) }).added, ['v']);
  assert.deepEqual(compareToolSets({}, { constructor: toolFingerprint({ name: 'constructor' }) }).added, ['constructor']);
  for (const bad of ['', '..', '.x', 'a/b', 'a b', 'x'.repeat(65)]) assert.throws(() => checkServerName(bad), /invalid MCP server name/);
  assert.equal(checkServerName('github.mcp_1'), 'github.mcp_1');
});

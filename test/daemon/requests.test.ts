// The daemon validates what clients report before it records anything: an mcpToolsChanged report
// with bad shapes is refused with a clear error, never recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMcpToolsChange } from '../../app/daemon/requests.ts';

test('mcpToolsChanged reports: bounded names and lists, at least one tool, a positive pid', () => {
  assert.deepEqual(parseMcpToolsChange({ server: 'fs', agent: 'cursor', changed: ['read_file'], added: [], pid: 42 }), { server: 'fs', agent: 'cursor', changed: ['read_file'], added: [], pid: 42 });
  const bad: [unknown, RegExp][] = [
    [null, /server|changed/],
    [{ server: 'fs', agent: 'cursor', changed: [], added: [] }, /at least one tool/],
    [{ server: '', agent: 'cursor', changed: ['a'], added: [] }, /server/],
    [{ server: 'fs', agent: 'cursor', changed: 'a', added: [] }, /changed must be a list/],
    [{ server: 'fs', agent: 'cursor', changed: [1], added: [] }, /changed\[0\]/],
    [{ server: 'fs', agent: 'cursor', changed: Array.from({ length: 300 }, () => 'x'), added: [] }, /at most 256/],
    [{ server: 'fs', agent: 'x'.repeat(65), changed: ['a'], added: [] }, /agent/],
    [{ server: 'fs', agent: 'cursor', changed: ['a'], added: [], pid: -1 }, /pid/],
  ];
  for (const [params, pattern] of bad) assert.throws(() => parseMcpToolsChange(params), pattern, JSON.stringify(params)?.slice(0, 80));
});

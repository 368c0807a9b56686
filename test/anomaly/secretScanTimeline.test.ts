// secretlint's profiler records performance marks for every rule of every lint in Node's global
// timeline unless it is turned off; in a long-running daemon that was an unbounded leak. Scanning
// many requests must leave the timeline empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { scanForSecrets } from '../../app/anomaly/secretScan.ts';

test('secret scans leave no performance marks or measures behind', async () => {
  performance.clearMarks();
  performance.clearMeasures();
  for (let i = 0; i < 50; i++) {
    const flags = await scanForSecrets({ url: `https://example.test/p?i=${i}&token=ghp_${'a'.repeat(36)}`, headers: { 'x-trace': `abcdefghijklmnopqrstuvwxyz${i}` }, bodySample: `{"n":${i},"k":"AKIAIOSFODNN7EXAMPLE${i}"}` });
    assert.ok(flags.some((f) => f.code === 'secret-in-url'), 'the planted token is still found');
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // the profiler's observer and measures run asynchronously
  assert.equal(performance.getEntriesByType('mark').length, 0);
  assert.equal(performance.getEntriesByType('measure').length, 0);
});

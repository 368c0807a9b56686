import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreError } from '../../app/api/errors.ts';
import { PAUSE_CHOICES, pausePermission, requestPause, requestResume, type PauseBackend } from '../../main/pause.ts';
import { settingsReport } from './fixtures.ts';

function backend(fail?: Error): PauseBackend & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async pause(minutes) {
      calls.push(`pause ${minutes}`);
      if (fail) throw fail;
    },
    async resume() {
      calls.push('resume');
      if (fail) throw fail;
    },
  };
}

test('permission follows allowPause and says when IT locked it', () => {
  assert.deepEqual(pausePermission(settingsReport(true, false)), { allowed: true, locked: false, reason: null });
  const locked = pausePermission(settingsReport(false, true));
  assert.equal(locked.allowed, false);
  assert.equal(locked.locked, true);
  assert.match(locked.reason ?? '', /IT administrator/);
  assert.equal(pausePermission(null).allowed, false);
});

test('a pause is sent to the daemon only when allowed and for an offered duration', async () => {
  const now = 1_000;
  const b = backend();
  assert.deepEqual(await requestPause(pausePermission(settingsReport(true, false)), 15, b, now), { ok: true, until: now + 15 * 60_000 });
  const refusedLocked = await requestPause(pausePermission(settingsReport(false, true)), 15, b, now);
  assert.ok(!refusedLocked.ok && /IT administrator/.test(refusedLocked.reason));
  const refusedLength = await requestPause(pausePermission(settingsReport(true, false)), 100_000, b, now);
  assert.equal(refusedLength.ok, false);
  assert.deepEqual(b.calls, ['pause 15']);
  assert.deepEqual(PAUSE_CHOICES, [5, 15, 60]);
});

test('daemon failures become readable outcomes, never throws', async () => {
  const allowed = pausePermission(settingsReport(true, false));
  const unknown = await requestPause(allowed, 5, backend(new CoreError('ERR_UNKNOWN_METHOD', 'unknown method pause')), 0);
  assert.ok(!unknown.ok && /cannot pause/.test(unknown.reason));
  const down = await requestResume(backend(new CoreError('ERR_DAEMON_UNREACHABLE', 'gone')));
  assert.ok(!down.ok && /not running/.test(down.reason));
  assert.deepEqual(await requestResume(backend()), { ok: true, until: null });
});

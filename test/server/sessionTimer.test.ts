import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SERVER_TOUCH_SLACK_MS, WARN_BEFORE_MS, sessionWarning, timeLeft } from '../../server/console/src/sessionTimer.ts';

const MIN = 60_000;

test('sessionWarning: nothing, then the idle warning, then ended; counted a server touch early', () => {
  const t0 = 1_800_000_000_000;
  const expiresAt = t0 + 12 * 60 * MIN;
  const idleEnd = t0 + 30 * MIN - SERVER_TOUCH_SLACK_MS;
  assert.deepEqual(sessionWarning(t0 + 5 * MIN, t0, 30, expiresAt), { kind: 'none' });
  assert.deepEqual(sessionWarning(idleEnd - WARN_BEFORE_MS - 1, t0, 30, expiresAt), { kind: 'none' });
  assert.deepEqual(sessionWarning(idleEnd - WARN_BEFORE_MS, t0, 30, expiresAt), { kind: 'idle', endsAt: idleEnd });
  assert.deepEqual(sessionWarning(idleEnd - 1, t0, 30, expiresAt), { kind: 'idle', endsAt: idleEnd });
  assert.deepEqual(sessionWarning(idleEnd, t0, 30, expiresAt), { kind: 'ended' });
  assert.deepEqual(sessionWarning(idleEnd - 1, idleEnd - 2 * MIN, 30, expiresAt), { kind: 'none' }, 'activity moves the idle end');
});

test('sessionWarning: near the absolute limit the warning is the time limit, which activity cannot move', () => {
  const t0 = 1_800_000_000_000;
  const expiresAt = t0 + 10 * MIN;
  assert.deepEqual(sessionWarning(expiresAt - MIN, expiresAt - 2 * MIN, 30, expiresAt), { kind: 'limit', endsAt: expiresAt });
  assert.deepEqual(sessionWarning(expiresAt, expiresAt - 1, 30, expiresAt), { kind: 'ended' });
});

test('timeLeft reads as minutes and seconds', () => {
  assert.equal(timeLeft(65_000), '1 min 5 s');
  assert.equal(timeLeft(44_100), '45 s');
  assert.equal(timeLeft(-5), '0 s');
});

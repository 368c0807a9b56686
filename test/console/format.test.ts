// The console's pure formatting of what a prompt shows: fleet context sentences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFleet } from '../../renderer/src/format.ts';

test('fleet context reads as one sentence, with plurals and the empty case', () => {
  const base = { host: 'api.example.com', days: 30 };
  assert.equal(describeFleet({ ...base, devicesAllowed: 12, devicesDenied: 1 }), 'Allowed on 12 other devices, blocked on 1 other device in the last 30 days.');
  assert.equal(describeFleet({ ...base, devicesAllowed: 1, devicesDenied: 0 }), 'Allowed on 1 other device in the last 30 days.');
  assert.equal(describeFleet({ ...base, devicesAllowed: 0, devicesDenied: 3 }), 'Blocked on 3 other devices in the last 30 days.');
  assert.equal(describeFleet({ ...base, devicesAllowed: 0, devicesDenied: 0 }), 'No other device reached api.example.com in the last 30 days.');
});

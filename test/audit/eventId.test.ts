import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newEventId } from '../../app/audit/eventId.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds in a version 7 id. */
function msOf(id: string): number {
  return Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
}

test('event ids are RFC 9562 version 7 UUIDs carrying their time', () => {
  const now = Date.now();
  const id = newEventId(now + 10_000);
  assert.match(id, V7);
  assert.equal(msOf(id), now + 10_000);
});

test('ids from one process sort in the order they were made, within a millisecond and when the clock goes back', () => {
  const base = Date.now() + 60_000;
  const ids: string[] = [];
  for (let i = 0; i < 10_000; i++) ids.push(newEventId(base + Math.floor(i / 5000)));
  ids.push(newEventId(base - 5000)); // the clock stepped back
  ids.push(newEventId(base + 2));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, V7);
  // More than the 12-bit counter holds in one millisecond borrows the next ones, never goes back.
  assert.ok(msOf(ids.at(-3)!) >= base + 1);
});

test('the random tail differs between ids of the same millisecond', () => {
  const ms = Date.now() + 120_000;
  const tails = new Set(Array.from({ length: 1000 }, () => newEventId(ms).slice(19)));
  assert.equal(tails.size, 1000);
});

// The in-memory replay cache and nonce store: expiry, bounds, and failing closed when full.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryReplayCache } from '../../app/identity/dpop/replayCache.ts';
import { createMemoryNonceStore } from '../../app/identity/dpop/nonces.ts';

test('RFC 9449 §11.1 replay cache: an id is a replay until it expires, then fresh again', () => {
  const cache = createMemoryReplayCache();
  assert.equal(cache.record('a', 2_000, 1_000), 'fresh');
  assert.equal(cache.record('a', 2_000, 1_500), 'replay');
  assert.equal(cache.record('b', 2_000, 1_500), 'fresh');
  assert.equal(cache.record('a', 3_000, 2_000), 'fresh', 'expired ids are forgotten');
});

test('replay cache: bounded; full of live ids it refuses (fails closed), after expiry it has room again', () => {
  const cache = createMemoryReplayCache({ maxEntries: 100 });
  for (let i = 0; i < 100; i++) assert.equal(cache.record(`id${i}`, 10_000, 0), 'fresh');
  assert.equal(cache.record('one-more', 10_000, 1), 'full');
  assert.equal(cache.size(), 100);
  assert.equal(cache.record('id5', 10_000, 2), 'replay', 'live ids are never evicted to make room');
  assert.equal(cache.record('later', 20_000, 10_001), 'fresh');
  assert.equal(cache.size(), 1);
});

test('RFC 9449 §8 nonce store: issued nonces are valid for their lifetime, per scope, newest few kept', () => {
  const store = createMemoryNonceStore({ ttlSeconds: 10, perScope: 2, stickySeconds: 100 });
  assert.equal(store.isRequired('k1', 0), false);
  const n1 = store.issue('k1', 0);
  assert.match(n1, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(store.isRequired('k1', 1_000), true);
  assert.equal(store.isRequired('k2', 1_000), false);
  assert.equal(store.isValid('k1', n1, 9_999), true);
  assert.equal(store.isValid('k2', n1, 1_000), false, 'nonces are per scope');
  assert.equal(store.isValid('k1', n1, 10_000), false, 'expired');
  const n2 = store.issue('k1', 1_000);
  const n3 = store.issue('k1', 2_000);
  const n4 = store.issue('k1', 3_000);
  assert.notEqual(n2, n3);
  assert.equal(store.isValid('k1', n2, 3_000), false, 'only the newest two are kept');
  assert.equal(store.isValid('k1', n3, 3_000), true);
  assert.equal(store.isValid('k1', n4, 3_000), true);
  assert.equal(store.isRequired('k1', 3_000 + 100_000), false, 'a scope quiet for stickySeconds is released');
});

test('nonce store: the number of scopes is bounded', () => {
  const store = createMemoryNonceStore({ maxScopes: 10 });
  for (let i = 0; i < 25; i++) store.issue(`s${i}`, i);
  assert.equal(store.isRequired('s0', 30), false, 'the oldest scopes were dropped');
  assert.equal(store.isRequired('s24', 30), true);
});

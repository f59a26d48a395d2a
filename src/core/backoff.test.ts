import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, maxAttemptsWithin } from './backoff.js';

test('backoff doubles up to the ceiling, jitter stays within [step/2, step], reset starts over', () => {
  const low = new Backoff({ minMs: 100, maxMs: 1000, random: () => 0 });
  const high = new Backoff({ minMs: 100, maxMs: 1000, random: () => 0.999999 });
  assert.deepEqual(
    Array.from({ length: 6 }, () => low.next()),
    [50, 100, 200, 400, 500, 500],
  );
  assert.deepEqual(
    Array.from({ length: 6 }, () => high.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
  low.reset();
  assert.equal(low.next(), 50);
  assert.ok(new Backoff({ minMs: 100, maxMs: 1000, random: () => 0.5 }).spread() < 100);
});

test('maxAttemptsWithin bounds the requests a failing endpoint can receive', () => {
  // delays at least 50,100,200,400,500,500,... → within 30 s: 1 + 4 + (30000 - 750) / 500 steps
  const bound = maxAttemptsWithin(30_000, { minMs: 100, maxMs: 1000 });
  assert.equal(bound, 63);
  const random = new Backoff({ minMs: 100, maxMs: 1000 });
  let elapsed = 0;
  let attempts = 1;
  while ((elapsed += random.next()) <= 30_000) attempts++;
  assert.ok(attempts <= bound, `${attempts} attempts > bound ${bound}`);
});

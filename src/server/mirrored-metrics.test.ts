import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { byLabel, counter, gauge } from '../core/metrics.js';
import { registerFamilies } from './mirrored-metrics.js';

describe('registerFamilies', () => {
  it('reads counters and gauges at scrape time, with label sets that appear later', async () => {
    const failures = new Map<string, number>();
    let pending = 10;
    let total = 0;
    const registry = new Registry();
    registerFamilies(registry, [
      counter('logferry_test_failures_total', 'Failures by reason', () => byLabel('reason', failures), ['reason']),
      counter('logferry_test_things_total', 'Things', () => total),
      gauge('logferry_test_pending_bytes', 'Pending bytes', () => pending),
    ]);
    let text = await registry.metrics();
    assert.match(text, /^# HELP logferry_test_failures_total Failures by reason$/m);
    assert.match(text, /^# TYPE logferry_test_failures_total counter$/m);
    assert.match(text, /^logferry_test_things_total 0$/m);
    assert.match(text, /^logferry_test_pending_bytes 10$/m);
    failures.set('refused', 3);
    total = 5;
    pending = 0;
    text = await registry.metrics();
    assert.match(text, /^logferry_test_failures_total\{reason="refused"\} 3$/m);
    assert.match(text, /^logferry_test_things_total 5$/m);
    assert.match(text, /^logferry_test_pending_bytes 0$/m);
    failures.set('http_429', 1);
    failures.set('refused', 4);
    total = 4; // a counter never goes down
    text = await registry.metrics();
    assert.match(text, /^logferry_test_failures_total\{reason="refused"\} 4$/m);
    assert.match(text, /^logferry_test_failures_total\{reason="http_429"\} 1$/m);
    assert.match(text, /^logferry_test_things_total 5$/m);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GlogClock } from './glog.js';
import { epochTimestamp, LineClock, newTimeParts, scanAccessLogTime, scanTimePrefix } from './line-time.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

describe('line time', () => {
  it('scanTimePrefix: where the timestamp ends, or 0', () => {
    const p = newTimeParts();
    const cases: Array<[string, number]> = [
      ['2026-11-24T10:15:30Z x', 20],
      ['2026-11-24T10:15:30.123456789+01:00 x', 35],
      ['2026-11-24 10:15:30,123 INFO', 23],
      ['[2026-11-24 10:15:30,123] INFO', 25],
      ['2026/11/24 10:15:30 [error]', 19],
      ['Nov  4 08:00:01 host', 15],
      ['Nov 24 08:00:01.250 host', 19],
      ['2026-11-24', 0],
      ['2026-11-24T25:15:30Z', 0],
      ['1969-12-31T23:59:59Z', 0],
      ['Noo 24 08:00:01 host', 0],
      ['', 0],
    ];
    for (const [text, end] of cases) assert.equal(scanTimePrefix(text, 0, p), end, text);
    assert.equal(scanAccessLogTime('::1 - - [24/Nov/2026:10:15:30 +0000] "GET / HTTP/1.1" 200 1', p), 36);
    assert.equal(scanAccessLogTime('no brackets in this line at all, none whatsoever', p), 0);
  });

  it('zone-less times across a DST change; syslog on 29 February; a cached second reused', () => {
    const berlin = new LineClock(new GlogClock('Europe/Berlin'), () => NOW);
    assert.equal(berlin.fromText('2026-03-29 01:59:59 before'), '2026-03-29T00:59:59Z');
    assert.equal(berlin.fromText('2026-03-29 03:00:00 after'), '2026-03-29T01:00:00Z');
    assert.equal(berlin.fromText('2026-03-29T03:00:00.5Z written in UTC'), '2026-03-29T03:00:00.5Z');
    // read on 1 March 2028: 29 February is this year's (2028 is a leap year)
    const leap = new LineClock(new GlogClock('UTC'), () => Date.UTC(2028, 2, 1));
    assert.equal(leap.fromText('Feb 29 10:00:00 host x'), '2028-02-29T10:00:00Z');
    const utc = new LineClock(new GlogClock('UTC'), () => NOW);
    assert.equal(utc.fromText('2026-11-24 10:00:00,001 a'), '2026-11-24T10:00:00.001Z');
    assert.equal(utc.fromText('2026-11-24 10:00:00,002 b'), '2026-11-24T10:00:00.002Z');
    assert.equal(utc.fromText('2026-11-24 10:00:00+02:00 same wall clock, other zone'), '2026-11-24T08:00:00Z');
  });

  it('epoch numbers by magnitude; out of 2000-2200 is not a time', () => {
    const ms = Date.UTC(2026, 10, 24, 10, 15, 30, 123);
    assert.equal(epochTimestamp(ms / 1000), '2026-11-24T10:15:30.123Z');
    assert.equal(epochTimestamp(ms), '2026-11-24T10:15:30.123Z');
    assert.equal(epochTimestamp(ms * 1000 + 456), '2026-11-24T10:15:30.123456Z');
    assert.equal(epochTimestamp(ms * 1e6), '2026-11-24T10:15:30.123Z');
    for (const value of [0, -1, 12, 1500, 9e18, Number.POSITIVE_INFINITY]) assert.equal(epochTimestamp(value), undefined, String(value));
  });
});

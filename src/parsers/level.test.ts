import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseLevel, textLevel } from './level.js';

describe('levels', () => {
  it('explicit level values: one ECS name per meaning, unknown words lower-cased, numbers by pino ranges', () => {
    const cases: Array<[unknown, string | undefined]> = [
      ['WARNING', 'warn'],
      ['warn', 'warn'],
      ['Warn', 'warn'],
      ['NOTICE', 'info'],
      ['Informational', 'info'],
      ['crit', 'fatal'],
      ['CRITICAL', 'fatal'],
      ['emerg', 'fatal'],
      ['alert', 'fatal'],
      ['panic', 'fatal'],
      ['DPANIC', 'fatal'],
      ['SEVERE', 'error'],
      ['Verbose', 'trace'],
      ['FINE', 'debug'],
      ['V2', 'v2'],
      ['constructor', 'constructor'],
      [35, 'info'],
      [Number.NaN, undefined],
      [null, undefined],
    ];
    for (const [value, expected] of cases) assert.equal(normaliseLevel(value), expected, String(value));
  });

  it('text: the head only, after a timestamp of the given length', () => {
    assert.equal(textLevel('2026-11-24 10:15:30 [main] com.x.Y - ERROR in message', 19), 'error', 'Python / logback layouts');
    assert.equal(textLevel('2026-11-24 10:15:30 one two three four five ERROR', 19), undefined, 'past the words a level may be in');
    assert.equal(textLevel('10:15:30.123 [main] ERROR c.e.Foo - x', 0), undefined, 'a time without a date is not a timestamp');
    assert.equal(textLevel('2026-11-24 10:15:30 error: x', 19), 'error');
    assert.equal(textLevel('2026-11-24 10:15:30 Errors: 3', 19), undefined);
    assert.equal(textLevel('ERRORS found', 0), undefined);
    assert.equal(textLevel('WARN', 0), 'warn', 'the whole line');
    assert.equal(textLevel('x'.repeat(10) + '\nERROR on the second line', 0), undefined);
    assert.equal(textLevel('I1124 10:15:30.123456 1 x.go:1] y', 0), 'info');
    assert.equal(textLevel('I1124x10:15:30 not klog', 0), undefined);
  });
});

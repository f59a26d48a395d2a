import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordFlag, type LogRecord } from '../event/record.js';
import { normaliseLevel, parseLogfmt, parseMessage, type MessageParsing } from './message.js';
import { parseAll } from '../../test/fixtures/feed.js';

function parsed(message: string, mode: MessageParsing = 'auto'): Pick<LogRecord, 'message' | 'level' | 'json' | 'flags'> {
  const record = { message, level: undefined, json: undefined, flags: 0 } as unknown as LogRecord;
  parseMessage(record, mode);
  return { message: record.message, level: record.level, json: record.json, flags: record.flags };
}

describe('message parsing', () => {
  it('auto: JSON objects only, by their first and last characters; level and message lifted', () => {
    assert.deepEqual(parsed('{"level":"WARN","msg":"cache miss","key":"u:7"}'), {
      message: 'cache miss',
      level: 'warn',
      json: { level: 'WARN', msg: 'cache miss', key: 'u:7' },
      flags: 0,
    });
    assert.deepEqual(parsed('  {"message":"padded","severity":"ERROR"} \r'), {
      message: 'padded',
      level: 'error',
      json: { message: 'padded', severity: 'ERROR' },
      flags: 0,
    });
    assert.deepEqual(parsed('{"msg":"msg wins","message":"not this","log.level":"debug"}'), {
      message: 'msg wins',
      level: 'debug',
      json: { msg: 'msg wins', message: 'not this', 'log.level': 'debug' },
      flags: 0,
    });
    assert.deepEqual(parsed('{"no":"message key"}'), { message: '{"no":"message key"}', level: undefined, json: { no: 'message key' }, flags: 0 });
    assert.deepEqual(parsed('{broken json}'), { message: '{broken json}', level: undefined, json: undefined, flags: RecordFlag.JSON_ERROR });
    for (const text of ['plain text', '{} and more', '[1,2,3]', '', 'x {"a":1}']) {
      assert.deepEqual(parsed(text), { message: text, level: undefined, json: undefined, flags: 0 }, text);
    }
  });

  it('json: every message is expected to be an object; anything else is flagged', () => {
    assert.deepEqual(parsed('{"a":1}', 'json').json, { a: 1 });
    for (const text of ['plain', '[1]', '"string"', '42', 'null']) assert.equal(parsed(text, 'json').flags, RecordFlag.JSON_ERROR, text);
  });

  it('logfmt: pairs into json.*, quoted values unescaped, level and msg lifted', () => {
    assert.deepEqual(parsed('ts=2026-11-24T10:00:00Z level=error msg="disk \\"data\\" full" path=/data empty=', 'logfmt'), {
      message: 'disk "data" full',
      level: 'error',
      json: { ts: '2026-11-24T10:00:00Z', level: 'error', msg: 'disk "data" full', path: '/data', empty: '' },
      flags: 0,
    });
    assert.deepEqual(parsed('no pairs here', 'logfmt'), { message: 'no pairs here', level: undefined, json: undefined, flags: 0 });
    assert.deepEqual(parseLogfmt('a=1 then words'), { a: '1' });
    assert.equal(parsed('{"a":1}', 'none').json, undefined);
  });

  it('levels: lower-case, abbreviations spelled out, pino numbers', () => {
    const cases: Array<[unknown, string | undefined]> = [
      ['INFO', 'info'],
      ['Warn', 'warn'],
      ['ERR', 'error'],
      ['information', 'info'],
      ['CRITICAL', 'fatal'],
      ['dbg', 'debug'],
      ['panic', 'fatal'],
      [10, 'trace'],
      [20, 'debug'],
      [30, 'info'],
      [40, 'warn'],
      [50, 'error'],
      [60, 'fatal'],
      [3, undefined],
      ['', undefined],
      ['a level name that is far too long', undefined],
      [{ level: 'info' }, undefined],
    ];
    for (const [value, expected] of cases) assert.equal(normaliseLevel(value), expected, String(value));
  });

  it('plain files: read time, JSON lines parsed, logfmt on request (its level is read either way)', () => {
    const { records } = parseAll('{"level":"info","msg":"started"}\nlevel=warn msg=slow\n', { format: 'plain' });
    assert.deepEqual(
      records.map((r) => [r.message, r.level, r.json]),
      [
        ['started', 'info', { level: 'info', msg: 'started' }],
        ['level=warn msg=slow', 'warn', undefined],
      ],
    );
    const logfmt = parseAll('level=warn msg=slow\n', { format: 'plain', message: 'logfmt' }).records;
    assert.deepEqual(
      logfmt.map((r) => [r.message, r.level, r.json]),
      [['slow', 'warn', { level: 'warn', msg: 'slow' }]],
    );
  });
});

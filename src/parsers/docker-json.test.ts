import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordFlag } from '../event/record.js';
import { fixture, lineOffset, NOW, parseAll } from '../../test/fixtures/feed.js';
import { newDockerLine, parseDockerLine } from './docker-json.js';

const MiB = 1024 * 1024;

describe('docker json-file', () => {
  it('fixture: every field of every record; pieces joined per stream; escapes decoded', () => {
    const buf = fixture('docker-json.log');
    const { records, parser } = parseAll(buf, { multiline: 'off' });
    assert.equal(parser.format, 'docker-json');
    const at = (time: string) =>
      lineOffset(
        buf,
        buf
          .toString()
          .split('\n')
          .find((l) => l.includes(time))!,
      );
    assert.deepEqual(
      records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, stream: r.stream, message: r.message, level: r.level, flags: r.flags })),
      [
        {
          offset: 0,
          timestamp: '2026-11-24T09:10:00.100200300Z',
          stream: 'stderr',
          message: '2026/11/24 09:10:00 [notice] 1#1: start worker processes',
          level: 'info',
          flags: 0,
        },
        {
          offset: at('09:10:01.000000001Z'),
          timestamp: '2026-11-24T09:10:01.000000001Z',
          stream: 'stdout',
          message: '10.244.0.1 - - [24/Nov/2026:09:10:01 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"',
          level: undefined,
          flags: 0,
        },
        { offset: at('09:10:02.5Z'), timestamp: '2026-11-24T09:10:02.5Z', stream: 'stdout', message: 'slow query', level: 'warn', flags: 0 },
        {
          offset: at('09:10:03.000000002Z'),
          timestamp: '2026-11-24T09:10:03.000000002Z',
          stream: 'stderr',
          message: 'a stderr line in between',
          level: undefined,
          flags: 0,
        },
        {
          offset: at('09:10:03.000000001Z'),
          timestamp: '2026-11-24T09:10:03.000000001Z',
          stream: 'stdout',
          message: 'first piece of a long line, and its end — fin',
          level: undefined,
          flags: 0,
        },
        {
          offset: at('09:10:04.000000000Z'),
          timestamp: '2026-11-24T09:10:04.000000000Z',
          stream: 'stderr',
          message: 'tab\tand <html> & escapes',
          level: undefined,
          flags: 0,
        },
        { offset: at('09:10:05.000000000Z'), timestamp: '2026-11-24T09:10:05.000000000Z', stream: 'stdout', message: 'with attrs', level: undefined, flags: 0 },
      ],
    );
    assert.deepEqual(records[2].json, { level: 'warn', msg: 'slow query', ms: 1530, query: 'SELECT * FROM orders WHERE id < 10' });
    assert.deepEqual(parser.counters, {
      lines: 8,
      records: 7,
      truncated: 0,
      invalidUtf8: 0,
      unparsed: 0,
      partialJoined: 1,
      multilineJoined: 0,
      multilineTruncated: 0,
    });
  });

  it('the index-search path and JSON.parse agree, whatever the key order or spacing', () => {
    const cases = [
      '{"log":"plain\\n","stream":"stdout","time":"2026-11-24T10:00:00Z"}',
      '{"log":"quote \\" and backslash \\\\ and \\u00e9\\n","stream":"stderr","time":"2026-11-24T10:00:00.5+01:00"}',
      '{"log":"ends in backslash \\\\","stream":"stdout","time":"2026-11-24T10:00:00Z"}',
      '{"stream":"stderr","time":"2026-11-24T10:00:00Z","log":"keys reordered\\n"}',
      '{ "log" : "spaced\\n", "stream" : "stdout", "time" : "2026-11-24T10:00:00Z" }',
      '{"log":"no stream key\\n","time":"2026-11-24T10:00:00Z"}',
    ];
    for (const line of cases) {
      const out = newDockerLine();
      assert.ok(parseDockerLine(line, out), line);
      const expected = JSON.parse(line) as { log: string; stream?: string };
      const partial = !expected.log.endsWith('\n');
      assert.equal(out.text, partial ? expected.log : expected.log.replace(/\r?\n$/, ''), line);
      assert.equal(out.partial, partial, line);
      assert.equal(out.stream, expected.stream ?? 'stdout', line);
    }
    const zoned = newDockerLine();
    parseDockerLine(cases[1], zoned);
    assert.equal(zoned.timestamp, '2026-11-24T09:00:00.5Z');
  });

  it('lines that are not docker json-file are shipped as-is, flagged; NUL and invalid bytes flagged', () => {
    const lines = [
      '{"log":"first\\n","stream":"stdout","time":"2026-11-24T10:00:00Z"}',
      '{"log":"no time\\n","stream":"stdout"}',
      '{"log":"cut off mid-li',
      '{"log":"bad stream\\n","stream":"stdin","time":"2026-11-24T10:00:00Z"}',
      'plain text',
      '{"log":"nul\\u0000inside\\n","stream":"stdout","time":"2026-11-24T10:00:00Z"}',
    ];
    const buf = Buffer.concat([
      Buffer.from(lines.join('\n') + '\n'),
      Buffer.from('{"log":"raw '),
      Buffer.from([0xfe]),
      Buffer.from(' byte\\n","stream":"stdout","time":"2026-11-24T10:00:00Z"}\n'),
    ]);
    const { records, parser } = parseAll(buf, { multiline: 'off' });
    assert.deepEqual(
      records.map((r) => [r.message, r.flags]),
      [
        ['first', 0],
        [lines[1], RecordFlag.UNPARSED],
        [lines[2], RecordFlag.UNPARSED],
        [lines[3], RecordFlag.UNPARSED],
        ['plain text', RecordFlag.UNPARSED],
        ['nulinside', RecordFlag.NUL_REMOVED],
        ['raw \uFFFD byte', RecordFlag.INVALID_UTF8],
      ],
    );
    assert.equal(records[1].timestamp, new Date(NOW).toISOString());
    assert.equal(parser.counters.unparsed, 4);
  });

  it('a 3 MiB line in 16 KiB pieces arrives once, cut at 1 MiB, counted once', () => {
    const text = 'é'.repeat((3 * MiB) / 2); // 2 bytes each: 3 MiB
    let lines = '';
    for (let i = 0; i < text.length; i += 8192) {
      const piece = text.slice(i, i + 8192) + (i + 8192 >= text.length ? '\n' : '');
      lines += JSON.stringify({ log: piece, stream: 'stdout', time: '2026-11-24T10:00:00Z' }) + '\n';
    }
    lines += JSON.stringify({ log: 'next\n', stream: 'stdout', time: '2026-11-24T10:00:01Z' }) + '\n';
    const { records, parser } = parseAll(lines);
    assert.equal(records.length, 2);
    assert.equal(Buffer.byteLength(records[0].message), MiB);
    assert.equal(records[0].message, 'é'.repeat(MiB / 2));
    assert.equal(records[0].flags, RecordFlag.TRUNCATED);
    assert.equal(parser.counters.truncated, 1);
    assert.equal(records[1].message, 'next');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordFlag } from '../event/record.js';
import { fixture, makeParser, NOW, parseAll } from '../../test/fixtures/feed.js';
import { ParserConfigError } from './file-parser.js';
import { toUtcTimestamp } from './time.js';
import { cutString, utf8Boundary } from './utf8.js';

describe('file parser', () => {
  it('auto: the format is decided by the first non-empty line', () => {
    const cases: Array<[string, string]> = [
      ['containerd-cri.log', 'cri'],
      ['crio.log', 'cri'],
      ['docker-json.log', 'docker-json'],
      ['kubelet.log', 'glog'],
      ['dockerd.log', 'logrus'],
      ['java.log', 'plain'],
    ];
    for (const [name, format] of cases) assert.equal(parseAll(fixture(name)).parser.format, format, name);
    const { records, parser } = parseAll('\n\n2026-11-24T10:00:00Z stdout F after two empty lines\n');
    assert.equal(parser.format, 'cri');
    assert.deepEqual(
      records.map((r) => [r.message, r.flags]),
      [
        ['', 0],
        ['', 0],
        ['after two empty lines', 0],
      ],
    );
    assert.equal(makeParser().format, 'plain', 'before the first line');
  });

  it('plain: read time, no stream, an over-long line cut on a character boundary and counted', () => {
    const { records, parser } = parseAll('first\n' + 'ä'.repeat(700) + '\n', { format: 'plain', maxRecordBytes: 1025 });
    assert.deepEqual(
      records.map((r) => [r.timestamp, r.stream, r.offset]),
      [
        [new Date(NOW).toISOString(), undefined, 0],
        [new Date(NOW).toISOString(), undefined, 6],
      ],
    );
    assert.equal(records[1].message, 'ä'.repeat(512));
    assert.equal(records[1].flags, RecordFlag.TRUNCATED);
    assert.equal(parser.counters.truncated, 1);
  });

  it('ids: idPrefix + decimal offset; records share the file context', () => {
    const parser = makeParser({ format: 'plain', multiline: 'off' });
    const out = [] as Parameters<typeof parser.push>[4];
    const buf = Buffer.from('a line');
    parser.push(buf, 0, buf.length, 123_456_789_012, out);
    assert.equal(out[0].id, 'f1:123456789012');
    assert.equal(out[0].offset, 123_456_789_012);
  });

  it('options that cannot work are refused when the parser is built', () => {
    assert.throws(() => makeParser({ maxRecordBytes: 0 }), ParserConfigError);
    assert.throws(() => makeParser({ maxRecordBytes: 1.5 }), /maxRecordBytes: expected a positive integer, got 1.5/);
  });

  it('UTF-8 cuts never split a character', () => {
    const buf = Buffer.from('aé€😀');
    // a(1) é(2) €(3) 😀(4): boundaries at 0,1,3,6,10
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((limit) => utf8Boundary(buf, 0, limit)),
      [0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10],
    );
    assert.equal(cutString('aé€😀', 9), 'aé€');
    assert.equal(cutString('short', 100), 'short');
    assert.equal(utf8Boundary(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), 0, 5), 5, 'invalid input: cut anywhere after looking back 3 bytes');
  });

  it('timestamps: UTC kept as written, offsets converted with the fraction kept, nonsense refused', () => {
    const cases: Array<[string, string | undefined]> = [
      ['2026-11-24T10:00:00.123456789Z', '2026-11-24T10:00:00.123456789Z'],
      ['2026-11-24T10:00:00Z', '2026-11-24T10:00:00Z'],
      ['2026-11-24T00:30:00.000000001+01:00', '2026-11-23T23:30:00.000000001Z'],
      ['2026-12-31T23:00:00.5-01:00', '2027-01-01T00:00:00.5Z'],
      ['2026-11-24t10:00:00z', '2026-11-24T10:00:00Z'],
      ['2026-11-24T10:00:00.Z', undefined],
      ['2026-11-24T10:00:00.12a4Z', undefined],
      ['2026-11-24T10:00:00', undefined],
      ['2026-11-24 10:00:00Z', undefined],
      ['2026-02-30T10:00:00+01:00', '2026-03-02T09:00:00Z'],
      ['2026-13-01T10:00:00Z', undefined],
      ['2026-11-24T24:00:00Z', undefined],
      ['2026-11-24T10:00:00+0100', undefined],
    ];
    for (const [input, expected] of cases) assert.equal(toUtcTimestamp(input), expected, input);
  });
});

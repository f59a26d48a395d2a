import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordFlag, type LogRecord } from '../event/record.js';
import { feed, fixture, lineOffset, makeParser, NOW, parseAll } from '../../test/fixtures/feed.js';
import { newCriHeader, parseCriHeader } from './cri.js';

const MiB = 1024 * 1024;

// multiline 'off' where a test follows records in file order: the default (auto) holds each stream's last line
describe('CRI (containerd, CRI-O)', () => {
  it('containerd fixture: every field of every record', () => {
    const buf = fixture('containerd-cri.log');
    const { records, parser } = parseAll(buf, { multiline: 'off' });
    assert.equal(parser.format, 'cri');
    const at = (prefix: string) => lineOffset(buf, prefix);
    const view = records.map((r) => ({
      offset: r.offset,
      id: r.id,
      timestamp: r.timestamp,
      stream: r.stream,
      message: r.message,
      level: r.level,
      flags: r.flags,
    }));
    assert.deepEqual(view, [
      { offset: 0, id: 'f1:0', timestamp: '2026-11-24T08:59:58.412031876Z', stream: 'stdout', message: 'listening', level: 'info', flags: 0 },
      {
        offset: at('2026-11-24T08:59:58.412203514Z'),
        id: `f1:${at('2026-11-24T08:59:58.412203514Z')}`,
        timestamp: '2026-11-24T08:59:58.412203514Z',
        stream: 'stderr',
        message:
          'W1124 08:59:58.412150       1 client_config.go:618] Neither --kubeconfig nor --master was specified.  Using the inClusterConfig.  This might not work.',
        level: 'warn',
        flags: 0,
      },
      {
        offset: at('2026-11-24T09:00:01.07Z'),
        id: `f1:${at('2026-11-24T09:00:01.07Z')}`,
        timestamp: '2026-11-24T09:00:01.07Z',
        stream: 'stdout',
        message: '10.244.1.1 - - [24/Nov/2026:09:00:01 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.31"',
        level: undefined,
        flags: 0,
      },
      // the stderr line between the stdout pieces comes out first: its record is complete first
      {
        offset: at('2026-11-24T09:00:02.500000013Z'),
        id: `f1:${at('2026-11-24T09:00:02.500000013Z')}`,
        timestamp: '2026-11-24T09:00:02.500000013Z',
        stream: 'stderr',
        message: 'error: upstream timed out (110: Connection timed out) while reading response header from upstream',
        level: 'error',
        flags: 0,
      },
      // three pieces: offset and timestamp of the first, JSON parsed after joining
      {
        offset: at('2026-11-24T09:00:02.500000001Z'),
        id: `f1:${at('2026-11-24T09:00:02.500000001Z')}`,
        timestamp: '2026-11-24T09:00:02.500000001Z',
        stream: 'stdout',
        message: 'order created',
        level: 'info',
        flags: 0,
      },
      {
        offset: at('2026-11-24T09:00:03Z'),
        id: `f1:${at('2026-11-24T09:00:03Z')}`,
        timestamp: '2026-11-24T09:00:03Z',
        stream: 'stdout',
        message: 'Grüße aus Köln — 日本語のログ ✓ 🚀',
        level: undefined,
        flags: 0,
      },
      {
        offset: at('2026-11-24T09:00:04.1Z'),
        id: `f1:${at('2026-11-24T09:00:04.1Z')}`,
        timestamp: '2026-11-24T09:00:04.1Z',
        stream: 'stderr',
        message: '',
        level: undefined,
        flags: 0,
      },
      {
        offset: at('2026-11-24T09:00:05.999999999Z'),
        id: `f1:${at('2026-11-24T09:00:05.999999999Z')}`,
        timestamp: '2026-11-24T09:00:05.999999999Z',
        stream: 'stdout',
        message: 'request completed',
        level: 'info',
        flags: 0,
      },
    ]);
    assert.deepEqual(records[0].json, { level: 'info', ts: 1795424398.4119, caller: 'server/main.go:88', msg: 'listening', addr: ':8080' });
    assert.deepEqual(records[4].json, {
      level: 'info',
      msg: 'order created',
      order: {
        id: 'ord-7731',
        items: [
          { sku: 'A-1', qty: 2 },
          { sku: 'B-9', qty: 1 },
        ],
        total: '42.50 €',
      },
      user: 'zoë',
      severity: 'NOTICE',
    });
    assert.equal(records[2].json, undefined);
    for (const r of records) {
      assert.equal(r.file.path, '/var/log/containers/web-0_shop_app-0123abcd.log');
      assert.equal(r.meta, r.file.meta, 'the file metadata object itself, shared');
      assert.equal(r.batch, undefined, 'the tailer sets the batch');
    }
    assert.deepEqual(parser.counters, {
      lines: 10,
      records: 8,
      truncated: 0,
      invalidUtf8: 0,
      unparsed: 0,
      partialJoined: 2,
      multilineJoined: 0,
      multilineTruncated: 0,
    });
  });

  it('CRI-O: offsets converted to UTC, fraction kept digit for digit', () => {
    const { records, parser } = parseAll(fixture('crio.log'), { multiline: 'off' });
    assert.equal(parser.format, 'cri');
    assert.deepEqual(
      records.map((r) => [r.timestamp, r.stream, r.message]),
      [
        ['2026-11-24T08:00:00.123456789Z', 'stdout', "CRI-O writes the node's offset"],
        ['2026-11-24T07:00:00.5Z', 'stderr', 'and negative ones, with a short fraction'],
        ['2026-11-24T08:00:00Z', 'stdout', 'or none at all'],
      ],
    );
  });

  it('header: tags, empty text, malformed lines', () => {
    const h = newCriHeader();
    const ok = (line: string) => {
      const b = Buffer.from(line);
      return parseCriHeader(b, 0, b.length, h) ? { stream: h.stream, partial: h.partial, text: b.toString('utf8', h.textStart) } : undefined;
    };
    assert.deepEqual(ok('2026-11-24T10:00:00Z stdout F'), { stream: 'stdout', partial: false, text: '' });
    assert.deepEqual(ok('2026-11-24T10:00:00Z stderr P  two spaces'), { stream: 'stderr', partial: true, text: ' two spaces' });
    assert.deepEqual(ok('2026-11-24T10:00:00.1Z stdout P:x text'), { stream: 'stdout', partial: true, text: 'text' });
    assert.deepEqual(ok('2026-11-24T10:00:00.1Z stdout F:x text'), { stream: 'stdout', partial: false, text: 'text' });
    for (const bad of [
      '2026-11-24T10:00:00Z stdin F x',
      '2026-11-24 10:00:00Z stdout F x',
      '2026-11-24T10:00:00Z stdout X x',
      'hello world',
      '2026-11-24T10:00:00Z stdout',
      '2026-1a-24T10:00:00Z stdout F x',
    ]) {
      assert.equal(ok(bad), undefined, bad);
    }
  });

  it('partial pieces are joined per stream with the other stream interleaved; pendingOffset never passes an incomplete record', () => {
    const lines = [
      '2026-11-24T10:00:00.1Z stdout P out-1 ',
      '2026-11-24T10:00:00.2Z stderr P err-1 ',
      '2026-11-24T10:00:00.3Z stdout P out-2 ',
      '2026-11-24T10:00:00.4Z stderr F err-2',
      '2026-11-24T10:00:00.5Z stdout F out-3',
      '2026-11-24T10:00:00.6Z stdout F whole',
    ];
    const buf = Buffer.from(lines.join('\n') + '\n');
    const parser = makeParser({ multiline: 'off' });
    const out: LogRecord[] = [];
    const pending: number[] = [];
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      parser.push(buf, start, nl, start, out);
      pending.push(parser.pendingOffset());
      start = nl + 1;
    }
    const offsets = lines.map((l) => lineOffset(buf, l));
    assert.deepEqual(pending, [offsets[0], offsets[0], offsets[0], offsets[0], -1, -1]);
    assert.deepEqual(
      out.map((r) => [r.stream, r.message, r.offset, r.timestamp]),
      [
        ['stderr', 'err-1 err-2', offsets[1], '2026-11-24T10:00:00.2Z'],
        ['stdout', 'out-1 out-2 out-3', offsets[0], '2026-11-24T10:00:00.1Z'],
        ['stdout', 'whole', offsets[5], '2026-11-24T10:00:00.6Z'],
      ],
    );
    assert.equal(parser.counters.partialJoined, 3);
  });

  it('a character split between two pieces is joined intact (pieces are joined as bytes)', () => {
    const euro = Buffer.from('€'); // e2 82 ac
    const buf = Buffer.concat([
      Buffer.from('2026-11-24T10:00:00Z stdout P price: 42 '),
      euro.subarray(0, 1),
      Buffer.from('\n2026-11-24T10:00:00Z stdout F '),
      euro.subarray(1),
      Buffer.from(' net\n'),
    ]);
    const { records, parser } = parseAll(buf);
    assert.equal(records.length, 1);
    assert.equal(records[0].message, 'price: 42 € net');
    assert.equal(records[0].flags, 0);
    assert.equal(parser.counters.invalidUtf8, 0);
  });

  it('a 3 MiB line in 16 KiB pieces arrives once, cut at 1 MiB on a character boundary, counted once; the next record is whole', () => {
    // 'ü' (2 bytes) straddles the 1 MiB limit: the cut has to step back one byte
    const text = 'a'.repeat(MiB - 1) + 'ü' + 'b'.repeat(2 * MiB);
    const bytes = Buffer.from(text);
    let lines = '';
    for (let i = 0; i < bytes.length; i += 16 * 1024 + 1) {
      const last = i + 16 * 1024 + 1 >= bytes.length;
      lines += `2026-11-24T10:00:00.000000001Z stdout ${last ? 'F' : 'P'} ` + bytes.toString('latin1', i, Math.min(bytes.length, i + 16 * 1024 + 1)) + '\n';
    }
    const buf = Buffer.concat([Buffer.from(lines, 'latin1'), Buffer.from('2026-11-24T10:00:01Z stdout F after\n')]);
    const { records, parser } = parseAll(buf);
    assert.equal(records.length, 2);
    const cut = records[0];
    assert.equal(Buffer.byteLength(cut.message), MiB - 1);
    assert.ok(cut.message === 'a'.repeat(MiB - 1), 'the start of the line, unaltered');
    assert.equal(cut.flags, RecordFlag.TRUNCATED);
    assert.equal(cut.offset, 0);
    assert.equal(parser.counters.truncated, 1);
    assert.equal(records[1].message, 'after');
    assert.equal(records[1].flags, 0);
  });

  it('an over-long single line (the head the tailer hands over) is cut exactly at the limit', () => {
    const head = '2026-11-24T10:00:00Z stdout F ';
    const buf = Buffer.from(head + 'x'.repeat(3 * MiB) + '\n');
    const { records, parser } = parseAll(buf, { maxRecordBytes: MiB });
    assert.equal(records.length, 1);
    assert.equal(records[0].message.length, MiB);
    assert.equal(records[0].flags, RecordFlag.TRUNCATED);
    assert.equal(parser.counters.truncated, 1);
  });

  it('bad bytes: invalid UTF-8 replaced and flagged, a real U+FFFD not flagged, NUL removed and flagged, garbage shipped as-is', () => {
    const buf = Buffer.concat([
      Buffer.from('2026-11-24T10:00:00Z stdout F bad '),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('\n2026-11-24T10:00:00Z stdout F real \uFFFD replacement character\n'),
      Buffer.from('2026-11-24T10:00:00Z stderr F nul\0byte\0\n'),
      Buffer.from('2026-11-24T10:00:00Z stdout P piece with '),
      Buffer.from([0xff]),
      Buffer.from('\n2026-11-24T10:00:00Z stdout F end\n'),
      Buffer.from('not a cri line at all {\n'),
      Buffer.from('2026-13-45T99:00:00Z stdout F impossible date\n'),
    ]);
    const { records, parser } = parseAll(buf, { multiline: 'off' });
    assert.equal(parser.format, 'cri');
    assert.deepEqual(
      records.map((r) => [r.message, r.flags]),
      [
        ['bad \uFFFD(\uFFFD', RecordFlag.INVALID_UTF8],
        ['real \uFFFD replacement character', 0],
        ['nulbyte', RecordFlag.NUL_REMOVED],
        ['piece with \uFFFDend', RecordFlag.INVALID_UTF8],
        ['not a cri line at all {', RecordFlag.UNPARSED],
        ['2026-13-45T99:00:00Z stdout F impossible date', RecordFlag.UNPARSED],
      ],
    );
    const unparsed = records[4];
    assert.equal(unparsed.timestamp, new Date(NOW).toISOString(), 'read time');
    assert.equal(unparsed.stream, undefined);
    assert.equal(parser.counters.unparsed, 2);
    assert.equal(parser.counters.invalidUtf8, 2);
  });

  it('flushIdle releases a partial line whose final piece never comes, after 5 s; flushAll releases everything', () => {
    let now = NOW;
    const parser = makeParser({ now: () => now });
    const out = feed(parser, Buffer.from('2026-11-24T10:00:00Z stdout P prompt> \n'));
    assert.equal(out.length, 0);
    assert.equal(parser.pendingOffset(), 0);
    parser.flushIdle(now + 4999, out);
    assert.equal(out.length, 0);
    now += 6000;
    parser.flushIdle(now, out);
    assert.deepEqual(
      out.map((r) => r.message),
      ['prompt> '],
    );
    assert.equal(parser.pendingOffset(), -1);
    feed(parser, Buffer.from('2026-11-24T10:00:09Z stderr P half\n'), out, 100);
    parser.flushAll(out);
    assert.deepEqual(
      out.map((r) => [r.message, r.offset]),
      [
        ['prompt> ', 0],
        ['half', 100],
      ],
    );
  });

  it('JSON message with a level in upper case, message lifted; message: none keeps the text', () => {
    const line = '2026-11-24T10:00:00Z stdout F {"severity":"WARNING","message":"disk 91% full","disk":"/data"}\n';
    const auto = parseAll(line).records[0];
    assert.equal(auto.level, 'warn');
    assert.equal(auto.message, 'disk 91% full');
    assert.deepEqual(auto.json, { severity: 'WARNING', message: 'disk 91% full', disk: '/data' });
    const none = parseAll(line, { message: 'none' }).records[0];
    assert.equal(none.message, '{"severity":"WARNING","message":"disk 91% full","disk":"/data"}');
    assert.equal(none.json, undefined);
    assert.equal(none.level, undefined);
  });
});

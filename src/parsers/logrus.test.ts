import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, lineOffset, parseAll } from '../../test/fixtures/feed.js';
import { parseLogrusLine } from './logrus.js';

describe('logrus (docker daemon)', () => {
  it('dockerd fixture: every field; plain lines kept with the last timestamp seen', () => {
    const buf = fixture('dockerd.log');
    const { records, parser } = parseAll(buf, { format: 'logrus' });
    assert.equal(parser.format, 'logrus');
    assert.deepEqual(
      records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, level: r.level, message: r.message, extra: r.extra, flags: r.flags, json: r.json })),
      [
        { offset: 0, timestamp: '2026-11-24T09:30:00.123456789Z', level: 'info', message: 'Starting up', extra: undefined, flags: 0, json: undefined },
        {
          offset: lineOffset(buf, 'time="2026-11-24T09:30:01'),
          timestamp: '2026-11-24T08:30:01.000000000Z',
          level: 'warn',
          message: 'Your kernel does not support cgroup memory limit',
          extra: { docker: { 'storage-driver': 'overlay2' } },
          flags: 0,
          json: undefined,
        },
        {
          offset: lineOffset(buf, 'time="2026-11-24T09:30:02'),
          timestamp: '2026-11-24T09:30:02.500000000Z',
          level: 'error',
          message: 'Handler for GET /v1.41/containers/abc/json returned error: No such container: abc',
          extra: undefined,
          flags: 0,
          json: undefined,
        },
        {
          offset: lineOffset(buf, 'time="2026-11-24T09:30:03'),
          timestamp: '2026-11-24T09:30:03Z',
          level: 'info',
          message: 'ignoring event',
          extra: { docker: { container: '4f1c2b3a', module: 'libcontainerd', namespace: 'moby', topic: '/tasks/delete', type: '*events.TaskDelete' } },
          flags: 0,
          json: undefined,
        },
        {
          offset: lineOffset(buf, 'plain line'),
          timestamp: '2026-11-24T09:30:03Z',
          level: undefined,
          message: 'plain line without structure',
          extra: undefined,
          flags: 0,
          json: undefined,
        },
        {
          offset: lineOffset(buf, 'time="2026-11-24T09:30:04'),
          timestamp: '2026-11-24T09:30:04.000000001Z',
          level: 'warn',
          message: 'Health check for container 4f1c2b3a error: context deadline exceeded: unknown',
          extra: undefined,
          flags: 0,
          json: undefined,
        },
      ],
    );
    assert.equal(parser.counters.unparsed, 0, 'plain lines are expected in docker.log');
  });

  it('detected from the first line; timestamps without a fraction or in another form', () => {
    assert.equal(parseAll('time="2026-11-24T09:30:00Z" level=debug msg=hi\n').parser.format, 'logrus');
    assert.equal(parseLogrusLine('time="Tue Nov 24 09:30:00 UTC 2026" level=info msg=x')?.timestamp, '2026-11-24T09:30:00.000Z');
    assert.equal(parseLogrusLine('time="yesterday" level=info msg=x'), undefined);
    assert.equal(parseLogrusLine('level=info msg=x'), undefined);
  });
});

/**
 * Time and level from a record's own text, through the file parser as the tailer feeds it: one table of
 * real-shaped lines per format, with the `@timestamp` and `log.level` each must get. Plain files (sidecar,
 * --input) take the line's time; container lines keep the runtime's and only gain a level.
 * Tests' "now" is 2026-11-24T12:00:00Z (a plain line without a time of its own gets it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, NOW, parseAll } from '../../test/fixtures/feed.js';
import type { FileParserOptions } from './file-parser.js';

const READ = new Date(NOW).toISOString();

type Row = [line: string, timestamp: string, level: string | undefined];

/** Each line as its own plain file: [line, expected @timestamp, expected log.level]. */
function checkPlain(rows: Row[], options: Partial<FileParserOptions> = {}): void {
  for (const [line, timestamp, level] of rows) {
    const { records } = parseAll(line + '\n', { format: 'plain', ...options });
    assert.equal(records.length, 1, line);
    assert.deepEqual([records[0].timestamp, records[0].level], [timestamp, level], line);
    assert.equal(records[0].message.length > 0, true);
  }
}

/** Each line as the text of a CRI line stamped 2026-11-24T11:59:59.5Z: [text, level]. */
function checkContainer(rows: Array<[text: string, level: string | undefined]>): void {
  for (const [text, level] of rows) {
    const { records } = parseAll(`2026-11-24T11:59:59.5Z stdout F ${text}\n`);
    assert.equal(records.length, 1, text);
    assert.deepEqual([records[0].timestamp, records[0].level], ['2026-11-24T11:59:59.5Z', level], text);
  }
}

describe('line time and level', () => {
  it('RFC 3339 / ISO 8601 at the start of a line: zones, fractions kept, zone-less in components.timezone', () => {
    checkPlain([
      ['2026-11-24T10:15:30.123456789Z INFO  server started on :8080', '2026-11-24T10:15:30.123456789Z', 'info'],
      ['2026-11-24T11:15:30.5+01:00 WARN cache nearly full', '2026-11-24T10:15:30.5Z', 'warn'],
      ['2026-11-24T05:15:30-0500 [error] upstream timed out', '2026-11-24T10:15:30Z', 'error'],
      ['2026-11-24T10:15:30.123Z  WARN 1 --- [           main] o.s.b.a.OrdersApplication : slow start', '2026-11-24T10:15:30.123Z', 'warn'],
      ['2026-11-24T10:15:30.123Z\tinfo\tcheckout/handler.go:88\torder placed\t{"order": 42}', '2026-11-24T10:15:30.123Z', 'info'],
      ['2026-11-24T10:15:30.123 zone-less, no level', '2026-11-24T10:15:30.123Z', undefined],
    ]);
    // zone-less times are the configured zone's wall clock: Berlin is UTC+1 in November
    checkPlain([['2026-11-24T10:15:30.123 DEBUG zone-less', '2026-11-24T09:15:30.123Z', 'debug']], { timezone: 'Europe/Berlin' });
    checkPlain([['2026-07-01T10:15:30 summer time', '2026-07-01T08:15:30Z', undefined]], { timezone: 'Europe/Berlin' });
  });

  it('log4j / logback / Python logging: `YYYY-MM-DD HH:MM:SS,mmm`', () => {
    checkPlain([
      ['2026-11-24 10:15:32,450 ERROR [http-nio-8080-exec-2] com.example.billing.ChargeService - charge failed', '2026-11-24T10:15:32.450Z', 'error'],
      ['2026-11-24 10:15:33.901 [scheduler-1] DEBUG c.e.billing.Sweeper - swept 0 expired holds', '2026-11-24T10:15:33.901Z', 'debug'],
      ['2026-11-24 10:15:34,002 - invoices - WARNING - render took 2.3s', '2026-11-24T10:15:34.002Z', 'warn'],
      ['2026-11-24 10:15:35,117 CRITICAL root: out of disk', '2026-11-24T10:15:35.117Z', 'fatal'],
      ['[2026-11-24 10:15:36,000] INFO [KafkaServer id=1] started (kafka.server.KafkaServer)', '2026-11-24T10:15:36.000Z', 'info'],
      ['2026-11-24 10:15:37 NOTICE autovacuum launcher started', '2026-11-24T10:15:37Z', 'info'],
    ]);
    checkPlain([['2026-11-24 10:15:32,450 ERROR [main] in New York', '2026-11-24T15:15:32.450Z', 'error']], { timezone: 'America/New_York' });
    // component logs in `plain` format are read with message parsing off: time and level still come from the line
    checkPlain([['2026-11-24 10:15:32,450 WARN [main] etcd-style plain component log', '2026-11-24T10:15:32.450Z', 'warn']], { message: 'none' });
  });

  it('Go `log` and nginx error logs: `YYYY/MM/DD HH:MM:SS`', () => {
    checkPlain([
      [
        '2026/11/24 10:15:30 [error] 29#29: *1 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory)',
        '2026-11-24T10:15:30Z',
        'error',
      ],
      ['2026/11/24 10:15:30 [notice] 1#1: start worker processes', '2026-11-24T10:15:30Z', 'info'],
      ['2026/11/24 10:15:30.123456 listening on :8080', '2026-11-24T10:15:30.123456Z', undefined],
    ]);
  });

  it('syslog: `Mmm dd HH:MM:SS`, the year that does not put the line in the future', () => {
    checkPlain([
      ['Nov 24 10:15:30 node-1 sshd[812]: Accepted publickey for core from 10.0.0.5 port 52144', '2026-11-24T10:15:30Z', undefined],
      ['Nov  4 08:00:01 node-1 CRON[2211]: (root) CMD (run-parts /etc/cron.hourly)', '2026-11-04T08:00:01Z', undefined],
      // read on 24 November 2026: a 3 December line is last year's
      ['Dec  3 15:04:05 node-1 kernel: [12345.678] eth0: link up', '2025-12-03T15:04:05Z', undefined],
      ['Nov 24 11:30:00 node-1 app[7]: ERROR payment gateway unreachable', '2026-11-24T11:30:00Z', 'error'],
    ]);
  });

  it('Apache / nginx access logs: `[dd/Mon/yyyy:HH:MM:SS +zone]`', () => {
    checkPlain([
      ['10.0.0.7 - - [24/Nov/2026:11:15:30 +0100] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.31"', '2026-11-24T10:15:30Z', undefined],
      ['192.168.1.20 - frank [24/Nov/2026:10:15:30 -0700] "POST /api/v1/orders HTTP/2.0" 201 512', '2026-11-24T17:15:30Z', undefined],
    ]);
  });

  it('JSON keys @timestamp, timestamp, time, ts: RFC 3339 strings, epoch s / ms / µs / ns', () => {
    checkPlain([
      ['{"@timestamp":"2026-11-24T10:15:30.123Z","log.level":"info","message":"ecs logger"}', '2026-11-24T10:15:30.123Z', 'info'],
      ['{"name":"api","hostname":"web-0","pid":1,"level":40,"msg":"bunyan","time":"2026-11-24T11:15:30.123+01:00","v":0}', '2026-11-24T10:15:30.123Z', 'warn'],
      ['{"level":30,"time":1795515330123,"pid":1,"hostname":"web-0","msg":"pino"}', '2026-11-24T10:15:30.123Z', 'info'],
      ['{"level":"error","ts":1795515330.123456,"caller":"pay/charge.go:41","msg":"zap"}', '2026-11-24T10:15:30.123456Z', 'error'],
      ['{"severity":"WARNING","timestamp":1795515330,"message":"epoch seconds"}', '2026-11-24T10:15:30.000Z', 'warn'],
      ['{"level":"debug","ts":"2026-11-24T10:15:30.123456Z","caller":"etcdserver/server.go:1","msg":"etcd"}', '2026-11-24T10:15:30.123456Z', 'debug'],
      ['{"level":"info","time":1795515330123456,"msg":"epoch microseconds"}', '2026-11-24T10:15:30.123456Z', 'info'],
      ['{"level":"info","time":"1795515330123456789","msg":"nanoseconds as digits: every digit kept"}', '2026-11-24T10:15:30.123456789Z', 'info'],
      ['{"lvl":"dbug","timestamp":"2026-11-24 10:15:30,123","msg":"zone-less"}', '2026-11-24T10:15:30.123Z', 'debug'],
      ['{"level":"info","time":12,"msg":"a duration, not a time"}', READ, 'info'],
      ['{"level":"info","time":"yesterday","msg":"not a time"}', READ, 'info'],
    ]);
    // nanoseconds as a JSON number: JSON.parse rounds them, kept to the microsecond
    checkPlain([['{"timestamp":1795515330123456789,"msg":"ns"}', '2026-11-24T10:15:30.123457Z', undefined]]);
  });

  it('lines without a time keep their read time; container lines keep the runtime time', () => {
    checkPlain([
      ['Server listening on :3000', READ, undefined],
      ['12:04:05 not a date', READ, undefined],
      ['2026-13-24 10:15:30 month 13', READ, undefined],
      ['2026-04-31 10:15:30 no 31 April', READ, undefined],
    ]);
    checkContainer([
      ['2026-11-24 10:15:32,450 ERROR [main] c.e.ChargeService - charge failed', 'error'],
      ['{"level":"warn","time":"2026-11-24T10:00:00Z","msg":"json"}', 'warn'],
    ]);
  });

  it('levels from JSON: level / severity / lvl, names and pino / bunyan numbers, normalised', () => {
    checkContainer([
      ['{"level":"WARN","msg":"cache miss"}', 'warn'],
      ['{"severity":"WARNING","message":"GCP structured"}', 'warn'],
      ['{"lvl":"eror","msg":"log15"}', 'error'],
      ['{"level":"CRITICAL","msg":"x"}', 'fatal'],
      ['{"level":"notice","msg":"x"}', 'info'],
      ['{"level":"Information","msg":".NET"}', 'info'],
      ['{"level":10,"msg":"pino trace"}', 'trace'],
      ['{"level":20,"msg":"pino debug"}', 'debug'],
      ['{"level":30,"msg":"pino info"}', 'info'],
      ['{"level":40,"msg":"pino warn"}', 'warn'],
      ['{"level":50,"msg":"pino error"}', 'error'],
      ['{"level":60,"msg":"pino fatal"}', 'fatal'],
      ['{"msg":"no level"}', undefined],
    ]);
  });

  it('levels from logfmt: level=, lvl=, quoted, anywhere in the pairs', () => {
    checkContainer([
      ['time="2026-11-24T10:15:30Z" level=warning msg="disk 91% full" path=/data', 'warn'],
      ['ts=2026-11-24T10:15:30.123Z caller=main.go:41 level=error msg="scrape failed"', 'error'],
      ['t=2026-11-24T10:15:30+0000 lvl=dbug msg="grafana-style"', 'debug'],
      ['level="info" msg="quoted"', 'info'],
      ['msg="no level here" path=/data', undefined],
      ['loglevel=info is not level=', undefined],
    ]);
  });

  it('levels from text: ERROR, [error], WARN / WARNING, Python, logrus TTY, klog', () => {
    checkContainer([
      ['ERROR could not connect to postgres:5432', 'error'],
      ['[error] upstream closed', 'error'],
      ['[WARN] retrying in 2s', 'warn'],
      ['WARNING: this flag is deprecated', 'warn'],
      ['warning: ignoring invalid config key', 'warn'],
      ["Error: ENOENT: no such file or directory, open '/app/config.json'", 'error'],
      ['INFO:invoices:rendering invoice INV-20001', 'info'],
      ['INFO[0003] Listening on :8080', 'info'],
      ['FATAL: database "shop" does not exist', 'fatal'],
      ['[Information] request finished', 'info'],
      ['E1124 10:15:30.123456       1 reflector.go:147] failed to list *v1.Pod: connection refused', 'error'],
      ['W1124 10:15:30.123456       1 warnings.go:70] v1 Endpoints is deprecated', 'warn'],
      ['I1124 10:15:30.123456       1 main.go:12] "Starting" version="v1.2.3"', 'info'],
      ['F1124 10:15:30.123456       1 main.go:99] unrecoverable', 'fatal'],
      ['E, [2026-11-24T10:15:30.123456 #1234] ERROR -- : Ruby Logger', 'error'],
      // not levels: a word in a sentence, lower case without a bracket or colon, an unknown word
      ['error connecting is not a level without a colon', undefined],
      ['the ERROR count is 3', undefined],
      ['Information about the order', undefined],
      ['GET /healthz 200 1.2ms', undefined],
      ['[main] starting', undefined],
    ]);
  });

  it("a joined multiline record gets its first line's time and level", () => {
    const text =
      '2026-11-24 10:15:32,450 ERROR [exec-2] c.e.ChargeService - charge failed\n' +
      'java.lang.IllegalStateException: card declined\n' +
      '\tat com.example.ChargeService.charge(ChargeService.java:87)\n' +
      '2026-11-24 10:15:33,000 INFO  [exec-3] c.e.ChargeService - retry ok\n';
    const { records } = parseAll(text, { format: 'plain', multiline: { start: '^\\d{4}-\\d{2}-\\d{2} ' } });
    assert.deepEqual(
      records.map((r) => [r.timestamp, r.level, r.message.split('\n').length]),
      [
        ['2026-11-24T10:15:32.450Z', 'error', 3],
        ['2026-11-24T10:15:33.000Z', 'info', 1],
      ],
    );
  });

  it("fixture log4j.log: every record gets its line's time and level", () => {
    const { records } = parseAll(fixture('log4j.log'));
    assert.deepEqual(
      records.map((r) => [r.timestamp, r.level]),
      [
        ['2026-11-24T10:15:30.123Z', 'info'],
        ['2026-11-24T10:15:31.007Z', 'warn'],
        ['2026-11-24T10:15:32.450Z', 'error'],
        ['2026-11-24T10:15:33.901Z', 'debug'],
      ],
    );
  });
});

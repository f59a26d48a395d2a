/**
 * The sink against a scripted bulk endpoint, for the answers a real cluster will not give on demand:
 * 429 for chosen items, 503 with Retry-After, 413, a dead letter refused in turn, a host that never
 * answers. Every test checks that each record is acknowledged exactly once (or, on shutdown, not at all).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it, type TestContext } from 'node:test';
import { startBulkEndpoint, type BulkEndpoint, type BulkEndpointOptions } from '../../../bench/lib/bulk-endpoint.js';
import { closedPort, fastSinkConfig, sinkFor } from '../../../test/helpers/es-sink.js';
import { AckTracker, makeRecords } from '../../../test/helpers/records.js';
import { resolveElasticsearchConfig } from './config.js';
import { ElasticsearchSink } from './sink.js';

async function endpoint(t: TestContext, options: BulkEndpointOptions = {}): Promise<BulkEndpoint> {
  const e = await startBulkEndpoint(options);
  t.after(() => e.close());
  return e;
}

const config = fastSinkConfig;

const n = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1)) / 100;

describe('Elasticsearch sink (scripted endpoint)', () => {
  it('re-sends only the items answered 429, each record acknowledged once', async (t) => {
    const e = await endpoint(t, { item: (r) => (r.attempt === 1 && n(r.id) % 2 === 1 ? 429 : undefined) });
    const sink = sinkFor(t, config([e.url]));
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(100, { tracker }));
    await sink.flush();
    assert.equal(e.requests.length, 2);
    assert.equal(e.requests[0].ids.length, 100);
    assert.deepEqual(
      e.requests[1].ids.map(n),
      Array.from({ length: 50 }, (_, i) => i * 2 + 1),
      'only the rejected items, in order',
    );
    assert.deepEqual(sink.stats(), { stored: 100, duplicates: 0, deadLettered: 0, failed: 0, retries: 1 });
    assert.equal(sink.elasticsearchStats().itemsRetried, 50);
    assert.deepEqual(tracker.report().twice, []);
    assert.equal(tracker.report().once, 100);
    assert.equal(tracker.commits.at(-1), 99, 'the ordered acks reached the last record');
  });

  it('a whole request answered 503 with Retry-After is sent again after that delay', async (t) => {
    const e = await endpoint(t, { request: (k) => (k === 1 ? { status: 503, headers: { 'retry-after': '1' } } : undefined) });
    const sink = sinkFor(t, config([e.url], { retryMaxDelayMs: 30_000 }));
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(20, { tracker }));
    await sink.flush();
    assert.equal(e.requests.length, 2);
    assert.deepEqual(e.requests[1].ids, e.requests[0].ids, 'the same batch');
    assert.ok(e.requests[1].at - e.requests[0].at >= 950, `waited ${e.requests[1].at - e.requests[0].at} ms`);
    assert.equal(sink.stats().stored, 20);
    assert.equal(sink.elasticsearchStats().requestFailures, 1);
    assert.equal(tracker.report().once, 20);
  });

  it('a request that times out is sent again; what the first one stored comes back as duplicates', async (t) => {
    const e = await endpoint(t, { answerDelayMs: (k) => (k === 1 ? 1500 : 0) });
    const sink = sinkFor(t, config([e.url], { requestTimeoutMs: 300 }));
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(10, { tracker }));
    await sink.flush();
    assert.equal(e.requests.length, 2);
    assert.deepEqual(sink.stats(), { stored: 0, duplicates: 10, deadLettered: 0, failed: 0, retries: 1 });
    assert.equal(tracker.report().once, 10);
    assert.equal(sink.elasticsearchStats().hostsUp, 1, 'one timeout does not make a host dead');
  });

  it('413: the body is halved until it fits', async (t) => {
    const e = await endpoint(t, { request: (_k, items) => (items.length > 30 ? { status: 413, body: '' } : undefined) });
    const sink = sinkFor(t, config([e.url], { bulkMaxRecords: 100 }));
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(100, { tracker }));
    await sink.flush();
    assert.equal(sink.stats().stored, 100);
    assert.equal(e.stored.size, 100);
    assert.ok(e.requests.filter((r) => r.ids.length <= 30).length >= 4);
    assert.equal(tracker.report().once, 100);
  });

  it('an item refused (400) goes to the dead-letter index; a dead letter refused too is counted as failed', async (t) => {
    const e = await endpoint(t, {
      item: (r) => {
        if (r.index.startsWith('logferry-deadletter-')) return n(r.id) === 3 ? { status: 400, type: 'mapper_parsing_exception', reason: 'no' } : undefined;
        return n(r.id) === 2 || n(r.id) === 3 ? { status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse field [json.user]' } : undefined;
      },
    });
    const errors: string[] = [];
    const sink = sinkFor(t, config([e.url]), errors);
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(5, { tracker }));
    await sink.flush();
    assert.deepEqual(sink.stats(), { stored: 3, duplicates: 0, deadLettered: 1, failed: 1, retries: 0 });
    const letter = JSON.parse(e.stored.get(`mr-200`)!.document);
    assert.equal(e.stored.get('mr-200')!.index, 'logferry-deadletter-2026.11.24');
    assert.equal(letter.reason, '400 mapper_parsing_exception: failed to parse field [json.user] (index logstash-2026.11.24)');
    assert.equal(JSON.parse(letter.document).message, 'record 2 ✓');
    assert.ok(
      errors.some((line) => line.includes('dead letter refused too') && line.includes('mr-300')),
      'the failure is logged with the record',
    );
    assert.equal(tracker.report().once, 5, 'stored, dead-lettered and failed records are all acknowledged once');
  });

  it('a single record refused as a whole request (400) is dead-lettered with the reason', async (t) => {
    const e = await endpoint(t, {
      request: (_k, items) =>
        items[0].index.startsWith('logstash') ? { status: 400, body: '{"error":{"type":"parse_exception","reason":"bad line"},"status":400}' } : undefined,
    });
    const sink = sinkFor(t, config([e.url]));
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(4, { tracker }));
    await sink.flush();
    assert.equal(sink.stats().deadLettered, 4);
    assert.match(JSON.parse(e.stored.get('mr-100')!.document).reason, /^400 parse_exception: bad line/);
    assert.equal(tracker.report().once, 4);
  });

  it('flushes on count, bytes and interval; never more requests in flight than the concurrency', async (t) => {
    const e = await endpoint(t, { answerDelayMs: 50 });
    const sink = sinkFor(t, config([e.url], { bulkMaxRecords: 10, concurrency: 2, flushIntervalMs: 200 }));
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(95, { tracker }));
    await new Promise((r) => setTimeout(r, 120));
    assert.ok(
      e.requests.every((r) => r.ids.length === 10),
      'full batches went at once; the 5 left wait for the interval',
    );
    await sink.flush();
    assert.equal(e.requests.at(-1)!.ids.length, 5);
    assert.equal(e.stats.maxInflight, 2);
    const byBytes = await endpoint(t);
    const small = sinkFor(t, config([byBytes.url], { bulkMaxBytes: 4096 }));
    await small.start();
    small.write(makeRecords(50, { tracker: new AckTracker() }));
    await small.flush();
    assert.ok(byBytes.requests.length > 1);
    assert.ok(byBytes.requests.every((r) => !r.gzip || r.bytes < 4096));
    assert.equal(byBytes.stored.size, 50);
  });

  it('gzip on by default, off when configured', async (t) => {
    const e = await endpoint(t);
    for (const gzip of [true, false]) {
      const sink = sinkFor(t, config([e.url], gzip ? {} : { gzip: false }));
      await sink.start();
      sink.write(makeRecords(10, { tracker: new AckTracker(), from: gzip ? 0 : 10 }));
      await sink.flush();
      assert.equal(e.requests.at(-1)!.gzip, gzip);
    }
  });

  it('a dead host in the list: round-robin skips it, everything is delivered, it is probed not fed', async (t) => {
    const e = await endpoint(t);
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const errors: string[] = [];
    const sink = sinkFor(t, config([dead, e.url], { bulkMaxRecords: 10, deadHostRetryMs: 10_000 }), errors);
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(200, { tracker }));
    await sink.flush();
    assert.equal(sink.stats().stored, 200);
    assert.equal(tracker.report().once, 200);
    assert.equal(sink.elasticsearchStats().hostsUp, 1);
    assert.ok(sink.healthy());
    assert.ok(errors.some((line) => line.includes('host down') && line.includes(dead)));
  });

  it('all hosts down: unhealthy, nothing acknowledged; the host back: delivered, healthy again', async (t) => {
    const port = await closedPort();
    const sink = sinkFor(t, config([`http://127.0.0.1:${port}`]));
    await sink.start();
    assert.equal(sink.healthy(), false);
    const tracker = new AckTracker();
    sink.write(makeRecords(30, { tracker }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(tracker.report().neverCount, 30);
    assert.match(sink.unhealthyReason()!, /not reached yet|no Elasticsearch host answers/);
    await endpoint(t, { port });
    await sink.flush();
    assert.equal(tracker.report().once, 30);
    assert.equal(sink.healthy(), true);
  });

  it('waiting for a host that is down keeps the process alive (a --oneshot flush must not just exit)', async () => {
    // In a process of its own: the test runner's handles would keep this one alive regardless.
    const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const script = `
      import { resolveElasticsearchConfig } from ${url('./config.js')};
      import { ElasticsearchSink } from ${url('./sink.js')};
      import { startBulkEndpoint } from ${url('../../../bench/lib/bulk-endpoint.js')};
      import { makeRecords, AckTracker } from ${url('../../../test/helpers/records.js')};
      const e = await startBulkEndpoint();
      const port = Number(new URL(e.url).port);
      const sink = new ElasticsearchSink(resolveElasticsearchConfig({ hosts: [e.url], deadHostRetryMs: 200, flushIntervalMs: 10 }, {}));
      await sink.start();
      await e.close();
      const tracker = new AckTracker();
      sink.write(makeRecords(5, { tracker }));
      let back;
      setTimeout(() => void startBulkEndpoint({ port }).then((b) => (back = b)), 1000).unref();
      await sink.flush();
      await sink.shutdown(100);
      await back.close();
      console.log('acknowledged', tracker.report().once);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'acknowledged 5');
  });

  it('shutdown keeps to its deadline; records not delivered stay unacknowledged', async (t) => {
    const e = await endpoint(t, { request: () => ({ status: 503 }) });
    const sink = sinkFor(t, config([e.url]));
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(30, { tracker }));
    const started = Date.now();
    await sink.shutdown(300);
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 2000, `took ${took} ms`);
    assert.equal(tracker.report().neverCount, 30, 'read again after a restart');
    assert.ok(e.requests.length >= 2, 'it kept retrying until the deadline');
  });

  it('start rejects what retrying cannot fix: credentials, data streams the server lacks', async (t) => {
    const locked = await endpoint(t, { authorization: 'Basic ' + Buffer.from('elastic:right').toString('base64') });
    const wrong = new ElasticsearchSink(resolveElasticsearchConfig({ hosts: [locked.url], auth: { username: 'elastic', password: 'wrong' } }, {})!);
    await assert.rejects(
      wrong.start(),
      /refused the credentials \(HTTP 401\): check output\.elasticsearch\.auth\.username\/output\.elasticsearch\.auth\.password \(user "elastic"\)/,
    );
    const right = sinkFor(t, resolveElasticsearchConfig({ hosts: [locked.url], auth: { username: 'elastic', password: 'right' }, flushIntervalMs: 10 }, {})!);
    await right.start();
    right.write(makeRecords(3, { tracker: new AckTracker() }));
    await right.flush();
    assert.equal(right.stats().stored, 3);
    const oss = await endpoint(t, { version: '7.10.2', dataStreams: false });
    const streams = new ElasticsearchSink(config([oss.url], { dataStream: 'logs-kubernetes.container_logs-default' }));
    await assert.rejects(streams.start(), /output\.elasticsearch\.dataStream: Elasticsearch 7\.10\.2 has no data streams/);
  });

  it('a long-running agent waits out refused credentials: reported (once, with host and setting), counted, not thrown', async (t) => {
    const locked = await endpoint(t, { authorization: 'Basic ' + Buffer.from('elastic:right').toString('base64') });
    const errors: string[] = [];
    const config = resolveElasticsearchConfig(
      { hosts: [locked.url], retryInitialDelayMs: 20, retryMaxDelayMs: 50 },
      { ELASTICSEARCH_USERNAME: 'elastic', ELASTICSEARCH_PASSWORD: 'wrong' },
    )!;
    const sink = new ElasticsearchSink(config, { waitWhenRefused: true, onError: (message, context) => errors.push(`${message} ${JSON.stringify(context)}`) });
    t.after(() => sink.shutdown(50));
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(3, { tracker }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const host = new URL(locked.url).host;
    assert.match(
      sink.unhealthyReason() ?? '',
      new RegExp(`${host} refused the credentials \\(HTTP 401\\): check ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD \\(user "elastic"\\)`),
    );
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0], /ELASTICSEARCH_PASSWORD/);
    const refusals = sink.describeMetrics().find((m) => m.name === 'logferry_elasticsearch_startup_refusals_total');
    assert.ok(refusals, 'the refusals are a metric');
    assert.equal(tracker.report().neverCount, 3, 'nothing acknowledged while refused');
  });

  it('403 on items (a user that may not write): retried, but reported as a permission problem, not an outage', async (t) => {
    let denied = true;
    const e = await endpoint(t, {
      item: () =>
        denied ? { status: 403, type: 'security_exception', reason: 'action [indices:data/write/bulk[s]] is unauthorized for user [reader]' } : undefined,
    });
    const errors: string[] = [];
    const config = resolveElasticsearchConfig(
      { hosts: [e.url], retryInitialDelayMs: 20, retryMaxDelayMs: 50, flushIntervalMs: 10 },
      { ELASTICSEARCH_USERNAME: 'reader', ELASTICSEARCH_PASSWORD: 'pw' },
    )!;
    const sink = sinkFor(t, config, errors);
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(4, { tracker }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const reason = sink.unhealthyReason() ?? '';
    assert.match(reason, /does not allow ELASTICSEARCH_USERNAME\/ELASTICSEARCH_PASSWORD \(user "reader"\) to write to logstash-\* \(HTTP 403: action/);
    assert.match(reason, new RegExp(new URL(e.url).host));
    assert.equal(errors.filter((line) => /403/.test(line)).length, 1, errors.join('\n'));
    assert.equal(tracker.report().neverCount, 4);
    denied = false; // the role is granted: the waiting records go in
    await sink.flush();
    assert.equal(sink.stats().stored, 4);
    assert.equal(sink.unhealthyReason(), undefined);
  });

  it('data streams where they exist: create into the stream, its template installed', async (t) => {
    const e = await endpoint(t);
    const sink = sinkFor(t, config([e.url], { dataStream: 'logs-kubernetes.container_logs-default' }));
    await sink.start();
    sink.write(makeRecords(3, { tracker: new AckTracker() }));
    await sink.flush();
    assert.deepEqual(
      [...e.stored.values()].map((d) => d.index),
      Array(3).fill('logs-kubernetes.container_logs-default'),
    );
    assert.ok(e.templates.includes('/_index_template/logferry-logs-kubernetes.container_logs-default'));
  });
});

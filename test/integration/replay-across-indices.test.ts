/**
 * Issue 15: a record's `create` is a no-op (409) only in the index it lands in. These cases send a stored
 * record's `_id` to another index, and each must still leave one document:
 *  - a data stream rolled over while a bulk request's fate was unknown (stored, connection cut): the retry;
 *  - a data stream rolled over between a run and its restart (records stored, checkpoint not saved): the replay;
 *  - daily indices, a record stamped with its read time (no time of its own), replayed after UTC midnight:
 *    the replay carries the next day's date.
 * The restart cases also run without the lookup (replayCheckBytes 0), to show the copy it prevents.
 *
 * Runs on the shared server when it has data streams, else on Elasticsearch 8.19 started here;
 * LOGFERRY_TEST_REPLAY_SERVERS=es-8.19,opensearch-2.19 (or `all`) runs it on those kinds instead.
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import type { ElasticsearchFileInput } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { esRequest, searchAll } from '../helpers/elasticsearch.js';
import type { TestServerName } from '../helpers/elasticsearch-harness.js';
import { startEsProxy } from '../helpers/es-proxy.js';
import { serverKinds, serverOfKind, type ServerOfKind } from '../helpers/es-servers.js';
import { fastSinkConfig } from '../helpers/es-sink.js';
import { AckTracker, fileContext, makeRecords } from '../helpers/records.js';

const shared = process.env.LOGFERRY_TEST_ES_SERVER as TestServerName | undefined;
const fallback: TestServerName[] = shared !== undefined && shared !== 'es-7.10' ? [shared] : ['es-8.19'];
const kinds = (await serverKinds('LOGFERRY_TEST_REPLAY_SERVERS', fallback)).filter((k) => k !== 'es-7.10');
const N = 600;

function sink(t: TestContext, url: string, extra: Partial<ElasticsearchFileInput>, replayCheckBytes: number, errors: string[] = []): ElasticsearchSink {
  const config = fastSinkConfig([url], { bulkMaxRecords: 200, requestTimeoutMs: 5000, ...extra }, 2.5);
  const made = new ElasticsearchSink(config, { onError: (message, context) => errors.push(`${message} ${JSON.stringify(context)}`), replayCheckBytes });
  t.after(() => made.shutdown(1000));
  return made;
}

function fileFor(tag: string) {
  return fileContext(
    `/var/log/containers/app-${tag}_ns_app-0123.log`,
    { namespace: 'ns', podName: `app-${tag}`, podUid: 'uid', containerName: 'app', containerId: 'containerd://0123', nodeName: 'n1' },
    `${tag}-`,
  );
}

async function backingIndices(url: string, dataStream: string): Promise<string[]> {
  const answer = await esRequest(url, 'GET', `/_data_stream/${dataStream}`);
  return ((answer.data_streams?.[0]?.indices ?? []) as Array<{ index_name: string }>).map((i) => i.index_name);
}

/** Documents behind `target`: total, distinct ids, the indices they are in. */
async function stored(url: string, target: string): Promise<{ docs: number; ids: number; indices: string[] }> {
  const docs = await searchAll(url, target);
  return { docs: docs.length, ids: new Set(docs.map((d) => d._id)).size, indices: [...new Set(docs.map((d) => d._index))].sort() };
}

async function cleanup(server: ServerOfKind, target: string): Promise<void> {
  if (server.shared) await esRequest(server.url, 'DELETE', `/${target}`).catch(() => undefined);
}

describe('replays that land in another index: one document each', () => {
  for (const kind of kinds) {
    describe(kind, () => {
      // One server for the three cases (started by the first that runs, stopped after the last).
      let server: Promise<ServerOfKind | undefined> | undefined;
      const serverFor = (t: TestContext) => (server ??= serverOfKind(t, kind, { keep: true }));
      after(async () => (await server)?.close());
      it('a bulk stored but unanswered (connection cut), a rollover, the retry: no second copy in the new backing index', async (t) => {
        const server = await serverFor(t);
        if (!server) return;
        const dataStream = `logs-replay.cut${process.pid}-default`;
        t.after(() => cleanup(server, `_data_stream/${dataStream}`));
        const proxy = await startEsProxy({ upstream: server.url });
        t.after(() => proxy.close());
        // The first bulk is stored, then (before its answer) the stream rolls over and the connection is cut.
        proxy.mode = 'reset';
        proxy.afterStored = async () => {
          proxy.mode = 'pass';
          await esRequest(server.url, 'POST', `/${dataStream}/_rollover`);
        };
        // No restart lookup: only the retry's own lookup is at work here.
        const s = sink(t, proxy.url, { dataStream, bulkMaxRecords: N }, 0);
        await s.start();
        const tracker = new AckTracker();
        s.write(makeRecords(N, { tracker, file: fileFor('cut') }));
        await s.flush();
        assert.equal(proxy.counts.reset, 1);
        assert.equal(tracker.report().once, N, 'each record acknowledged once');
        assert.equal((await backingIndices(server.url, dataStream)).length, 2, 'rolled over');
        const result = await stored(server.url, dataStream);
        assert.deepEqual({ docs: result.docs, ids: result.ids }, { docs: N, ids: N }, JSON.stringify(result));
        const stats = s.elasticsearchStats();
        assert.equal(stats.replayFound, N);
        assert.equal(stats.duplicates, N);
        assert.equal(stats.stored, 0);
      });

      it('records stored, the stream rolled over, a restart replays them: looked up and acknowledged, not stored again', async (t) => {
        const server = await serverFor(t);
        if (!server) return;
        for (const check of [true, false]) {
          const dataStream = `logs-replay.restart${check ? 'on' : 'off'}${process.pid}-default`;
          t.after(() => cleanup(server, `_data_stream/${dataStream}`));
          const file = fileFor(`restart${check}`);
          const first = sink(t, server.url, { dataStream }, 0);
          await first.start();
          first.write(makeRecords(N, { tracker: new AckTracker(), file }));
          await first.flush();
          await esRequest(server.url, 'POST', `/${dataStream}/_rollover`);
          // The restart: a new sink, and the same records (the checkpoint had not moved).
          const again = sink(t, server.url, { dataStream }, check ? 64 * 1024 * 1024 : 0);
          await again.start();
          const started = Date.now();
          const tracker = new AckTracker();
          again.write(makeRecords(N, { tracker, file }));
          // and records after them, new ones, in the same window
          again.write(makeRecords(100, { tracker, file, from: N }));
          await again.flush();
          const ms = Date.now() - started;
          assert.equal(tracker.report().once, N + 100);
          const result = await stored(server.url, dataStream);
          if (check) {
            assert.deepEqual({ docs: result.docs, ids: result.ids }, { docs: N + 100, ids: N + 100 }, JSON.stringify(result));
            assert.deepEqual(again.stats(), { stored: 100, duplicates: N, deadLettered: 0, failed: 0, retries: 0 });
            t.diagnostic(`replay of ${N} + 100 records with the lookup: ${ms} ms`);
          } else {
            t.diagnostic(`replay of ${N} + 100 records without the lookup: ${ms} ms`);
            assert.equal(result.docs, 2 * N + 100, 'without the lookup the replay is stored again (the case the lookup exists for)');
          }
        }
      });

      it('lifecycle configured on a cluster without ILM/ISM (the jar-built servers): one note, mappings applied, rollover and replay single', async (t) => {
        const server = await serverFor(t);
        if (!server) return;
        const dataStream = `logs-replay.lifecycle${process.pid}-default`;
        t.after(() => cleanup(server, `_data_stream/${dataStream}`));
        const errors: string[] = [];
        const file = fileFor('lifecycle');
        const first = sink(t, server.url, { dataStream, lifecycle: { deleteAfterDays: 7 } }, 0, errors);
        await first.start();
        first.write(makeRecords(N, { tracker: new AckTracker(), file }));
        await first.flush();
        const kindName = server.product === 'OpenSearch' ? 'ISM' : 'ILM';
        assert.equal(errors.length, 1, errors.join('\n'));
        assert.match(errors[0], new RegExp(`lifecycle policy logferry-logs not attached: this cluster has no ${kindName}`));
        const mappings = await esRequest(server.url, 'GET', `/${dataStream}/_mapping`);
        for (const index of Object.keys(mappings)) assert.equal(mappings[index].mappings.properties['@timestamp'].type, 'date_nanos');
        await esRequest(server.url, 'POST', `/${dataStream}/_rollover`);
        const again = sink(t, server.url, { dataStream, lifecycle: { deleteAfterDays: 7 } }, 64 * 1024 * 1024);
        await again.start();
        again.write(makeRecords(N, { tracker: new AckTracker(), file }));
        await again.flush();
        assert.equal(again.stats().duplicates, N);
        const result = await stored(server.url, dataStream);
        assert.deepEqual({ docs: result.docs, ids: result.ids }, { docs: N, ids: N });
      });

      it('daily indices: a record stamped with its read time, replayed after UTC midnight, stays one document', async (t) => {
        const server = await serverFor(t);
        if (!server) return;
        for (const check of [true, false]) {
          const index = `replay-midnight${check ? 'on' : 'off'}${process.pid}`;
          t.after(() => cleanup(server, `${index}-*`));
          const file = fileFor(`midnight${check}`);
          // Read (and stamped) at 23:59:59 UTC, stored; the checkpoint is not saved; read again at 00:00:01.
          const before = (n: number) => `2026-12-03T23:59:59.${String(n).padStart(3, '0')}Z`;
          const after = (n: number) => `2026-12-04T00:00:01.${String(n).padStart(3, '0')}Z`;
          const first = sink(t, server.url, { index }, 0);
          await first.start();
          first.write(makeRecords(N, { tracker: new AckTracker(), file, timestamp: before }));
          await first.flush();
          const again = sink(t, server.url, { index }, check ? 64 * 1024 * 1024 : 0);
          await again.start();
          const tracker = new AckTracker();
          again.write(makeRecords(N, { tracker, file, timestamp: after }));
          await again.flush();
          assert.equal(tracker.report().once, N);
          const result = await stored(server.url, `${index}-*`);
          if (check) {
            assert.deepEqual(result, { docs: N, ids: N, indices: [`${index}-2026.12.03`] });
            assert.equal(again.stats().duplicates, N);
          } else {
            assert.equal(result.docs, 2 * N, 'without the lookup the replay lands in the next day as a second copy');
          }
        }
      });
    });
  }
});

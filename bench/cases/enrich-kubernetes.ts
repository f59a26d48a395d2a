/**
 * enrich_kubernetes: what Kubernetes enrichment costs per record. 200 pods (Deployment pods with
 * realistic labels, namespace labels) are listed from the fake API server by the real metadata service;
 * records come from CRI lines parsed by the real parser, one batch of 1,000 lines per file read.
 *   - pipeline without enrichment: parse → encode (DocumentEncoder)
 *   - pipeline with enrichment:    parse → EnrichKubernetes → encode
 *   - the transform alone, over already-parsed batches (1,000 and 10 records per batch).
 * Parse + encode is the in-process floor of the real pipeline (no file I/O, bulk HTTP or gzip), so the
 * slowdown reported against it is an upper bound on the agent's. Usage: node enrich-kubernetes.js <records> <name>
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DocumentEncoder } from '../../src/event/document.js';
import { metadataFromIdentity } from '../../src/event/metadata.js';
import type { FileContext, LogRecord } from '../../src/event/record.js';
import { kubernetesConfigSchema } from '../../src/kubernetes/config.js';
import { createKubernetesMetadata } from '../../src/kubernetes/metadata-service.js';
import { createFileParser, type FileParser } from '../../src/parsers/file-parser.js';
import { EnrichKubernetes } from '../../src/transforms/enrich-kubernetes.js';
import { FakeKubeApiServer } from '../../test/helpers/fake-kube-apiserver.js';
import { deploymentPod, makeNamespace } from '../../test/helpers/fake-kube-objects.js';
import { measure, report } from '../lib/measure.js';

const [recordsArg, name = 'enrich_kubernetes'] = process.argv.slice(2);
const total = Number(recordsArg ?? 1_000_000);
const PODS = 200;
const BATCH = 1000;

// ---- cluster: 200 pods on this node, 10 namespaces -------------------------------------------------
const fake = await FakeKubeApiServer.start();
for (let n = 0; n < 10; n++) fake.addNamespace(makeNamespace(`ns-${n}`, { team: `team-${n}`, 'env.example.com/tier': 'prod' }));
const files: FileContext[] = [];
for (let p = 0; p < PODS; p++) {
  const pod = fake.addPod(
    deploymentPod({
      namespace: `ns-${p % 10}`,
      deployment: `app-${p}`,
      hash: '5d8f7c9b6d',
      name: `app-${p}-5d8f7c9b6d-abc${p % 10}`,
      nodeName: 'bench-node',
      labels: { app: `app-${p}`, 'app.kubernetes.io/name': `app-${p}`, 'app.kubernetes.io/version': '1.4.2', 'app.kubernetes.io/part-of': 'shop' },
      annotations: { 'example.com/owner': `team-${p % 10}` },
      containers: [{ name: 'app', image: `registry.example.com/app-${p}:1.4.2` }],
    }),
  );
  const containerId = pod.status!.containerStatuses![0].containerID!.replace('containerd://', '');
  const path = `/var/log/containers/${pod.metadata!.name}_ns-${p % 10}_app-${containerId}.log`;
  files.push({
    path,
    pathJson: JSON.stringify(path),
    idPrefix: `bench${p}-`,
    meta: metadataFromIdentity({
      namespace: `ns-${p % 10}`,
      podName: pod.metadata!.name,
      podUid: pod.metadata!.uid,
      containerName: 'app',
      containerId,
      nodeName: 'bench-node',
    }),
  });
}
const tokenDir = mkdtempSync(join(tmpdir(), 'lf-bench-kube-'));
writeFileSync(join(tokenDir, 'token'), 'test-token');
const config = kubernetesConfigSchema.parse({
  apiServer: fake.url,
  tokenFile: join(tokenDir, 'token'),
  nodeName: 'bench-node',
  annotations: ['example.com/*'],
});
const service = (await createKubernetesMetadata(config, { env: {} }))!;
await service.start();
if (service.stats().podsCached !== PODS) throw new Error(`listed ${service.stats().podsCached} pods, expected ${PODS}`);
const transform = new EnrichKubernetes(service, { waitForPodMs: 0 });

// ---- input: CRI lines, mixed plain text and JSON, like bench/lib/corpus.ts ---------------------------
const WORDS = [
  'GET',
  'POST',
  '/api/v1/orders',
  '/healthz',
  'user',
  'cache',
  'miss',
  'hit',
  'latency',
  'upstream',
  'reset',
  'retrying',
  'order',
  'created',
  'payment',
  'accepted',
];
function line(n: number): string {
  const ts = `2026-11-24T08:00:${String(Math.floor(n / 1000) % 60).padStart(2, '0')}.${String(n % 1_000_000_000).padStart(9, '0')}Z`;
  const message =
    n % 3 === 0
      ? JSON.stringify({
          level: 'info',
          msg: `${WORDS[n % 16]} ${WORDS[(n + 5) % 16]} completed`,
          request_id: ((n * 2654435761) >>> 0).toString(16),
          duration_ms: n % 997,
        })
      : `${ts} INFO [worker-${n % 16}] ${WORDS[(n * 7) % 16]} ${WORDS[(n * 3) % 16]} ${WORDS[(n * 5) % 16]} request_id=${(n * 2654435761) >>> 0}`;
  return `${ts} ${n % 5 === 0 ? 'stderr' : 'stdout'} F ${message}\n`;
}
const CHUNKS = 8;
const chunks = Array.from({ length: CHUNKS }, (_, c) => {
  const buf = Buffer.from(Array.from({ length: BATCH }, (_, i) => line(c * BATCH + i)).join(''));
  const ends: number[] = [];
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) ends.push(i);
  return { buf, ends };
});
const inputBytes = chunks.reduce((sum, c) => sum + c.buf.length, 0) * (total / BATCH / CHUNKS);

// ---- runs ------------------------------------------------------------------------------------------
const encoder = new DocumentEncoder();
const parsers: FileParser[] = files.map((file) => createFileParser({ format: 'cri', file, message: 'auto' }));
let sink = 0;

function parseBatch(k: number): LogRecord[] {
  const { buf, ends } = chunks[k % CHUNKS];
  const parser = parsers[k % PODS];
  const out: LogRecord[] = [];
  let start = 0;
  for (const end of ends) {
    parser.push(buf, start, end, k * buf.length + start, out);
    start = end + 1;
  }
  parser.flushAll(out);
  return out;
}

function pipeline(enrich: boolean): number {
  const started = process.hrtime.bigint();
  for (let k = 0; k < total / BATCH; k++) {
    let records = parseBatch(k);
    if (enrich) records = transform.process(records) as LogRecord[];
    for (const record of records) sink += encoder.encode(record).length;
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function transformAlone(batchSize: number): number {
  // Parsed batches held in memory and enriched over and over (the transform assigns meta regardless).
  // 40 pods' worth (40,000 records) stays well inside the 96 MB heap cap, so GC does not blur the figure.
  const pool: LogRecord[][] = [];
  for (let k = 0; k < PODS; k += PODS / 40) {
    const records = parseBatch(k);
    for (let i = 0; i < records.length; i += batchSize) pool.push(records.slice(i, i + batchSize));
  }
  const rounds = Math.max(1, Math.round(total / (pool.length * batchSize)));
  const started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const batch of pool) void transform.process(batch);
  const ns = Number(process.hrtime.bigint() - started);
  return ns / (rounds * pool.length * batchSize);
}

// Warm both paths up, then alternate so neither benefits from running last.
pipeline(false);
pipeline(true);
const plain: number[] = [];
const enriched: number[] = [];
for (let i = 0; i < 3; i++) {
  plain.push(pipeline(false));
  enriched.push(pipeline(true));
}
const alone1000 = Math.min(transformAlone(1000), transformAlone(1000));
const alone10 = Math.min(transformAlone(10), transformAlone(10));
const best = (xs: number[]) => Math.min(...xs);
const withoutRate = total / best(plain);
const withRate = total / best(enriched);
const slowdown = (1 - withRate / withoutRate) * 100;
const docBytes = (enrich: boolean) => {
  const records = parseBatch(0);
  if (enrich) void transform.process(records);
  return Math.round(records.reduce((sum, r) => sum + encoder.encode(r).length, 0) / records.length);
};
const counters = transform.counters;
if (counters.metadataMissing !== 0) throw new Error(`${counters.metadataMissing} records without metadata`);

const result = await measure(name, total, inputBytes, async () => {
  pipeline(true);
});
result.notes =
  `transform alone ${alone1000.toFixed(1)} ns/record (batches of 1000), ${alone10.toFixed(1)} ns/record (batches of 10); ` +
  `parse+encode ${Math.round(withoutRate)} rec/s without, ${Math.round(withRate)} rec/s with enrichment: slowdown ${slowdown.toFixed(1)}% ` +
  `(${PODS} pods; document ${docBytes(false)} → ${docBytes(true)} bytes; checksum ${sink % 1000})`;
await service.stop();
await fake.close();
rmSync(tokenDir, { recursive: true, force: true });
report(result);
process.stderr.write(result.notes + '\n');
process.exit(slowdown < 15 ? 0 : 1);

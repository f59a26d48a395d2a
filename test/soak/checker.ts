/**
 * The verdict: every document of the soak's node read back from Elasticsearch (a scroll, page by page,
 * only the fields checked), compared with what the writers wrote.
 *  - lost: markers never stored;  duplicated: markers stored more than once;
 *  - cut: a record whose stored message is not the message written (a long message stored without all of
 *    its pieces, or joined with another), or a document with no record start at all (a piece stored
 *    without its first piece);
 *  - without metadata: records of pods whose Pod object was in the API before the record was written,
 *    stored without the pod's labels, IP or image (what the agent can only get from the API; namespace,
 *    pod name and uid come from the file path and prove nothing).
 */
import { scrollDocs } from '../helpers/elasticsearch.js';
import { markersIn, messageShape } from './messages.js';
import type { SoakContainer } from './node-tree.js';

export interface CheckReport {
  written: number;
  longWritten: number;
  documents: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** stored copies beyond the first, over all duplicated markers */
  extraCopies: number;
  cut: number;
  withoutMetadata: number;
  /** records that had to carry metadata (their pod was in the API before they were written) */
  metadataRequired: number;
  /** markers in Elasticsearch that no writer wrote (should never happen) */
  unknown: number;
  samples: { lost: string[]; duplicated: string[]; cut: string[]; metadata: string[] };
  /** per pod: records without metadata, and whether the pod was created just after an API server restart */
  podsWithoutMetadata: Array<{ pod: string; records: number; afterKubeRestart: boolean }>;
  /** lost markers per container tag (the first few) */
  lostByContainer: Array<{ tag: string; lost: number; written: number }>;
}

const FIELDS = ['message', 'kubernetes.labels.app', 'kubernetes.pod.ip', 'container.image.name'];
const SAMPLES = 8;

export async function checkDelivery(esUrl: string, nodeName: string, containers: SoakContainer[], indexPattern = 'logstash-*'): Promise<CheckReport> {
  const byTag = new Map(containers.map((c) => [c.tag, { c, counts: new Uint8Array(c.written) }]));
  const report: CheckReport = {
    written: containers.reduce((n, c) => n + c.written, 0),
    longWritten: containers.reduce((n, c) => n + c.longWritten, 0),
    documents: 0,
    stored: 0,
    lost: 0,
    duplicated: 0,
    extraCopies: 0,
    cut: 0,
    withoutMetadata: 0,
    metadataRequired: 0,
    unknown: 0,
    samples: { lost: [], duplicated: [], cut: [], metadata: [] },
    podsWithoutMetadata: [],
    lostByContainer: [],
  };
  const missingByPod = new Map<string, { records: number; afterKubeRestart: boolean }>();
  const sample = (list: string[], text: string) => {
    if (list.length < SAMPLES) list.push(text);
  };

  report.documents = await scrollDocs(esUrl, indexPattern, { query: { term: { 'host.name': nodeName } }, source: FIELDS }, (docs) => {
    for (const doc of docs) {
      const source = doc._source;
      const message = String(source.message ?? '');
      const { starts, traces } = markersIn(message);
      if (starts.length !== 1) {
        // A piece without its start (0 markers), or records glued together (2+): not what was written.
        report.cut++;
        sample(
          report.samples.cut,
          `${starts.length === 0 ? 'piece without its start' : `${starts.length} records in one`} (${message.length} chars, traces ${[...traces].slice(0, 3).join(',')}): ${message.slice(0, 100)}`,
        );
      }
      for (const marker of starts) {
        const dash = marker.lastIndexOf('-');
        const entry = byTag.get(marker.slice(0, dash));
        const n = Number(marker.slice(dash + 1));
        if (entry === undefined || n >= entry.counts.length) {
          report.unknown++;
          continue;
        }
        if (entry.counts[n] < 255) entry.counts[n]++;
        if (starts.length === 1 && message !== messageShape(marker).text) {
          report.cut++;
          sample(report.samples.cut, `${marker}: stored ${message.length} chars of ${messageShape(marker).text.length}: …${message.slice(-60)}`);
        }
        if (entry.counts[n] > 1) continue; // metadata is judged once per record
        const c = entry.c;
        // Every record qualifies: node-tree creates a pod's files (and writes) only after run.ts has added
        // its Pod object to the API (podKnownAt).
        report.metadataRequired++;
        const labels = source.kubernetes?.labels;
        const ok = labels?.app === c.expected.app && source.kubernetes?.pod?.ip === c.expected.podIp && source.container?.image?.name === c.expected.image;
        if (!ok) {
          report.withoutMetadata++;
          const pod = missingByPod.get(c.podKey) ?? { records: 0, afterKubeRestart: c.createdAfterKubeRestart };
          pod.records++;
          missingByPod.set(c.podKey, pod);
          sample(
            report.samples.metadata,
            `${marker} (${c.podKey}): labels.app=${labels?.app} pod.ip=${source.kubernetes?.pod?.ip} image=${source.container?.image?.name}`,
          );
        }
      }
    }
  });

  for (const { c, counts } of byTag.values()) {
    let lost = 0;
    for (let n = 0; n < counts.length; n++) {
      if (counts[n] === 0) {
        lost++;
        sample(report.samples.lost, `${c.tag}-${n}${messageShape(`${c.tag}-${n}`).long ? ' (long)' : ''}`);
      } else {
        report.stored++;
        if (counts[n] > 1) {
          report.duplicated++;
          report.extraCopies += counts[n] - 1;
          sample(report.samples.duplicated, `${c.tag}-${n} ×${counts[n]}`);
        }
      }
    }
    report.lost += lost;
    if (lost > 0) report.lostByContainer.push({ tag: c.tag, lost, written: c.written });
  }
  report.lostByContainer.sort((a, b) => b.lost - a.lost).splice(10);
  report.podsWithoutMetadata = [...missingByPod].map(([pod, v]) => ({ pod, ...v })).sort((a, b) => b.records - a.records);
  return report;
}

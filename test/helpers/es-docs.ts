/**
 * Reading back what the agent shipped: every document of one test node (tests share one Elasticsearch,
 * each uses its own NODE_NAME), and exactly-once checks over `seq=` markers.
 */
import { esRequest as es, refresh, searchWhenReady } from './elasticsearch.js';

export interface ShippedDoc {
  _id: string;
  _index: string;
  _source: Record<string, any>;
}

export async function docsForNode(url: string, nodeName: string, indexPattern = 'logstash-*'): Promise<ShippedDoc[]> {
  await refresh(url, indexPattern);
  // A scroll, not search_after: rotated files share a path and offsets, so no sort key is unique.
  const docs: ShippedDoc[] = [];
  let result = await searchWhenReady(url, `/${indexPattern}/_search?scroll=1m&ignore_unavailable=true&allow_no_indices=true`, {
    size: 5000,
    query: { term: { 'host.name': nodeName } },
    sort: ['_doc'],
  });
  for (;;) {
    const hits = (result.hits?.hits ?? []) as ShippedDoc[];
    for (const hit of hits) docs.push({ _id: hit._id, _index: hit._index, _source: hit._source });
    if (hits.length === 0 || !result._scroll_id) break;
    result = await es(url, 'POST', '/_search/scroll', { scroll: '1m', scroll_id: result._scroll_id });
  }
  if (result._scroll_id) await es(url, 'DELETE', '/_search/scroll', { scroll_id: result._scroll_id }).catch(() => undefined);
  return docs;
}

export interface ExactlyOnceReport {
  expected: number;
  found: number;
  /** the first 20 missing markers (a sample for messages); {@link missingCount} has them all */
  missing: string[];
  duplicated: string[];
  missingCount: number;
  duplicatedCount: number;
}

/** Compare shipped `seq=` markers with the expected set: each must appear in exactly one document. */
export function exactlyOnce(docs: ShippedDoc[], expected: Iterable<string>): ExactlyOnceReport {
  const counts = new Map<string, number>();
  for (const doc of docs) {
    const message = String(doc._source.message ?? '');
    const re = /seq=([\w-]+)/g;
    let match: RegExpExecArray | null;
    while ((match = re.exec(message)) !== null) counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
  }
  const missing: string[] = [];
  const duplicated: string[] = [];
  let total = 0;
  for (const marker of expected) {
    total++;
    const n = counts.get(marker) ?? 0;
    if (n === 0) missing.push(marker);
    else if (n > 1) duplicated.push(marker);
  }
  return {
    expected: total,
    found: counts.size,
    missing: missing.slice(0, 20),
    duplicated: duplicated.slice(0, 20),
    missingCount: missing.length,
    duplicatedCount: duplicated.length,
  };
}

export function markers(tag: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${i}`);
}

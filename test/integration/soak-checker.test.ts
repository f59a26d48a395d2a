/**
 * The soak's checker must see every kind of failure it reports — a soak that passes because its checker
 * is blind proves nothing. Hand-made documents with one defect each, in an index of their own.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { deleteIndices, esRequest, sharedElasticsearch } from '../helpers/elasticsearch.js';
import { checkDelivery } from '../soak/checker.js';
import { messageShape } from '../soak/messages.js';
import type { SoakContainer } from '../soak/node-tree.js';

it('soak checker: counts lost, duplicated, cut, piece-without-start and missing-metadata records', async (t) => {
  const url = sharedElasticsearch(t);
  if (!url) return;
  const index = `soak-checker-${process.pid}`;
  const node = `soak-checker-node-${process.pid}`;
  t.after(() => deleteIndices(url, index));
  await esRequest(url, 'PUT', `/${index}`, { mappings: { properties: { host: { properties: { name: { type: 'keyword' } } } } } });
  const expected = { app: 'web', podIp: '10.0.0.1', image: 'registry.example.com/web:1' };
  const container = (tag: string, written: number) =>
    ({ tag, written, longWritten: 0, expected, podKey: `shop/${tag}`, createdAfterKubeRestart: tag === 'ckb' }) as SoakContainer;
  const good = (marker: string) => ({
    message: messageShape(marker).text,
    host: { name: node },
    kubernetes: { labels: { app: 'web' }, pod: { ip: '10.0.0.1' } },
    container: { image: { name: expected.image } },
  });
  // The first long marker of tag cka after cka-4, for a cut long message and a piece without its start.
  const long = Array.from({ length: 200 }, (_, n) => `cka-${n + 5}`).find((m) => messageShape(m).long)!;
  const longText = messageShape(long).text;
  const docs = [
    good('cka-0'),
    good('cka-1'),
    good('cka-1'), // duplicated
    // cka-2: lost
    { ...good('cka-3'), message: messageShape('cka-3').text.slice(0, -3) }, // cut
    { ...good('cka-4'), kubernetes: { pod: { name: 'x' } } }, // no metadata
    good('ckb-0'),
    { ...good('ckb-1'), kubernetes: { labels: {} } }, // no metadata, pod created after an API restart
    { ...good(long), message: longText.slice(0, 1000) }, // a long message without its last pieces
    { ...good(long), message: longText.slice(Math.ceil(longText.length / 2)) }, // a piece without its start
  ];
  const bulk = docs.map((d) => `${JSON.stringify({ index: { _index: index } })}\n${JSON.stringify(d)}\n`).join('');
  await esRequest(url, 'POST', '/_bulk?refresh=true', bulk);
  const longN = Number(long.split('-')[1]);
  const report = await checkDelivery(url, node, [container('cka', longN + 1), container('ckb', 2)], index);
  const unstored = longN - 5; // cka-5 up to the long one were written and never stored
  assert.equal(report.documents, docs.length);
  assert.equal(report.lost, 1 + unstored);
  assert.ok(report.samples.lost.includes('cka-2'));
  assert.equal(report.duplicated, 1);
  assert.equal(report.extraCopies, 1);
  assert.equal(report.cut, 3, report.samples.cut.join('\n'));
  assert.equal(report.withoutMetadata, 2);
  assert.deepEqual(report.podsWithoutMetadata.map((p) => [p.pod, p.afterKubeRestart]).sort(), [
    ['shop/cka', false],
    ['shop/ckb', true],
  ]);
});

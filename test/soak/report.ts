/** The soak's summary: the verdict first (the four numbers that must be 0), then what was done to get it. */
import type { SoakResult } from './run.js';

const MiB = 1024 * 1024;

function table(rows: Array<[string, string | number]>): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
}

function mark(n: number): string {
  return n === 0 ? '0' : `${n}  <-- FAIL`;
}

export function formatReport(r: SoakResult): string {
  const c = r.check;
  const lines: string[] = [];
  lines.push('', `=== logferry soak: seed ${r.seed}, ${r.minutes} min — ${r.failed ? 'FAILED' : 'passed'} ===`, '');
  lines.push('delivery');
  lines.push(
    ...table([
      ['records written', `${c.written} (${c.longWritten} long, in 2–3 CRI partial pieces)`],
      ['documents in Elasticsearch', c.documents],
      ['records stored', c.stored],
      ['lost', mark(c.lost)],
      ['duplicated', mark(c.duplicated) + (c.duplicated > 0 ? ` (${c.extraCopies} extra copies)` : '')],
      ['cut (not stored whole)', mark(c.cut)],
      [`without metadata (of ${c.metadataRequired} that need it)`, mark(c.withoutMetadata)],
      ['unknown markers', c.unknown],
    ]),
  );
  lines.push('', 'faults');
  const faults = Object.entries(r.faults).sort(([a], [b]) => a.localeCompare(b));
  lines.push(...table([...faults, ['rotations (by size / in bursts)', `${r.rotations.size} / ${r.rotations.burst}`]]));
  lines.push('', 'agent and servers');
  lines.push(
    ...table([
      ['agent starts / unexpected exits', `${r.agent.starts} / ${r.agent.crashes}`],
      ['lives with a 256 KiB in-flight budget / a short grace', `${r.agent.smallBudgetLives} / ${r.agent.shortGraceLives}`],
      ['final SIGTERM exit', r.agent.finalExit],
      ['agent error log lines (all lives)', r.agent.errorLines],
      ['RSS peak overall', `${(r.rss.peakBytes / MiB).toFixed(1)} MiB (${r.rss.samples} samples, every 500 ms)`],
      ['RSS peak, last third of the schedule', `${(r.rss.peakLastThirdBytes / MiB).toFixed(1)} MiB`],
      ['pods at start / created during the run', `${r.pods.initial} / ${r.pods.created}`],
      ['proxy: requests / bulk / answered 503 / 429', `${r.proxy.requests} / ${r.proxy.bulkRequests} / ${r.proxy.answered503} / ${r.proxy.answered429}`],
      ['proxy: items answered 429 in 200s', `${r.proxy.itemsRejected} in ${r.proxy.partialBulks} bulks`],
      ['proxy: connections cut', r.proxy.connectionsCut],
      ['API server: restarts / pod lists / pod watches', `${r.kube.restarts} / ${r.kube.podLists} / ${r.kube.podWatches}`],
      ['schedule / drain', `${(r.scheduleMs / 1000).toFixed(1)} s / ${(r.drainMs / 1000).toFixed(1)} s`],
      ['node name', r.nodeName],
    ]),
  );
  const samples: Array<[string, string[]]> = [
    ['lost', c.samples.lost],
    ['duplicated', c.samples.duplicated],
    ['cut', c.samples.cut],
    ['without metadata', c.samples.metadata],
  ];
  for (const [name, list] of samples) if (list.length > 0) lines.push('', `${name}, first ${list.length}:`, ...list.map((s) => `  ${s}`));
  if (c.lostByContainer.length > 0) lines.push('', 'lost by container:', ...c.lostByContainer.map((l) => `  ${l.tag}: ${l.lost} of ${l.written}`));
  if (c.podsWithoutMetadata.length > 0) {
    lines.push(
      '',
      'pods with records lacking metadata:',
      ...c.podsWithoutMetadata.map((p) => `  ${p.pod}: ${p.records}${p.afterKubeRestart ? ' (created < 5 s after an API server restart)' : ''}`),
    );
  }
  if (r.harnessErrors.length > 0) lines.push('', 'harness errors:', ...r.harnessErrors.map((e) => `  ${e}`));
  if (r.failed) lines.push('', `agent logs and configs kept in ${r.workDir}`);
  lines.push(`replay: npm run soak -- --seed ${r.seed} --minutes ${r.minutes}`, '');
  return lines.join('\n');
}

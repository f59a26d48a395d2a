/**
 * What the demo tells the person running it: where the records go, commands that read them back from that
 * same place (a demo shipping to Elasticsearch must not suggest queries of an empty local store), a status
 * line while it runs, and what stopping does. Pure functions of the configuration, so tests can read them.
 */
import { basename, isAbsolute, relative, resolve } from 'node:path';
import type { Config } from '../config/load.js';
import type { SinkStats } from '../sinks/sink.js';
import { formatDuration } from '../agent/output-watch.js';

/** A URL as it can be shown and pasted: credentials in it become USER:PASSWORD placeholders, or go. */
function shownUrl(url: URL, placeholders = false): string {
  const path = url.pathname.replace(/\/+$/, '');
  return placeholders && url.username ? `${url.protocol}//USER:PASSWORD@${url.host}${path}` : url.origin + path;
}

/** Where the records go, in words. */
export function destination(config: Config): string {
  if (config.output.kind === 'local') return `the local store in ${resolve(config.dataDir)}`;
  return `Elasticsearch at ${config.output.elasticsearch.hosts.map((url) => shownUrl(url)).join(', ')}`;
}

/**
 * How this person runs logferry: `logferry` when it came from the PATH (npm link, a global install),
 * otherwise `node <the script>` as a path from the current folder.
 */
export function cliCommand(script: string | undefined, cwd: string): string {
  if (script === undefined || basename(script) === 'logferry') return 'logferry';
  const path = relative(cwd, script);
  return `node ${path && !path.startsWith('..') && !isAbsolute(path) ? path : script}`;
}

export interface HintOptions {
  /** the generated node log tree */
  root: string;
  /** `logferry` or `node bin/logferry.js` */
  command: string;
  /** as given on the command line (the searches must name it too) */
  dataDir?: string;
  metricsPort?: number;
  shutdownGraceMs: number;
}

/** The banner printed once the agent runs. */
export function demoHints(config: Config, options: HintOptions): string[] {
  const run = options.command;
  const lines = [
    '',
    `logferry demo: a generated node log tree in ${options.root} (removed when the demo stops)`,
    `  shipping container logs (6 pods, CRI and docker), kubelet/kube-proxy and docker logs to ${destination(config)}`,
    '',
  ];
  if (config.output.kind === 'elasticsearch') {
    const es = config.output.elasticsearch;
    const first = shownUrl(es.hosts[0]);
    const pattern = es.dataStream ?? `${es.index}-*`;
    // `search` finds Elasticsearch through the environment only: the other terminal needs the same hosts.
    const index = es.dataStream === undefined && es.index === 'logstash' ? '' : ` --index '${pattern}'`;
    lines.push(
      'Try, in another terminal (search and tail read Elasticsearch when ELASTICSEARCH_* is set):',
      `  export ELASTICSEARCH_HOSTS=${es.hosts.map((url) => shownUrl(url, true)).join(',')}`,
      ...(es.auth
        ? [
            `  export ${es.auth.kind === 'basic' ? 'ELASTICSEARCH_USERNAME=... ELASTICSEARCH_PASSWORD=...' : 'ELASTICSEARCH_API_KEY=...'}   # the credentials this demo uses`,
          ]
        : []),
      `  ${run} search --since 15m${index}`,
      `  ${run} search 'level:error' -n shop${index}`,
      `  ${run} search '"payment declined"' --output json --limit 3${index}`,
      `  ${run} tail -f -n billing${index}`,
      `  curl -s${es.auth || es.hosts[0].username ? ' -u USER:PASSWORD' : ''} '${first}/${pattern}/_count?q=kubernetes.namespace:shop'`,
      `  Kibana: a data view on ${pattern} with @timestamp as time field`,
    );
  } else {
    const dataDirFlag = options.dataDir ? ` --data-dir ${options.dataDir}` : '';
    lines.push(
      'Try, from this folder in another terminal:',
      `  ${run} search --since 15m${dataDirFlag}`,
      `  ${run} search 'level:error' -n shop${dataDirFlag}`,
      `  ${run} search '"payment declined"' --output json --limit 3${dataDirFlag}`,
      `  ${run} tail -f -n billing${dataDirFlag}`,
    );
  }
  if (options.metricsPort) lines.push(`  curl -s http://127.0.0.1:${options.metricsPort}/metrics | grep logferry_sink`);
  lines.push(
    '',
    `Ctrl-C stops the demo: it flushes what was read (up to ${formatDuration(options.shutdownGraceMs)}), saves checkpoints and removes the generated tree; the records stay.`,
    '',
  );
  return lines;
}

export interface Progress {
  /** lines the generator wrote */
  written: number;
  /** records the pipeline read */
  recordsIn: number;
  sink: SinkStats;
}

/**
 * Records read and not yet stored, found already stored, dead-lettered or failed. (The demo configures no
 * filter, so a record read is a record the output will settle.)
 */
export function pendingRecords(progress: Progress): number {
  const { stored, duplicates, deadLettered, failed } = progress.sink;
  return Math.max(0, progress.recordsIn - stored - duplicates - deadLettered - failed);
}

const count = (n: number) => n.toLocaleString('en-US');

/** `logferry demo: 12s: 1,620 lines written, 1,402 records stored, 18 pending, 0 duplicates` */
export function statusLine(progress: Progress, elapsedMs: number): string {
  const { stored, duplicates, deadLettered, failed } = progress.sink;
  let line = `logferry demo: ${formatDuration(elapsedMs)}: ${count(progress.written)} lines written, ${count(stored)} records stored, ${count(pendingRecords(progress))} pending, ${count(duplicates)} duplicates`;
  if (deadLettered > 0) line += `, ${count(deadLettered)} dead-lettered`;
  if (failed > 0) line += `, ${count(failed)} failed`;
  return line;
}

/** Said at Ctrl-C, before the wait, so a pause of some seconds does not look like a hang. */
export function stoppingLine(config: Config, progress: Progress): string {
  const pending = pendingRecords(progress);
  const what = pending > 0 ? `flushing ${count(pending)} pending records to ${destination(config)}` : `flushing to ${destination(config)}`;
  return `logferry demo: stopping: ${what} (up to ${formatDuration(config.pipeline.shutdownGraceMs)}; Ctrl-C again quits without waiting)`;
}

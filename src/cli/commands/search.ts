/** `logferry search [QUERY] [filters]`: stored records from the local store or Elasticsearch. */
import type { Command } from 'commander';
import type { QueryFlags } from '../../query/query.js';
import { checkOutput } from '../output.js';
import { readExclusionsAsQuery } from '../query-args.js';

export interface QueryCommandOptions extends QueryFlags {
  output: string;
  dataDir?: string;
  index?: string;
  config?: string;
}

/** Filter flags shared by `search` and `tail`. */
export function addQueryFlags(command: Command): Command {
  return command
    .option('--since <duration>', 'only records newer than this (30s, 15m, 2h, 7d)')
    .option('--from <time>', 'only records at or after this time (RFC 3339, e.g. 2026-11-24T10:00:00Z)')
    .option('--to <time>', 'only records before this time (RFC 3339)')
    .option('-n, --namespace <namespace>', 'Kubernetes namespace')
    .option('--pod <glob>', 'pod name or glob (web-*)')
    .option('-c, --container <name>', 'container name')
    .option('-l, --selector <selector>', 'pod label selector (app=web,tier!=db, env in (a,b), key, !key)')
    .option('--level <level>', 'log level (info, warning, error, ...)')
    .option('--stream <stream>', 'stdout or stderr')
    .option('--node <node>', 'node name')
    .option('-o, --output <format>', 'text or json (one record per line)', 'text')
    .option('--data-dir <dir>', 'read this local store (default ./logferry-data, /var/lib/logferry in a cluster; Elasticsearch when ELASTICSEARCH_* is set)')
    .option('--index <pattern>', 'Elasticsearch index pattern or data stream (default logstash-*)')
    .option('--config <file>', "the agent's configuration file: its output.elasticsearch (hosts, headers, TLS...) is read (also LOGFERRY_CONFIG)");
}

/**
 * Run a query command: backend errors (Elasticsearch unreachable, a damaged store) print one line and
 * exit 1; usage errors propagate (exit 2).
 */
export async function withBackend(options: QueryCommandOptions, run: (backend: import('../../query/query.js').QueryBackend) => Promise<void>): Promise<void> {
  const { openBackend } = await import('../../query/backend.js');
  const { exitQuietlyOnBrokenPipe } = await import('../output.js');
  exitQuietlyOnBrokenPipe();
  let backend;
  try {
    // The agent's file, when given: what it says of Elasticsearch (headers, a proxy's path, TLS) applies to queries too.
    const configFile = options.config ?? process.env.LOGFERRY_CONFIG;
    let elasticsearch: import('../../sinks/elasticsearch/config.js').ElasticsearchConfig | undefined;
    if (options.dataDir === undefined && configFile !== undefined && configFile !== '') {
      const { loadConfig } = await import('../../config/load.js');
      const config = await loadConfig({ configFile, env: process.env });
      if (config.output.kind === 'elasticsearch') elasticsearch = config.output.elasticsearch;
    }
    backend = openBackend({ dataDir: options.dataDir, index: options.index, env: process.env, elasticsearch });
  } catch (error) {
    return fail(error);
  }
  try {
    await run(backend);
  } catch (error) {
    fail(error);
  } finally {
    await backend.close();
  }
}

function fail(error: unknown): void {
  const name = (error as Error)?.name;
  if (name === 'BackendError' || name === 'StoreError') {
    process.stderr.write(`logferry: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  throw error;
}

/** Beyond this many matches a count says "more than": counting is a walk like a page of this size. */
const COUNT_CAP = 10_000;

/** The query words: several arguments are one query (`logferry search payment declined`). */
export function queryText(words: readonly string[] | undefined): string | undefined {
  return words === undefined || words.length === 0 ? undefined : words.join(' ');
}

export function register(program: Command): void {
  const command = addQueryFlags(
    program
      .command('search')
      .description(
        'search stored logs (local store, or Elasticsearch when ELASTICSEARCH_* is set): words, "phrases", pre*, field:value, -exclude, NOT, OR, ( )',
      )
      .argument(
        '[query...]',
        'free text: words, "phrases", prefix*, field:value (level:error, pod:web-*, json.user.id:7), -word, NOT field:value, a OR b, ( ); after -- nothing is an option',
      ),
  )
    .option('--limit <n>', 'most records to print', '100')
    .option('--oldest-first', 'oldest first (default: the newest, printed oldest at the top like a log)')
    .action(async (words: string[], options: QueryCommandOptions) => {
      const format = checkOutput(options.output);
      const { buildQuery } = await import('../../query/query.js');
      const { formatRecords, summaryLine, useColour } = await import('../output.js');
      const query = buildQuery(queryText(words), options);
      await withBackend(options, async (backend) => {
        const records = await backend.search(query);
        if (query.order === 'newest') records.reverse();
        process.stdout.write(formatRecords(records, format, format === 'text' && useColour(process.stdout, process.env)));
        // On a terminal, never an empty screen without a word: what was read, and how much matched.
        if (process.stdout.isTTY !== true) return;
        // The count is a second request: if it fails (an old server), the records printed still stand.
        const total =
          records.length < query.limit
            ? { count: records.length, exact: true }
            : await backend.count(query, COUNT_CAP).catch(() => ({ count: records.length, exact: false }));
        process.stderr.write(summaryLine(backend.description, records.length, total, query.order) + '\n');
      });
    });
  readExclusionsAsQuery(command);
}

import type { Command } from 'commander';
import type { QueryFlags } from '../../query/query.js';
import { UsageError } from '../errors.js';

export interface SearchOptions extends QueryFlags {
  output: string;
  dataDir?: string;
  index?: string;
}

/** Filter flags shared by `search` and `tail`. */
export function addQueryFlags(command: Command): Command {
  return command
    .option('--since <duration>', 'only records newer than this (30s, 15m, 2h, 7d)')
    .option('--from <time>', 'only records at or after this time (RFC 3339)')
    .option('--to <time>', 'only records before this time (RFC 3339)')
    .option('-n, --namespace <namespace>', 'Kubernetes namespace')
    .option('--pod <glob>', 'pod name or glob (web-*)')
    .option('-c, --container <name>', 'container name')
    .option('-l, --selector <selector>', 'pod label selector (app=web,tier!=db)')
    .option('--level <level>', 'log level (info, warning, error, ...)')
    .option('--stream <stream>', 'stdout or stderr')
    .option('--node <node>', 'node name')
    .option('-o, --output <format>', 'text or json (one record per line)', 'text')
    .option('--data-dir <dir>', 'the local store to read (default ./logferry-data, or /var/lib/logferry in a cluster)')
    .option('--index <pattern>', 'Elasticsearch index pattern (default logstash-*)');
}

export function checkOutput(output: string): 'text' | 'json' {
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output: text or json (got ${JSON.stringify(output)})`);
  return output;
}

export function register(program: Command): void {
  addQueryFlags(
    program
      .command('search')
      .description('search stored logs (local store, or Elasticsearch when ELASTICSEARCH_* is set): words, "phrases", field:value, -exclude')
      .argument('[query]', 'free text: words, "phrases", field:value, -word'),
  )
    .option('--limit <n>', 'most records to print', '100')
    .option('--oldest-first', 'oldest first (default newest first)')
    .action(async (text: string | undefined, options: SearchOptions) => {
      const output = checkOutput(options.output);
      const { buildQuery } = await import('../../query/query.js');
      const query = buildQuery(text, options);
      const { openBackend } = await import('../../query/backend.js');
      const { formatJson, formatText } = await import('../output.js');
      const backend = openBackend({ dataDir: options.dataDir, index: options.index, env: process.env });
      try {
        const records = await backend.search(query);
        // Newest-first results print oldest at the top, like a log; --oldest-first reads forward.
        if (query.order === 'newest') records.reverse();
        const colour = output === 'text' && process.stdout.isTTY === true;
        let out = '';
        for (const record of records) out += (output === 'json' ? formatJson(record) : formatText(record, colour)) + '\n';
        process.stdout.write(out);
      } finally {
        await backend.close();
      }
    });
}

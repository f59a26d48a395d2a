import type { Command } from 'commander';
import { addQueryFlags, checkOutput, type SearchOptions } from './search.js';
import { UsageError } from '../errors.js';

interface TailOptions extends SearchOptions {
  lines: string;
  follow?: boolean;
  intervalMs: string;
}

export function register(program: Command): void {
  addQueryFlags(program.command('tail').description('the last records and, with -f, new ones as they arrive (like kubectl logs -f, across pods)'))
    .argument('[query]', 'free text filter, as in search')
    .option('--lines <n>', 'how many of the latest records to print first', '20')
    .option('-f, --follow', 'keep printing new records')
    .option('--interval-ms <ms>', 'how often to look for new records with -f', '500')
    .action(async (text: string | undefined, options: TailOptions) => {
      const output = checkOutput(options.output);
      const lines = Number(options.lines);
      if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`--lines: a whole number (got ${JSON.stringify(options.lines)})`);
      const { buildQuery } = await import('../../query/query.js');
      const { openBackend } = await import('../../query/backend.js');
      const { formatJson, formatText } = await import('../output.js');
      const backend = openBackend({ dataDir: options.dataDir, index: options.index, env: process.env });
      const colour = output === 'text' && process.stdout.isTTY === true;
      const print = (records: Awaited<ReturnType<typeof backend.search>>) => {
        let out = '';
        for (const record of records) out += (output === 'json' ? formatJson(record) : formatText(record, colour)) + '\n';
        if (out) process.stdout.write(out);
      };
      try {
        const latest = lines > 0 ? await backend.search({ ...buildQuery(text, { ...options, limit: String(lines) }), order: 'newest' }) : [];
        latest.reverse();
        print(latest);
        if (!options.follow) return;
        let cursor = latest.length > 0 ? latest[latest.length - 1].cursor : undefined;
        const since = cursor === undefined ? Date.now() * 1000 : undefined;
        let stopped = false;
        process.once('SIGINT', () => (stopped = true));
        process.once('SIGTERM', () => (stopped = true));
        while (!stopped) {
          await new Promise((resolve) => setTimeout(resolve, Number(options.intervalMs)));
          const query = { ...buildQuery(text, { ...options, limit: '1000' }), order: 'oldest' as const, after: cursor };
          if (cursor === undefined && since !== undefined) query.fromMicros = since;
          const fresh = await backend.search(query);
          print(fresh);
          if (fresh.length > 0) cursor = fresh[fresh.length - 1].cursor;
        }
      } finally {
        await backend.close();
      }
    });
}

/** `logferry tail [filters] [-f]`: the last records and, with -f, new ones as they arrive. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkOutput } from '../output.js';
import { addQueryFlags, withBackend, type QueryCommandOptions } from './search.js';

interface TailOptions extends QueryCommandOptions {
  lines: string;
  follow?: boolean;
  interval: string;
}

function wholeNumber(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 100_000) throw new UsageError(`${flag}: a whole number from ${min} to 100000 (got ${JSON.stringify(value)})`);
  return n;
}

export function register(program: Command): void {
  addQueryFlags(program.command('tail').description('the last records and, with -f, new ones as they arrive (kubectl logs -f across pods and restarts)'))
    .argument('[query]', 'free text filter, as in search')
    .option('--lines <n>', 'how many of the latest records to print first', '10')
    .option('-f, --follow', 'keep printing new records until interrupted')
    .option('--interval <ms>', 'with -f, how often to look for new records', '500')
    .action(async (text: string | undefined, options: TailOptions) => {
      const format = checkOutput(options.output);
      const lines = wholeNumber(options.lines, '--lines', 0);
      const interval = wholeNumber(options.interval, '--interval', 50);
      const { buildQuery } = await import('../../query/query.js');
      const { Follower } = await import('../../query/follow.js');
      const { formatRecords, useColour } = await import('../output.js');
      const query = buildQuery(text, { ...options, limit: String(Math.max(lines, 1)) });
      const colour = format === 'text' && useColour(process.stdout, process.env);
      await withBackend(options, async (backend) => {
        const latest = lines > 0 ? await backend.search({ ...query, order: 'newest' }) : [];
        latest.reverse();
        process.stdout.write(formatRecords(latest, format, colour));
        if (!options.follow) return;
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const follower = new Follower(backend, query, {
            printed: latest,
            intervalMs: interval,
            signal: stop.signal,
            onError: (error) => process.stderr.write(`logferry: ${error.message} (still trying)\n`),
          });
          await follower.run((records) => process.stdout.write(formatRecords(records, format, colour)));
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
    });
}

/** `logferry tail [filters] [-f]`: the last records and, with -f, new ones as they arrive. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkOutput } from '../output.js';
import { readExclusionsAsQuery } from '../query-args.js';
import { addQueryFlags, queryText, withBackend, type QueryCommandOptions } from './search.js';

interface TailOptions extends QueryCommandOptions {
  lines?: string;
  tail?: string;
  follow?: boolean;
  interval: string;
}

function wholeNumber(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 100_000) throw new UsageError(`${flag}: a whole number from ${min} to 100000 (got ${JSON.stringify(value)})`);
  return n;
}

/** kubectl's `--tail=N` (and the older `--lines N`): -1 is "all", here as many as a query returns. */
function linesWanted(options: TailOptions): number {
  if (options.tail !== undefined && options.lines !== undefined) throw new UsageError('--tail and --lines both set how many lines: give one');
  const flag = options.tail !== undefined ? '--tail' : '--lines';
  const value = options.tail ?? options.lines ?? '10';
  return value.trim() === '-1' ? 100_000 : wholeNumber(value, flag, 0);
}

export function register(program: Command): void {
  const command = addQueryFlags(
    program.command('tail').description('the last records and, with -f, new ones as they arrive (kubectl logs -f across pods and restarts)'),
  )
    .argument('[query...]', 'free text filter, as in search')
    .option('--tail <n>', 'how many of the latest records to print first, as in kubectl (default 10; -1: as many as there are, up to 100000)')
    .option('--lines <n>', 'the same as --tail')
    .option('-f, --follow', 'keep printing new records until interrupted')
    .option('--interval <ms>', 'with -f, how often to look for new records', '500')
    .action(async (words: string[], options: TailOptions) => {
      const format = checkOutput(options.output);
      const text = queryText(words);
      const lines = linesWanted(options);
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
  readExclusionsAsQuery(command);
}

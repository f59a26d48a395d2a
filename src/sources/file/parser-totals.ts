/**
 * Parser outcomes summed over every file a tailer has read: each file's parser counts its own, and a
 * closed file's counts are kept here, so /metrics does not lose what a rotated file's parser saw.
 */
import type { ParserCounters } from '../../parsers/contract.js';

export function emptyParserCounters(): ParserCounters {
  return { lines: 0, records: 0, truncated: 0, invalidUtf8: 0, unparsed: 0, partialJoined: 0, multilineJoined: 0, multilineTruncated: 0 };
}

function addInto(sum: ParserCounters, counters: ParserCounters): void {
  for (const key of Object.keys(sum) as Array<keyof ParserCounters>) sum[key] += counters[key];
}

export class ParserTotals {
  private readonly retired = emptyParserCounters();

  /** A file was closed: its parser counts no more. */
  retire(counters: ParserCounters): void {
    addInto(this.retired, counters);
  }

  /** Closed files' counts plus those of the parsers still reading (read at scrape time). */
  sum(open: Iterable<{ parser: { counters: ParserCounters } }>): ParserCounters {
    const sum = { ...this.retired };
    for (const file of open) addInto(sum, file.parser.counters);
    return sum;
  }
}

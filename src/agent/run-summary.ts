/**
 * The last word of a oneshot run: one line with what was done, and the exit code. A run that could not do
 * all that was asked exits 1 (see EXIT_INCOMPLETE) and says first what it left out, so a script or a
 * person reading only the end of the output knows whether the import is complete:
 *   - records that could be neither stored nor dead-lettered, or read but not acknowledged (the output
 *     was given up on, or the shutdown grace ran out): they are read again by the next run;
 *   - files not read: could not be opened, binary or UTF-16 content, a parser configuration that cannot
 *     work, a first line never completed;
 *   - an `--input` glob that matched no file (or, with the default inputs, no file and no record at all);
 *   - container records shipped without their pod's metadata because the API server never listed the
 *     pods (refused with 403, unreachable). Metadata missing while the API did list pods means pods it no
 *     longer has (an import of old logs): counted in the line, not a failure.
 * Dead-lettered records are stored (in the dead-letter index, with the reason) and lines cut at the record
 * size limit keep their head: both are counted in the line and do not fail the run.
 */
import type { SinkStats } from '../sinks/sink.js';
import type { FileProblem } from '../sources/file/file-problems.js';
import type { MetadataOutcome } from './transforms.js';

/** `logferry run --oneshot` ran but could not do all that was asked (2 stays "bad configuration or usage"). */
export const EXIT_INCOMPLETE = 1;

export interface RunOutcome {
  sink: SinkStats;
  /** files opened and read */
  filesRead: number;
  filesLeftOut: FileProblem[];
  /** --input globs (as given) that matched no file; undefined with the default inputs */
  unmatchedInputs: string[] | undefined;
  /** default inputs: whether any pattern matched a file */
  anyFileMatched: boolean;
  recordsIn: number;
  /** acknowledgement batches read and not acknowledged at the end */
  undeliveredBatches: number;
  linesCut: number;
  metadata: MetadataOutcome | undefined;
  /** why the run stopped early (output given up on, a signal) */
  stoppedEarly: string | undefined;
}

export function summarize(outcome: RunOutcome): { line: string; exitCode: number } {
  const failures: string[] = [];
  const { sink, metadata } = outcome;
  if (outcome.stoppedEarly !== undefined) failures.push(outcome.stoppedEarly);
  if (sink.failed > 0) failures.push(`${sink.failed} records could be neither stored nor dead-lettered`);
  if (outcome.undeliveredBatches > 0)
    failures.push(`${outcome.undeliveredBatches} batches of records read but not acknowledged (the next run reads them again)`);
  const byReason = new Map<string, number>();
  for (const problem of outcome.filesLeftOut) byReason.set(problem.reason, (byReason.get(problem.reason) ?? 0) + 1);
  for (const [reason, count] of byReason) {
    const first = outcome.filesLeftOut.find((p) => p.reason === reason)!;
    failures.push(`${count} ${count === 1 ? 'file' : 'files'} ${LEFT_OUT[reason] ?? reason} (${first.path}: ${first.detail}${count > 1 ? ', ...' : ''})`);
  }
  if (outcome.unmatchedInputs !== undefined) {
    for (const glob of outcome.unmatchedInputs) failures.push(`--input ${glob} matched no file`);
  } else if (!outcome.anyFileMatched && outcome.recordsIn === 0) {
    failures.push('no input file found (check --root and the inputs configured)');
  }
  if (metadata !== undefined && metadata.missing > 0 && !metadata.listed) {
    failures.push(`${metadata.missing} records without Kubernetes metadata: the API server never listed this node's pods (${metadata.error ?? 'no answer'})`);
  }
  const skipped = outcome.filesLeftOut.filter((p) => p.reason !== 'unreadable').length;
  const counts = [
    `stored ${sink.stored}`,
    `already stored ${sink.duplicates}`,
    `dead-lettered ${sink.deadLettered}`,
    `failed ${sink.failed}`,
    `files read ${outcome.filesRead}`,
    `files skipped ${skipped}`,
    `files unreadable ${outcome.filesLeftOut.length - skipped}`,
    `without metadata ${metadata?.missing ?? 0}`,
    `lines cut ${outcome.linesCut}`,
  ].join(', ');
  if (failures.length === 0) return { line: `logferry: oneshot complete: ${counts}`, exitCode: 0 };
  return { line: `logferry: oneshot incomplete (exit ${EXIT_INCOMPLETE}): ${failures.join('; ')} | ${counts}`, exitCode: EXIT_INCOMPLETE };
}

const LEFT_OUT: Record<string, string> = {
  unreadable: 'could not be opened',
  binary: 'skipped as not UTF-8 text',
  config: 'skipped for a parser configuration that cannot work',
  incomplete: 'not read: first line never completed',
};

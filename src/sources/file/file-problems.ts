/**
 * What the tailer could not read as asked, kept per path so that a long-running agent logs each problem
 * once (not at every rescan) and a oneshot run can say in its summary, and in its exit code, what it
 * left out: files that could not be opened, files skipped (binary, a parser configuration that cannot
 * work), globs that matched nothing, lines cut at the record size limit.
 */
import { stat, type FileHandle } from 'node:fs/promises';
import { ParserConfigError } from '../../parsers/contract.js';
import { MultilineConfigError } from '../../parsers/multiline/options.js';
import { looksBinary, SAMPLE_BYTES } from './binary.js';
import type { TailerStats } from './stats.js';

/** `incomplete`: a oneshot run ended before the file's first line did */
export type SkipReason = 'binary' | 'config' | 'unreadable' | 'incomplete';

export interface FileProblem {
  path: string;
  reason: SkipReason;
  detail: string;
}

export interface LineCut {
  /** byte offset of the line where the cut happened (the record's `log.offset`, or a later runtime piece of it) */
  offset: number;
  /** the line's size in the file, newline excluded; undefined for a record joined from runtime pieces */
  lineBytes: number | undefined;
}

/** A remembered problem per path is bounded: a directory of thousands of binary files must not grow memory. */
const MAX_REMEMBERED = 10_000;

export class FileProblems {
  private readonly byPath = new Map<string, FileProblem>();
  private readonly matchedPatterns = new Set<string>();

  constructor(
    private readonly stats: TailerStats,
    private readonly maxRecordBytes: number,
    private readonly warn: (message: string, context: Record<string, unknown>) => void,
  ) {}

  /** Classify an error thrown while opening a file: a parser configuration problem skips it, anything else leaves it unread. */
  static reasonOf(error: unknown): SkipReason {
    return error instanceof ParserConfigError || error instanceof MultilineConfigError ? 'config' : 'unreadable';
  }

  /** A file not read; logged and counted once per path and reason (the rescan finds it again and again). */
  skipped(path: string, reason: SkipReason, detail: string): void {
    const known = this.byPath.get(path);
    if (known !== undefined && known.reason === reason) return;
    if (this.byPath.size >= MAX_REMEMBERED) this.byPath.clear();
    this.byPath.set(path, { path, reason, detail });
    if (reason === 'binary') this.stats.skippedBinary++;
    else if (reason === 'config') this.stats.skippedConfig++;
    else this.stats.unreadable++;
    const message =
      reason === 'binary'
        ? 'file skipped: not UTF-8 text; it is not read (nothing stored from it)'
        : reason === 'config'
          ? 'file skipped: its parser configuration cannot work; fix the configuration (or the pod annotation) and it is read'
          : reason === 'incomplete'
            ? 'file not read: its first line is not complete yet'
            : 'cannot open file; it is not read until it can be';
    this.warn(message, { file: path, reason: detail });
  }

  /** Judge the file by its first bytes (see binary.ts); a binary or UTF-16 one is skipped, said once. */
  async skipIfBinary(handle: FileHandle, size: number, path: string): Promise<boolean> {
    const sample = Buffer.allocUnsafe(Math.min(size, SAMPLE_BYTES));
    const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
    const verdict = looksBinary(sample.subarray(0, bytesRead));
    if (verdict.binary) this.skipped(path, 'binary', verdict.reason);
    return verdict.binary;
  }

  /** The file was opened after all (permissions fixed, say): it no longer counts as left out. */
  opened(path: string): void {
    if (this.byPath.size > 0) this.byPath.delete(path);
  }

  /**
   * What a glob expanded to. A pattern without wildcards expands to itself whether the file exists or
   * not, so that one is looked at (until it is found once).
   */
  async noteMatches(pattern: string, paths: string[]): Promise<void> {
    if (paths.length === 0 || this.matchedPatterns.has(pattern)) return;
    if (
      paths.length === 1 &&
      paths[0] === pattern &&
      !(await stat(pattern).then(
        () => true,
        () => false,
      ))
    )
      return;
    this.matchedPatterns.add(pattern);
  }

  /** Patterns of `patterns` that never matched a file in this run. */
  unmatched(patterns: string[]): string[] {
    return patterns.filter((p) => !this.matchedPatterns.has(p));
  }

  /** Files left out, now. */
  list(): FileProblem[] {
    return [...this.byPath.values()];
  }

  /**
   * A record was cut at the record size limit (the rest of its line is not stored). Counted every time;
   * logged for the first cut of each file only (`firstInFile`), so a file of huge lines costs one line.
   */
  /** The TailedFile.onCut of one file: counts every cut, logs its first. */
  cutReporter(path: string): (offset: number, lineBytes: number | undefined) => void {
    let first = true;
    return (offset, lineBytes) => {
      this.lineCut(path, { offset, lineBytes }, first);
      first = false;
    };
  }

  lineCut(path: string, cut: LineCut, firstInFile: boolean): void {
    this.stats.linesCut++;
    if (!firstInFile) return;
    this.warn(
      'line longer than the record size limit cut; the rest of it is not stored (further cuts in this file are counted in logferry_source_lines_cut_total, not logged)',
      {
        file: path,
        offset: cut.offset,
        ...(cut.lineBytes !== undefined ? { lineBytes: cut.lineBytes } : { joinedFromRuntimePieces: true }),
        limitBytes: this.maxRecordBytes,
        setting: 'pipeline.maxRecordBytes',
      },
    );
  }
}

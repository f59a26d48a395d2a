/**
 * The file sources' series (container logs, component logs, sidecar files): the tailer's counters, its
 * parsers' outcomes, and how far behind reading and acknowledging are — all read at scrape time.
 */
import { counter, gauge, type MetricFamily, type MetricsSource } from '../../core/metrics.js';
import type { Tailer } from './tailer.js';

export class FileSourceMetrics implements MetricsSource {
  constructor(private readonly tailer: Tailer) {}

  /**
   * Bytes of rotated files (renamed away or deleted, drained, or read and waiting for acknowledgement)
   * that are not acknowledged yet. Kubelet deletes a container's older rotated files when it rotates
   * again; the agent holds an open file and reads it to its end anyway, but after a restart whatever was
   * not acknowledged is gone with the file. Read or not, such bytes are only safe once acknowledged.
   */
  bytesAtRisk(): number {
    const { files, settling, options } = this.tailer;
    let total = 0;
    for (const file of [...files.values(), ...settling.values()]) {
      if (file.state === 'active' || file.detached) continue;
      const committed = file.acks.committed ?? options.checkpoints.get(file.key)?.offset ?? 0;
      total += Math.max(0, file.knownSize - committed);
    }
    return total;
  }

  describeMetrics(): MetricFamily[] {
    const tailer = this.tailer;
    const stats = () => tailer.stats;
    const parsed = () => tailer.parserTotals.sum(tailer.files.values());
    return [
      counter('logferry_source_bytes_read_total', 'Bytes read from files', () => stats().bytesRead),
      counter('logferry_source_files_opened_total', 'Files opened for reading (new files, rotated files found again)', () => stats().opened),
      counter('logferry_source_files_closed_total', 'Files closed after being read to their end (rotated away, deleted, truncated)', () => stats().closed),
      counter('logferry_source_rotations_total', 'Rotations followed: a file renamed away or deleted, read on to its end', () => stats().rotations),
      counter('logferry_source_truncations_total', 'Truncations (copytruncate) detected', () => stats().truncations),
      counter(
        'logferry_source_rotated_found_again_total',
        'Rotated files found again by their identity after a restart (rotated while the agent was stopped) and read on from their checkpoint',
        () => stats().foundAgain,
      ),
      counter(
        'logferry_source_missed_rotations_total',
        'Rotated files found beside a file although its path never showed them (several rotations between two looks), and read',
        () => stats().missedRotations,
      ),
      counter('logferry_source_copies_drained_total', 'copytruncate copies read on from where the truncated original left off', () => stats().copiesDrained),
      counter('logferry_source_errors_total', 'File errors (cannot open, read failed)', () => stats().errors),
      counter(
        'logferry_source_lines_cut_total',
        'Records cut at the record size limit (pipeline.maxRecordBytes); the rest of their line is not stored',
        () => stats().linesCut,
      ),
      counter(
        'logferry_source_files_skipped_total',
        'Files not read, by reason: binary (or UTF-16) content, a parser configuration that cannot work, cannot be opened; once per path',
        () => {
          const t = stats();
          return [
            [{ reason: 'binary' }, t.skippedBinary],
            [{ reason: 'config' }, t.skippedConfig],
            [{ reason: 'unreadable' }, t.unreadable],
          ];
        },
        ['reason'],
      ),
      gauge('logferry_files_open', 'Files being tailed', () => tailer.files.size),
      gauge('logferry_bytes_behind', 'File bytes not yet acknowledged (size minus committed offset)', () => tailer.bytesBehind()),
      gauge('logferry_deleted_bytes_held', 'Bytes of deleted files kept open until drained', () => tailer.deletedBytesHeld()),
      gauge(
        'logferry_source_bytes_at_risk',
        'Bytes of rotated files not yet acknowledged; kubelet deletes older rotated files, and what a restart then cannot find is lost',
        () => this.bytesAtRisk(),
      ),
      counter('logferry_parser_lines_total', 'Lines handed to parsers', () => parsed().lines),
      counter('logferry_parser_records_total', 'Records the parsers produced', () => parsed().records),
      counter(
        'logferry_parser_records_truncated_total',
        'Records cut at the record size limit (pipeline.maxRecordBytes) and flagged truncated',
        () => parsed().truncated,
      ),
      counter('logferry_parser_records_invalid_utf8_total', 'Records whose invalid UTF-8 bytes were replaced (U+FFFD) and flagged', () => parsed().invalidUtf8),
      counter(
        'logferry_parser_lines_unparsed_total',
        "Lines not in their file's format (CRI, docker JSON, glog...), shipped as they are with the read time",
        () => parsed().unparsed,
      ),
      counter(
        'logferry_parser_partial_lines_joined_total',
        'Runtime pieces of a long line (CRI P, docker without newline) joined to the piece after them',
        () => parsed().partialJoined,
      ),
      counter(
        'logferry_parser_multiline_lines_joined_total',
        'Lines joined to the line before them (multiline rules, glog continuation lines)',
        () => parsed().multilineJoined,
      ),
      counter('logferry_parser_multiline_truncated_total', 'Multiline records cut at their maxLines / maxBytes bound', () => parsed().multilineTruncated),
    ];
  }
}

/** Counters every file source exposes (the metrics module reads them; they are never reset). */
export class TailerStats {
  bytesRead = 0;
  opened = 0;
  closed = 0;
  rotations = 0;
  truncations = 0;
  /** files found again by identity after a rotation while the agent was stopped */
  foundAgain = 0;
  /** rotated files discovered in a directory that the glob never showed (several rotations between two looks) */
  missedRotations = 0;
  /** copytruncate copies read on from where the truncated original left off */
  copiesDrained = 0;
  errors = 0;
  /** files not read: binary (or UTF-16) content, a parser configuration that cannot work, cannot be opened (once per path) */
  skippedBinary = 0;
  skippedConfig = 0;
  unreadable = 0;
  /** records cut at the record size limit (pipeline.maxRecordBytes): the rest of their line is not stored */
  linesCut = 0;
}

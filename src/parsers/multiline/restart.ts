/**
 * Where a file may be read again from after a restart without splitting a record already handed out.
 *
 * A checkpoint stops at the oldest record still held (`pendingOffset`). With two streams in one file that
 * is not enough: while stderr holds a trace from offset P, stdout may hand out a multi-line record that
 * began before P and ended after it. Read again from P, its later lines would come back as a fragment (a
 * line stored twice, under another id). So the restart point moves back to the start of any record that
 * spans it — repeatedly, as that start may itself lie inside a record of the other stream.
 * Only multi-line records are noted (single lines cannot span anything), so ordinary logs cost nothing.
 */
export class RestartPoints {
  /** first and last-line offsets of multi-line records handed out that may still span a restart point */
  private firsts: number[] = [];
  private lasts: number[] = [];

  /** A multi-line record was handed out: its first line at `first`, its last at `last`. */
  note(first: number, last: number): void {
    this.firsts.push(first);
    this.lasts.push(last);
  }

  /** The restart point for `pending` (the oldest held offset, or -1 when nothing is held). */
  safe(pending: number): number {
    if (pending < 0 || this.firsts.length === 0) return pending;
    let point = pending;
    for (let moved = true; moved;) {
      moved = false;
      for (let i = 0; i < this.firsts.length; i++) {
        if (this.firsts[i] < point && point <= this.lasts[i]) {
          point = this.firsts[i];
          moved = true;
        }
      }
    }
    // Held offsets only grow, so a record ending before this point can never span a later one: forget it.
    let kept = 0;
    for (let i = 0; i < this.firsts.length; i++) {
      if (this.lasts[i] >= point) {
        this.firsts[kept] = this.firsts[i];
        this.lasts[kept] = this.lasts[i];
        kept++;
      }
    }
    this.firsts.length = kept;
    this.lasts.length = kept;
    return point;
  }
}

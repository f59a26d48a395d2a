/**
 * The bound on bytes in flight between sources and sinks. Sources acquire before they read; bytes are
 * released when their batch is acknowledged. When the budget is spent, sources wait: the files on disk
 * are the buffer, so memory stays flat however large the backlog or however long an outage lasts.
 */
export class InflightBudget {
  private used = 0;
  private waiters: Array<() => void> = [];
  private blockedSince = 0;
  /** total milliseconds sources spent waiting for budget (a backpressure metric) */
  blockedMs = 0;
  /** since when the budget is spent (0: it is not), and when bytes were last released: stall detection */
  private fullSinceMs = 0;
  private lastReleaseMs = 0;

  constructor(
    readonly limitBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * How long the budget has been spent with no acknowledgement releasing any of it (0 when it is not
   * spent). Sources read nothing meanwhile; when the sink is healthy this means something holds records
   * without ever acknowledging them.
   */
  stalledForMs(): number {
    if (this.fullSinceMs === 0) return 0;
    return this.now() - Math.max(this.fullSinceMs, this.lastReleaseMs);
  }

  get inUse(): number {
    return this.used;
  }

  /** true if `bytes` more can be taken now; the caller must then call {@link take}. */
  available(bytes = 1): boolean {
    return this.used === 0 || this.used + bytes <= this.limitBytes;
  }

  take(bytes: number): void {
    this.used += bytes;
    if (this.used >= this.limitBytes && this.fullSinceMs === 0) this.fullSinceMs = this.now();
  }

  release(bytes: number): void {
    if (bytes === 0) return;
    this.used -= bytes;
    if (this.used < 0) this.used = 0;
    this.lastReleaseMs = this.now();
    if (this.used < this.limitBytes) this.fullSinceMs = 0;
    if (this.waiters.length > 0 && this.used < this.limitBytes) {
      if (this.blockedSince) {
        this.blockedMs += Date.now() - this.blockedSince;
        this.blockedSince = 0;
      }
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves when some budget is free again. */
  waitForRoom(): Promise<void> {
    if (this.used < this.limitBytes) return Promise.resolve();
    if (!this.blockedSince) this.blockedSince = Date.now();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Resolves true when some budget is free again, or false after `timeoutMs` (the waiter is then
   * withdrawn): a source that must keep doing other work while it cannot read (finding new files) waits
   * in slices.
   */
  waitForRoomUpTo(timeoutMs: number): Promise<boolean> {
    if (this.used < this.limitBytes) return Promise.resolve(true);
    if (!this.blockedSince) this.blockedSince = Date.now();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(wake);
    });
  }
}

/**
 * Reconnect delays: exponential with "equal jitter" (half the step fixed, half random). The fixed half
 * bounds the request rate from below the way a plain exponential does, so a node that cannot reach the
 * API server sends at most a known number of requests; the random half spreads 5,000 nodes that lost
 * their API server at the same moment, so they do not all come back in the same millisecond.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** growth per failed attempt; default 2 */
  factor?: number;
  /** injectable for tests; default Math.random */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly factor: number;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
  }

  get minMs(): number {
    return this.options.minMs;
  }

  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next attempt after a failure. */
  next(): number {
    const step = Math.min(this.options.maxMs, this.options.minMs * this.factor ** Math.min(this.attempt, 60));
    this.attempt++;
    return Math.round(step / 2 + (this.random() * step) / 2);
  }

  /** Small random delay in [0, minMs) for reconnecting after a healthy watch ended (spreads a herd). */
  spread(): number {
    return Math.floor(this.random() * this.options.minMs);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/**
 * Upper bound on attempts a {@link Backoff} allows within `windowMs` (each delay is at least half its step):
 * what tests assert on to prove there is no request storm.
 */
export function maxAttemptsWithin(windowMs: number, options: Pick<BackoffOptions, 'minMs' | 'maxMs' | 'factor'>): number {
  const factor = options.factor ?? 2;
  let elapsed = 0;
  let attempts = 1;
  for (let i = 0; ; i++) {
    const step = Math.min(options.maxMs, options.minMs * factor ** Math.min(i, 60));
    elapsed += step / 2;
    if (elapsed > windowMs) return attempts;
    attempts++;
  }
}

/**
 * Is the pipeline moving? Two ways it can look alive and not be: the in-flight budget is spent and no
 * acknowledgement has released any of it for a while (every source has stopped reading), or a component
 * throws on record after record (everything is dead-lettered). Either turns /readyz red with the reason,
 * and both show in /metrics, so an alert can fire before a node's logs are days behind.
 */
import { byLabel, counter, gauge, type MetricFamily, type MetricsSource } from '../core/metrics.js';
import type { InflightBudget } from './budget.js';
import type { ComponentErrors } from './component-errors.js';

/** Budget spent without any acknowledgement for this long: stalled (the sink's own retries back off to 30 s). */
export const DEFAULT_STALL_AFTER_MS = 120_000;

export class PipelineHealth implements MetricsSource {
  constructor(
    private readonly budget: Pick<InflightBudget, 'stalledForMs' | 'inUse' | 'limitBytes'>,
    readonly errors: ComponentErrors,
    private readonly stallAfterMs = DEFAULT_STALL_AFTER_MS,
  ) {}

  /** Why records are not moving, or undefined. */
  stalledReason(): string | undefined {
    const stalledMs = this.budget.stalledForMs();
    if (stalledMs < this.stallAfterMs) return undefined;
    return `pipeline stalled: in-flight budget full (${this.budget.inUse}/${this.budget.limitBytes} bytes) with no acknowledgement for ${Math.round(stalledMs / 1000)}s`;
  }

  readiness(): { ready: boolean; reason?: string } {
    const reason = this.stalledReason() ?? this.errors.failingReason();
    return reason === undefined ? { ready: true } : { ready: false, reason };
  }

  describeMetrics(): MetricFamily[] {
    const errors = this.errors;
    return [
      counter(
        'logferry_pipeline_component_errors_total',
        'Parser, transform and sink failures by component (a record a parser or transform threw on is shipped unprocessed, flagged component_error)',
        () => byLabel('component', errors.totals()),
        ['component'],
      ),
      gauge(
        'logferry_pipeline_stalled',
        '1 while the in-flight budget is full with no acknowledgement progress past pipeline.stallAfterMs (what /readyz reports)',
        () => (this.stalledReason() === undefined ? 0 : 1),
      ),
      gauge(
        'logferry_pipeline_stalled_seconds',
        'How long the in-flight budget has been full with no acknowledgement (0 when it is not full)',
        () => this.budget.stalledForMs() / 1000,
      ),
      gauge('logferry_pipeline_component_failing', '1 while some parser, transform or sink fails repeatedly (what /readyz reports)', () =>
        errors.failingReason() === undefined ? 0 : 1,
      ),
    ];
  }
}

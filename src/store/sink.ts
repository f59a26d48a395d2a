/**
 * The local store as the agent's sink: records go to the store's shards (see shards.ts), each a
 * {@link ShardSink} with its own file, writer thread, transactions and retention. A record is
 * acknowledged when its shard commits it; the agent's ordered acknowledgements move a checkpoint only
 * past records every shard has committed.
 */
import type { LogRecord } from '../event/record.js';
import { emptySinkStats, type Sink, type SinkStats } from '../sinks/sink.js';
import type { LocalStore } from './local-store.js';
import { ShardSink, type LocalStoreSinkOptions } from './shard-sink.js';
import { shardOf, STORE_SHARDS } from './shards.js';

export type { LocalStoreSinkOptions } from './shard-sink.js';

export class LocalStoreSink implements Sink {
  readonly name = 'local-store';
  readonly shards: readonly ShardSink[];
  /** records of the write call being routed, per shard (reused: a shard copies what it keeps) */
  private readonly parts: LogRecord[][];

  constructor(options: LocalStoreSinkOptions) {
    // The size limit is the store's: each shard keeps its share.
    this.shards = Array.from({ length: STORE_SHARDS }, (_, shard) => new ShardSink({ ...options, maxBytes: options.maxBytes / STORE_SHARDS, shard }));
    this.parts = this.shards.map(() => []);
  }

  /** The shards' stores, when transactions run on this thread (`worker: false`); for tests. */
  get localStores(): LocalStore[] {
    return this.shards.map((shard) => shard.localStore).filter((store): store is LocalStore => store !== undefined);
  }

  async start(): Promise<void> {
    const started = await Promise.allSettled(this.shards.map((shard) => shard.start()));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) {
      await Promise.allSettled(this.shards.map((shard) => shard.shutdown(0)));
      throw failed.reason;
    }
  }

  write(records: LogRecord[]): void {
    const parts = this.parts;
    for (let i = 0; i < records.length; i++) parts[shardOf(records[i].id)].push(records[i]);
    for (let shard = 0; shard < parts.length; shard++) {
      if (parts[shard].length === 0) continue;
      this.shards[shard].write(parts[shard]);
      parts[shard].length = 0;
    }
  }

  async maintain(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.maintain()));
  }

  async flush(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.flush()));
  }

  async shutdown(deadlineMs?: number): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.shutdown(deadlineMs)));
  }

  stats(): SinkStats {
    const total = emptySinkStats();
    for (const shard of this.shards) {
      const stats = shard.stats();
      total.stored += stats.stored;
      total.duplicates += stats.duplicates;
      total.deadLettered += stats.deadLettered;
      total.failed += stats.failed;
      total.retries += stats.retries;
    }
    return total;
  }

  healthy(): boolean {
    return this.shards.every((shard) => shard.healthy());
  }
}

/**
 * The local store is split into STORE_SHARDS SQLite files, each written by its own writer thread: one
 * SQLite writer tops out at ~45-48k records/s on this project's 2-core bench machine (full-text indexing
 * is most of it), two writers in parallel reached 69-71k in file_to_local_store (three: 67k).
 *
 * Which shard a record goes to is a function of its id alone, so a replayed record (same id) always meets
 * its first copy in the same file and is recognised as a duplicate there. File record ids are
 * `prefix + byte offset` (see file-parser.ts): the shard is the prefix's hash plus the offset's MiB, so one
 * busy file alternates between shards every MiB instead of loading one writer, while the records of a
 * stretch of file (and so lines sharing a timestamp) stay together and in order.
 *
 * Each shard uses its own range of the rowid's slot bits (rowid = µs << SLOT_BITS | slot), so rowids are
 * unique across shards and merged results page without ties. Within one microsecond, shard 0's rows sort
 * first: lines of one file that share a microsecond across a MiB boundary may read back out of order
 * (never lost or doubled).
 */
import { SLOT_BITS } from './schema.js';

export const STORE_SHARDS = 2;
/** bytes of one file that go to the same shard */
const STRETCH_BYTES = 1 << 20;
/** offsets of up to 15 digits are exact doubles */
const MAX_OFFSET_DIGITS = 15;

/** The shard for a record id. */
export function shardOf(id: string, shards = STORE_SHARDS): number {
  if (shards === 1) return 0;
  let end = id.length;
  while (end > 0 && end > id.length - MAX_OFFSET_DIGITS) {
    const c = id.charCodeAt(end - 1);
    if (c < 48 || c > 57) break;
    end--;
  }
  // FNV-1a over the part before the offset
  let hash = 0x811c9dc5;
  for (let i = 0; i < end; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  let offset = 0;
  for (let i = end; i < id.length; i++) offset = offset * 10 + (id.charCodeAt(i) - 48);
  return ((hash >>> 0) + Math.floor(offset / STRETCH_BYTES)) % shards;
}

/** The slots (low rowid bits) a shard's rows use: [first, last]. */
export function slotRange(shard: number, shards = STORE_SHARDS): { first: number; last: number } {
  const span = (1 << SLOT_BITS) / shards;
  return { first: shard * span, last: shard * span + span - 1 };
}

/**
 * LogRecord → local store row. The document is the one every backend stores (DocumentEncoder), minus
 * what is per source: those parts go to the `sources` table once per file and metadata combination.
 */
import { DocumentEncoder } from '../event/document.js';
import type { FileContext, LogRecord, Metadata } from '../event/record.js';
import { timestampMicros, type RowBuffer, type SourceDescriptor } from './local-store.js';
import type { JsonObject } from '../core/json.js';

const NO_METADATA: Metadata = { json: '', fields: { document: {} } };
/** log.file.path is empty in a stored body and filled from the source when read */
const NO_FILE: FileContext = { path: '', pathJson: '""', idPrefix: '', meta: NO_METADATA };

export class RowEncoder {
  private readonly encoder: DocumentEncoder;
  /** one reused record, so encoding a body allocates nothing beyond the string */
  private readonly shadow: LogRecord;
  private readonly keys = new WeakMap<FileContext, Map<Metadata, number>>();
  private lastFile: FileContext | undefined;
  private lastMeta: Metadata | undefined;
  private lastKey = 0;
  private nextKey = 1;

  constructor(options: { jsonKey?: string } = {}) {
    this.encoder = new DocumentEncoder(options);
    this.shadow = {
      id: '',
      timestamp: '',
      message: '',
      stream: undefined,
      level: undefined,
      offset: 0,
      flags: 0,
      file: NO_FILE,
      meta: NO_METADATA,
      json: undefined,
      extra: undefined,
      batch: undefined as never,
    };
  }

  /** Append the row for `record` to `out`; a source seen for the first time is appended to `newSources`. */
  push(record: LogRecord, out: RowBuffer, newSources: SourceDescriptor[]): void {
    const shadow = this.shadow;
    shadow.timestamp = record.timestamp;
    shadow.message = record.message;
    shadow.stream = record.stream;
    shadow.level = record.level;
    shadow.offset = record.offset;
    shadow.flags = record.flags;
    shadow.json = record.json;
    shadow.extra = record.extra;
    const body = this.encoder.encode(shadow);
    shadow.json = undefined;
    shadow.extra = undefined;
    out.push(
      timestampMicros(record.timestamp),
      this.sourceKey(record.file, record.meta, newSources),
      record.level,
      record.stream,
      record.id,
      record.message,
      body,
    );
  }

  private sourceKey(file: FileContext, meta: Metadata, newSources: SourceDescriptor[]): number {
    if (file === this.lastFile && meta === this.lastMeta) return this.lastKey;
    let byMeta = this.keys.get(file);
    if (byMeta === undefined) this.keys.set(file, (byMeta = new Map()));
    let key = byMeta.get(meta);
    if (key === undefined) {
      key = this.nextKey++;
      byMeta.set(meta, key);
      const { document: _document, ...fields } = meta.fields;
      newSources.push({ key, path: file.path, metaJson: meta.json, fields });
    }
    this.lastFile = file;
    this.lastMeta = meta;
    this.lastKey = key;
    return key;
  }
}

/**
 * A stored row back into the full document: the body plus its source's path and metadata. Keys the
 * record's own fields also set win, as they do in the encoder's output (later keys win in JSON.parse).
 */
export function rebuildDocument(body: string, path: string, metaJson: string): JsonObject {
  const doc = JSON.parse(body) as JsonObject;
  if (doc.log?.file !== undefined) doc.log.file.path = path;
  if (metaJson.length > 0) {
    const meta = JSON.parse('{' + metaJson + '}') as Record<string, unknown>;
    for (const key in meta) if (!(key in doc)) doc[key] = meta[key];
  }
  return doc;
}

/**
 * The store's writer thread (see writer.ts): requests from the sink are handled one at a time, in order,
 * so retention and maintenance run between write transactions.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalStore, type FlatRows, type SourceDescriptor } from './local-store.js';
import { Retention, type RetentionOptions } from './retention.js';

interface Request {
  id: number;
  op: 'open' | 'commit' | 'maintain' | 'close';
  rows?: FlatRows;
  sources?: SourceDescriptor[];
}

const options = workerData as RetentionOptions & { dataDir: string; shard: number };
const port = parentPort!;
let store: LocalStore | undefined;
let retention: Retention | undefined;
const log = (message: string) => port.postMessage({ op: 'log', message });

function handle(request: Request): number | undefined {
  switch (request.op) {
    case 'open':
      store = new LocalStore(options.dataDir, { shard: options.shard });
      retention = new Retention(store, options);
      return undefined;
    case 'commit': {
      if (store === undefined || retention === undefined) throw new Error('the local store is not open');
      if (request.rows === undefined) throw new Error('a commit without rows');
      const inserted = store.insert(request.rows, request.sources ?? []);
      retention.afterCommit(inserted, log);
      return inserted;
    }
    case 'maintain':
      retention?.pass(log);
      return undefined;
    case 'close':
      store?.close();
      store = undefined;
      return undefined;
  }
}

port.on('message', (request: Request) => {
  // A commit's buffers go back with the reply, for the sink's next batches (see RowBuffer.recycle).
  const rows = request.rows;
  const transfer = rows === undefined ? [] : [rows.numbers.buffer as ArrayBuffer, rows.text.buffer as ArrayBuffer];
  const buffers = rows === undefined ? undefined : { numbers: rows.numbers, text: rows.text };
  try {
    port.postMessage({ op: 'done', id: request.id, result: handle(request), buffers }, transfer);
  } catch (error) {
    port.postMessage({ op: 'failed', id: request.id, message: (error as Error).message, code: (error as { code?: string }).code, buffers }, transfer);
  }
});

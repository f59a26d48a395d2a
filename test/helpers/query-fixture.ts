/** One data set loaded into both backends, so the same query can be checked to give the same answer. */
import type { FileContext } from '../../src/event/record.js';
import { fileContext, type RecordSpec } from './records.js';

export const QUERY_NODE = 'node-q';

export interface FixtureFile {
  file: FileContext;
  records: RecordSpec[];
}

export function queryFixture(prefix: string): FixtureFile[] {
  const web = fileContext(
    '/var/log/containers/web-1_shop_nginx.log',
    {
      namespace: 'shop',
      podName: 'web-1',
      containerName: 'nginx',
      nodeName: QUERY_NODE,
      labels: { app: 'web', tier: 'frontend', 'app.kubernetes.io/name': 'web' },
    },
    `${prefix}web-`,
  );
  const api = fileContext(
    '/var/log/containers/api-7_billing_api.log',
    { namespace: 'billing', podName: 'api-7', containerName: 'api', nodeName: QUERY_NODE, labels: { app: 'api', tier: 'backend' } },
    `${prefix}api-`,
  );
  const db = fileContext(
    '/var/log/containers/db-0_billing_postgres.log',
    { namespace: 'billing', podName: 'db-0', containerName: 'postgres', nodeName: 'node-other', labels: { app: 'db' } },
    `${prefix}db-`,
  );
  const t = (s: number) => `2026-11-24T10:00:${String(s).padStart(2, '0')}.000000${String(s).padStart(3, '0')}Z`;
  return [
    {
      file: web,
      records: [
        { offset: 0, timestamp: t(1), stream: 'stdout', level: 'info', message: 'GET /healthz 200 in 3ms' },
        { offset: 100, timestamp: t(5), stream: 'stdout', level: 'info', message: 'GET /cart 200 in 12ms' },
        { offset: 200, timestamp: t(9), stream: 'stderr', level: 'error', message: 'upstream connection reset by peer' },
      ],
    },
    {
      file: api,
      records: [
        { offset: 0, timestamp: t(2), stream: 'stdout', level: 'info', message: 'payment accepted order=17', json: { order: 17, user: { id: 'u1' } } },
        {
          offset: 100,
          timestamp: t(6),
          stream: 'stderr',
          level: 'warning',
          message: 'payment declined order=18 card expired',
          json: { order: 18, user: { id: 'u2' } },
        },
        { offset: 200, timestamp: t(10), stream: 'stdout', level: 'info', message: 'connection pool resized to 20' },
      ],
    },
    {
      file: db,
      records: [
        { offset: 0, timestamp: t(3), stream: 'stderr', level: 'error', message: 'could not serialize access due to concurrent update' },
        { offset: 100, timestamp: t(7), stream: 'stdout', level: 'info', message: 'checkpoint complete: wrote 12 buffers' },
      ],
    },
  ];
}

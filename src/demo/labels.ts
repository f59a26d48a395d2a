/**
 * The demo's stand-in for the API server's pod labels: records of the demo's pods get the labels those pods
 * would have in a cluster (generator.ts), unless real Kubernetes metadata already gave them some. One
 * Metadata per file's metadata, built once (WeakMap), as the real enrichment does per pod.
 */
import { metadataFromIdentity } from '../event/metadata.js';
import type { LogRecord, Metadata } from '../event/record.js';
import type { Transform } from '../transforms/transform.js';
import { DEMO_POD_LABELS } from './generator.js';

export function demoLabels(labels: Readonly<Record<string, Readonly<Record<string, string>>>> = DEMO_POD_LABELS): Transform {
  const labelled = new WeakMap<Metadata, Metadata>();
  return {
    name: 'demo-labels',
    process(records: LogRecord[]): LogRecord[] {
      for (const record of records) {
        const fields = record.meta.fields;
        const podLabels = fields.podName === undefined || fields.labels !== undefined ? undefined : labels[fields.podName];
        if (podLabels === undefined) continue;
        let meta = labelled.get(record.meta);
        if (meta === undefined) {
          meta = metadataFromIdentity({
            namespace: fields.namespace,
            podName: fields.podName,
            podUid: fields.podUid,
            containerName: fields.containerName,
            containerId: fields.containerId,
            nodeName: fields.nodeName,
            serviceName: fields.serviceName,
            labels: { ...podLabels },
          });
          labelled.set(record.meta, meta);
        }
        record.meta = meta;
      }
      return records;
    },
  };
}

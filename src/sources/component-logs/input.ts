/**
 * Kubernetes component logs (kubelet, kube-proxy, kube-apiserver, kube-controller-manager, kube-scheduler:
 * glog/klog; docker: logrus). Missing files are fine: the rescan picks them up when they appear.
 */
import { metadataFromIdentity } from '../../event/metadata.js';
import type { FileParserOptions, LogFormat } from '../../parsers/file-parser.js';
import { rooted, unrooted } from '../file/root.js';
import type { FileInput } from '../file/tailer.js';

export interface ComponentFile {
  path: string;
  service: string;
  format: LogFormat;
}

export interface ComponentInputOptions {
  root: string;
  nodeName: string;
  files: ComponentFile[];
  timezone: string;
  parser?: Omit<FileParserOptions, 'file' | 'format'>;
}

export function componentLogsInput(options: ComponentInputOptions): FileInput {
  const byPath = new Map<string, ComponentFile>();
  for (const file of options.files) byPath.set(rooted(options.root, file.path), file);
  return {
    name: 'components',
    patterns: [...byPath.keys()],
    readFrom: 'beginning',
    displayPath: (path) => unrooted(options.root, path),
    describe(path, realPath, stored) {
      const file = byPath.get(path) ?? byPath.get(realPath);
      const service = stored?.service ?? file?.service;
      const format = (stored?.format ?? file?.format) as LogFormat | undefined;
      if (service === undefined || format === undefined) return undefined;
      const meta = metadataFromIdentity({ serviceName: service, nodeName: options.nodeName });
      return {
        meta,
        origin: { service, format },
        parser: { message: 'none', ...options.parser, format, timezone: options.timezone },
      };
    },
  };
}

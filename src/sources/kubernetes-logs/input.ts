/**
 * The container-log input: `/var/log/containers/*.log` under the host root, CRI or docker json-file
 * detected per file, identity from the file name (namespace, pod, container, container id, pod uid).
 */
import { metadataFromIdentity } from '../../event/metadata.js';
import type { FileInput } from '../file/tailer.js';
import { containerOrigin } from './naming.js';
import { rooted, unrooted } from '../file/root.js';
import type { FileParserOptions } from '../../parsers/file-parser.js';
import type { PodMetadataLookup } from '../../kubernetes/metadata-service.js';

export interface ContainerInputOptions {
  root: string;
  nodeName: string;
  patterns: string[];
  readFrom: 'beginning' | 'end';
  parser: Omit<FileParserOptions, 'file' | 'format'>;
  /** per-pod annotations: `logferry.io/parser` and `logferry.io/multiline` override the input's settings */
  pods?: PodMetadataLookup;
}

export function containerLogsInput(options: ContainerInputOptions): FileInput {
  return {
    name: 'containers',
    patterns: options.patterns.map((p) => rooted(options.root, p)),
    readFrom: options.readFrom,
    displayPath: (path) => unrooted(options.root, path),
    opened: (origin) => options.pods?.retain(origin.namespace, origin.podName),
    closed: (origin) => options.pods?.release(origin.namespace, origin.podName),
    describe(path, realPath, stored) {
      const origin = stored ?? (containerOrigin(path, realPath) as Record<string, string> | undefined);
      if (origin === undefined) return undefined;
      const meta = metadataFromIdentity({
        namespace: origin.namespace,
        podName: origin.podName,
        podUid: origin.podUid,
        containerName: origin.containerName,
        containerId: origin.containerId,
        nodeName: options.nodeName,
      });
      const parser: Omit<FileParserOptions, 'file'> = { ...options.parser, format: 'auto' };
      const pod = options.pods?.podOptions(origin.namespace, origin.podName, origin.containerName, origin.podUid);
      if (pod?.parser !== undefined) parser.message = pod.parser;
      if (pod?.multiline !== undefined) parser.multiline = pod.multiline;
      return { meta, origin: { ...origin }, parser };
    },
  };
}

/**
 * Which files the agent reads: the node profile's container and component logs under --root, generic
 * file inputs from the config, the sidecar profile's LOGFERRY_PATHS, or the --input globs that replace them.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/load.js';
import { ENV_VARS } from '../config/env-vars.js';
import { metadataFromIdentity } from '../event/metadata.js';
import { componentLogsInput } from '../sources/component-logs/input.js';
import { rooted, unrooted } from '../sources/file/root.js';
import type { FileInput } from '../sources/file/tailer.js';
import { containerLogsInput } from '../sources/kubernetes-logs/input.js';
import { containerOrigin } from '../sources/kubernetes-logs/naming.js';
import { sidecarInput } from '../sources/file/sidecar.js';
import type { PodMetadataLookup } from '../kubernetes/metadata-service.js';

export interface InputOptions {
  root: string;
  inputGlobs?: string[];
  /** pod annotations (parser, multiline) when Kubernetes metadata is on */
  pods?: PodMetadataLookup;
}

/** `--input GLOB`: any file; container files keep their identity, others are plain or auto-detected. */
function explicitInput(config: Config, globs: string[]): FileInput {
  return {
    name: 'files',
    patterns: globs.map((g) => resolve(g)),
    readFrom: 'beginning',
    displayPath: (path) => path,
    describe(path, realPath, stored) {
      const origin = stored ?? (containerOrigin(path, realPath) as Record<string, string> | undefined) ?? {};
      const meta = metadataFromIdentity({ ...origin, nodeName: config.nodeName });
      return {
        meta,
        origin,
        parser: {
          format: 'auto',
          message: config.inputs.containers.message,
          multiline: config.inputs.containers.multiline,
          // zone-less times in plain files' lines (log4j, syslog, ...)
          timezone: config.inputs.components.timezone,
        },
      };
    },
  };
}

export function buildInputs(config: Config, options: InputOptions): FileInput[] {
  if (options.inputGlobs && options.inputGlobs.length > 0) return [explicitInput(config, options.inputGlobs)];
  if (config.profile === 'sidecar') return [sidecarInput(config, process.env)];
  const inputs: FileInput[] = [];
  const containers = config.inputs.containers;
  if (containers.enabled) {
    inputs.push(
      containerLogsInput({
        root: options.root,
        nodeName: config.nodeName,
        patterns: containers.paths,
        readFrom: containers.readFrom,
        parser: { message: containers.message, multiline: containers.multiline },
        pods: options.pods,
      }),
    );
  }
  const components = config.inputs.components;
  if (components.enabled && components.files.length > 0) {
    inputs.push(
      componentLogsInput({
        root: options.root,
        nodeName: config.nodeName,
        files: components.files.map((f) => ({ path: f.path, service: f.service, format: f.format })),
        timezone: components.timezone,
      }),
    );
  }
  config.inputs.files.forEach((input, index) => {
    inputs.push({
      name: `files-${index}`,
      patterns: input.paths.map((p) => rooted(options.root, p)),
      readFrom: 'beginning',
      displayPath: (path) => unrooted(options.root, path),
      describe: () => ({
        meta: metadataFromIdentity({ nodeName: config.nodeName, serviceName: input.service }),
        origin: serviceOrigin(input.service),
        parser: { format: input.format, message: input.message, multiline: input.multiline, timezone: config.inputs.components.timezone },
      }),
    });
  });
  return inputs;
}

export const SIDECAR_ENV = [ENV_VARS.LOGFERRY_PATHS, ENV_VARS.POD_NAME, ENV_VARS.POD_NAMESPACE, ENV_VARS.POD_UID] as const;

function serviceOrigin(service: string | undefined): Record<string, string> {
  return service ? { service } : {};
}

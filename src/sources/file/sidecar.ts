/**
 * Sidecar profile: the application's own log files on a volume shared with it (`LOGFERRY_PATHS`), with the
 * pod's identity from the Downward API (env and the labels file), so records look like the node agent's.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../cli/errors.js';
import type { Config } from '../../config/load.js';
import { ENV_VARS } from '../../config/env-vars.js';
import { metadataFromIdentity } from '../../event/metadata.js';
import type { FileInput } from './tailer.js';

export const DEFAULT_PODINFO_LABELS = '/etc/podinfo/labels';

/** Downward API files hold `key="value"` lines with Go-style quoting. */
export function parseDownwardApiFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        value = value.slice(1, -1);
      }
    }
    out[key] = value;
  }
  return out;
}

export function sidecarInput(config: Config, env: NodeJS.ProcessEnv): FileInput {
  const paths = (env[ENV_VARS.LOGFERRY_PATHS] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const fromConfig = config.inputs.files.flatMap((f) => f.paths);
  const patterns = [...paths, ...fromConfig].map((p) => resolve(p));
  if (patterns.length === 0) {
    throw new UsageError(`${ENV_VARS.LOGFERRY_PATHS}: the sidecar profile needs the application's log file globs (e.g. /var/log/app/*.log)`);
  }
  let labels: Record<string, string> | undefined;
  const labelsFile = env[ENV_VARS.LOGFERRY_PODINFO_LABELS] ?? DEFAULT_PODINFO_LABELS;
  try {
    labels = parseDownwardApiFile(readFileSync(labelsFile, 'utf8'));
  } catch {
    labels = undefined; // not mounted: identity from env only
  }
  const meta = metadataFromIdentity({
    namespace: env[ENV_VARS.POD_NAMESPACE],
    podName: env[ENV_VARS.POD_NAME],
    podUid: env[ENV_VARS.POD_UID],
    nodeName: env[ENV_VARS.NODE_NAME] ?? config.nodeName,
    containerName: env[ENV_VARS.LOGFERRY_APP_CONTAINER],
    labels,
  });
  const fileConfig = config.inputs.files[0];
  return {
    name: 'sidecar',
    patterns,
    readFrom: 'beginning',
    displayPath: (path) => path,
    describe: () => ({
      meta,
      origin: {},
      // zone-less times in the lines are in components.timezone, as on the node
      parser: {
        format: fileConfig?.format ?? 'plain',
        message: fileConfig?.message ?? 'auto',
        multiline: fileConfig?.multiline,
        timezone: config.inputs.components.timezone,
      },
    }),
  };
}

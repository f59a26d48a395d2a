/**
 * Loading the configuration: YAML file (optional) + environment + command-line overrides, validated in
 * full before anything is read or sent. Every problem becomes a {@link UsageError} (exit 2) naming the
 * key and the value that was wrong.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { z } from 'zod/v3';
import { UsageError } from '../cli/errors.js';
import { ENV_VARS } from './env-vars.js';
import { QUOTES_VALUE } from './problems.js';
import { securityWarnings } from './security-warnings.js';
import { componentInputSchema, containerInputSchema, fileInputSchema, journaldInputSchema, localStoreSchema, pipelineSchema, serverSchema } from './schema.js';
import { configSectionSchemas } from './sections.js';

export const configSchema = z.strictObject({
  /** kubernetes.node.name and host.name of every record; default: NODE_NAME (Downward API), else the host name */
  nodeName: z.string().min(1).optional(),
  /** checkpoints and the local store; --data-dir and LOGFERRY_DATA_DIR win; default /var/lib/logferry in a cluster, else ./logferry-data */
  dataDir: z.string().min(1).optional(),
  /** `node`: a DaemonSet pod reading the node's logs; `sidecar`: beside an application, reading its files (LOGFERRY_PATHS) */
  profile: z.enum(['node', 'sidecar']).default('node'),
  /** what is read: container logs, Kubernetes components' logs, other files, the journal */
  inputs: z
    .strictObject({
      containers: containerInputSchema.default({}),
      components: componentInputSchema.default({}),
      files: z.array(fileInputSchema).default([]),
      journald: journaldInputSchema.default({}),
    })
    .default({}),
  /** the API server the pod metadata comes from */
  kubernetes: configSectionSchemas.kubernetes.optional(),
  /** where records go: Elasticsearch when it has hosts (here or in ELASTICSEARCH_*), else the local store */
  output: z
    .strictObject({
      elasticsearch: configSectionSchemas.elasticsearch.optional(),
      local: localStoreSchema.default({}),
    })
    .default({}),
  pipeline: pipelineSchema.default({}),
  server: serverSchema.default({}),
});

export type FileConfig = z.infer<typeof configSchema>;

const DEFAULT_SERVER_ADDRESS = '127.0.0.1:2020';

export interface LoadOptions {
  configFile?: string;
  env: NodeJS.ProcessEnv;
  /** command-line values that win over the file */
  overrides?: { dataDir?: string; profile?: 'node' | 'sidecar' };
}

export type OutputChoice =
  | { kind: 'elasticsearch'; elasticsearch: NonNullable<Awaited<ReturnType<typeof configSectionSchemas.resolveElasticsearch>>> }
  | { kind: 'local'; local: z.infer<typeof localStoreSchema> };

export interface Config extends Omit<FileConfig, 'output'> {
  nodeName: string;
  dataDir: string;
  output: OutputChoice;
  source: string;
  /** where dataDir came from, for messages about it: `--data-dir`, `LOGFERRY_DATA_DIR`, `FILE: dataDir`, ... */
  dataDirFrom?: string;
  /** lines to show the user (deprecated keys that were ignored, settings that weaken security) */
  warnings?: string[];
}

/** Where state lives by default: /var/lib/logferry in a cluster, ./logferry-data elsewhere. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return env[ENV_VARS.KUBERNETES_SERVICE_HOST] ? '/var/lib/logferry' : 'logferry-data';
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function keyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out || '(top level)';
}

/** One line per problem: `config.yaml: pipeline.maxInflightBytes: expected number, got "lots"`. */
export function formatZodError(error: z.ZodError, input: unknown, sourceName: string): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const where = issue.path.length > 0 ? `${keyPath(issue.path)}: ` : '';
        return `${sourceName}: ${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      if (issue.code === 'custom' && issue.params?.[QUOTES_VALUE]) return `${sourceName}: ${keyPath(issue.path)}: ${issue.message}`;
      const value = valueAt(input, issue.path);
      const shown = value === undefined ? 'nothing' : JSON.stringify(value);
      return `${sourceName}: ${keyPath(issue.path)}: ${issue.message} (got ${shown})`;
    })
    .join('\n');
}

export async function loadConfig(options: LoadOptions): Promise<Config> {
  const configFile = options.configFile ?? options.env[ENV_VARS.LOGFERRY_CONFIG];
  let fileConfig: FileConfig;
  const warnings: string[] = [];
  if (configFile) {
    let text: string;
    try {
      text = await readFile(configFile, 'utf8');
    } catch (error) {
      throw new UsageError(`--config ${configFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    // yaml is loaded only when there is a file: a sidecar without one stays smaller.
    const { parseConfigText } = await import('./parse.js');
    fileConfig = parseConfigText(text, configFile, warnings);
  } else {
    fileConfig = configSchema.parse({});
  }
  const env = options.env;
  const profileFromEnv = env[ENV_VARS.LOGFERRY_PROFILE];
  if (profileFromEnv !== undefined && profileFromEnv !== 'node' && profileFromEnv !== 'sidecar') {
    throw new UsageError(`${ENV_VARS.LOGFERRY_PROFILE}: must be "node" or "sidecar" (got ${JSON.stringify(profileFromEnv)})`);
  }
  const elasticsearch = await configSectionSchemas.resolveElasticsearch(fileConfig.output.elasticsearch, env);
  warnings.push(...securityWarnings({ configFile, fileElasticsearch: fileConfig.output.elasticsearch, fileKubernetes: fileConfig.kubernetes, elasticsearch }));
  const output: OutputChoice = elasticsearch ? { kind: 'elasticsearch', elasticsearch } : { kind: 'local', local: fileConfig.output.local };
  const profile = options.overrides?.profile ?? profileFromEnv ?? fileConfig.profile;
  // A sidecar serves no /metrics unless its config asks for it: it is one of many per node, kept small.
  const serverAddress = profile === 'sidecar' && fileConfig.server.address === DEFAULT_SERVER_ADDRESS && !configFile ? '' : fileConfig.server.address;
  const dataDir: [string, string] =
    options.overrides?.dataDir !== undefined
      ? [options.overrides.dataDir, '--data-dir']
      : env[ENV_VARS.LOGFERRY_DATA_DIR] !== undefined
        ? [env[ENV_VARS.LOGFERRY_DATA_DIR] as string, ENV_VARS.LOGFERRY_DATA_DIR]
        : fileConfig.dataDir !== undefined
          ? [fileConfig.dataDir, `${configFile}: dataDir`]
          : [defaultDataDir(env), 'the default data directory'];
  return {
    ...fileConfig,
    server: { ...fileConfig.server, address: serverAddress },
    profile,
    nodeName: fileConfig.nodeName ?? env[ENV_VARS.NODE_NAME] ?? hostname(),
    dataDir: dataDir[0],
    dataDirFrom: dataDir[1],
    output,
    source: configFile ?? '(defaults)',
    warnings,
  };
}

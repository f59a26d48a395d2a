import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface ManifestsFlags {
  esHost?: string;
  esPort: string;
  esScheme?: string;
  esSecret?: string;
  image?: string;
  namespace: string;
  nodeSelector?: string;
  seedLabels?: boolean;
  journald?: boolean;
  kustomizeDir?: string;
}

/** RFC 1123 label: namespaces and Secret names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** A label key: optional DNS-subdomain prefix, then a name of up to 63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export function parseNodeSelector(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--node-selector: expected key=value[,key=value] (got ${JSON.stringify(value)})`);
    const key = part.slice(0, eq).trim();
    const label = part.slice(eq + 1).trim();
    if (!LABEL_KEY.test(key)) throw new UsageError(`--node-selector: ${JSON.stringify(key)} is not a valid label key`);
    if (!LABEL_VALUE.test(label))
      throw new UsageError(`--node-selector: ${JSON.stringify(label)} is not a valid label value (63 characters, alphanumerics, - _ .)`);
    out[key] = label;
  }
  return out;
}

/** Checks shared by `manifests` and `inject`; returns the port as a number. */
export function checkElasticsearchFlags(flags: { esHost?: string; esPort: string; esScheme?: string; esSecret?: string }): number {
  const port = Number(flags.esPort);
  if (!/^\d+$/.test(flags.esPort) || port < 1 || port > 65535) throw new UsageError(`--es-port: 1-65535 (got ${JSON.stringify(flags.esPort)})`);
  if (flags.esScheme !== undefined && flags.esScheme !== 'http' && flags.esScheme !== 'https')
    throw new UsageError(`--es-scheme: http or https (got ${JSON.stringify(flags.esScheme)})`);
  // The agent takes ELASTICSEARCH_HOST without scheme or port (they have their own variables).
  if (flags.esHost !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(flags.esHost)) {
    throw new UsageError(`--es-host: a host name or address without scheme or port (got ${JSON.stringify(flags.esHost)})`);
  }
  if (flags.esSecret !== undefined && !DNS_SUBDOMAIN.test(flags.esSecret))
    throw new UsageError(`--es-secret: not a valid Secret name (got ${JSON.stringify(flags.esSecret)})`);
  return port;
}

export function register(program: Command): void {
  program
    .command('manifests')
    .description('print ready-to-apply Kubernetes YAML for the node agent (logferry manifests --es-host H | kubectl apply -f -)')
    .option('--es-host <host>', 'Elasticsearch host name or address (ELASTICSEARCH_HOST)')
    .option('--es-port <port>', 'Elasticsearch port (ELASTICSEARCH_PORT)', '9200')
    .option('--es-scheme <scheme>', 'http or https (ELASTICSEARCH_SCHEME); default https with --es-secret (credentials never go out in clear text), else http')
    .option('--es-secret <name>', 'Secret whose keys become env: ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD, ELASTICSEARCH_API_KEY, or ELASTICSEARCH_HOSTS')
    .option('--image <image>', 'container image (default ghcr.io/logferry/logferry:0.1.0)')
    .option('--namespace <namespace>', 'namespace to install into', 'logferry')
    .option('--node-selector <k=v>', 'run only on nodes with these labels (default logferry.io/enabled=true)')
    .option('--seed-labels', 'select nodes by the fluentd-elasticsearch label beta.kubernetes.io/fluentd-ds-ready=true')
    .option('--journald', 'also read the host journal (/var/log/journal)')
    .option('--kustomize-dir <dir>', 'write a kustomize base (one file per object + kustomization.yaml) instead of printing')
    .action(async (flags: ManifestsFlags) => {
      const port = checkElasticsearchFlags(flags);
      if (flags.esHost === undefined && flags.esSecret === undefined && flags.kustomizeDir === undefined) {
        throw new UsageError(
          '--es-host: where is Elasticsearch? Give --es-host HOST [--es-port PORT], or --es-secret NAME for a Secret holding ELASTICSEARCH_HOSTS',
        );
      }
      if (!DNS_LABEL.test(flags.namespace)) throw new UsageError(`--namespace: not a valid namespace name (got ${JSON.stringify(flags.namespace)})`);
      if (flags.image !== undefined && !/^\S+$/.test(flags.image))
        throw new UsageError(`--image: an image reference without spaces (got ${JSON.stringify(flags.image)})`);
      if (flags.seedLabels && flags.nodeSelector !== undefined) throw new UsageError('--seed-labels and --node-selector: give one of them');
      const { buildManifests, SEED_NODE_SELECTOR } = await import('../../deploy/objects.js');
      const { toYamlDocuments, writeKustomizeBase } = await import('../../deploy/render.js');
      const objects = buildManifests({
        esHost: flags.esHost,
        esPort: port,
        esScheme: flags.esScheme as 'http' | 'https' | undefined,
        esSecret: flags.esSecret,
        image: flags.image,
        namespace: flags.namespace,
        nodeSelector: flags.seedLabels ? SEED_NODE_SELECTOR : flags.nodeSelector !== undefined ? parseNodeSelector(flags.nodeSelector) : undefined,
        journald: flags.journald,
      });
      if (flags.kustomizeDir !== undefined) writeKustomizeBase(flags.kustomizeDir, objects);
      else process.stdout.write(toYamlDocuments(objects));
    });
}

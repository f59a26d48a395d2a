import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface ManifestsFlags {
  esHost?: string;
  esPort?: string;
  esScheme?: string;
  esSecret?: string;
  image?: string;
  namespace?: string;
  nodeSelector?: string;
  seedLabels?: boolean;
  journald?: boolean;
  kustomizeDir?: string;
}

export function parseNodeSelector(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--node-selector: expected key=value[,key=value] (got ${JSON.stringify(value)})`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('manifests')
    .description('print ready-to-apply Kubernetes YAML for the node agent (… | kubectl apply -f -)')
    .option('--es-host <host>', 'Elasticsearch host (ELASTICSEARCH_HOST)')
    .option('--es-port <port>', 'Elasticsearch port (ELASTICSEARCH_PORT)', '9200')
    .option('--es-scheme <scheme>', 'http or https', 'http')
    .option('--es-secret <name>', 'Secret with ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD or ELASTICSEARCH_API_KEY')
    .option('--image <image>', 'container image')
    .option('--namespace <namespace>', 'namespace to install into', 'logferry')
    .option('--node-selector <k=v>', 'run only on nodes with these labels (default logferry.io/enabled=true)')
    .option('--seed-labels', 'use the fluentd-elasticsearch label beta.kubernetes.io/fluentd-ds-ready=true')
    .option('--journald', 'also mount /var/log/journal and enable the journald input')
    .option('--kustomize-dir <dir>', 'write a kustomize base (one file per object + kustomization.yaml) instead of printing')
    .action(async (flags: ManifestsFlags) => {
      const port = Number(flags.esPort);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--es-port: 1-65535 (got ${JSON.stringify(flags.esPort)})`);
      if (flags.esScheme !== 'http' && flags.esScheme !== 'https') throw new UsageError(`--es-scheme: http or https (got ${JSON.stringify(flags.esScheme)})`);
      if (flags.esHost !== undefined && !/^[A-Za-z0-9.\-[\]:]+$/.test(flags.esHost)) throw new UsageError(`--es-host: a host name or address (got ${JSON.stringify(flags.esHost)})`);
      const { buildManifests, SEED_NODE_SELECTOR } = await import('../../deploy/objects.js');
      const { toYamlDocuments, writeKustomizeBase } = await import('../../deploy/render.js');
      const objects = buildManifests({
        esHost: flags.esHost,
        esPort: port,
        esScheme: flags.esScheme,
        esSecret: flags.esSecret,
        image: flags.image,
        namespace: flags.namespace,
        nodeSelector: flags.seedLabels ? SEED_NODE_SELECTOR : flags.nodeSelector ? parseNodeSelector(flags.nodeSelector) : undefined,
        journald: flags.journald,
      });
      if (flags.kustomizeDir) writeKustomizeBase(flags.kustomizeDir, objects);
      else process.stdout.write(toYamlDocuments(objects));
    });
}

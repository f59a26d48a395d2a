import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface RunOptions {
  config?: string;
  root: string;
  input?: string[];
  dataDir?: string;
  oneshot?: boolean;
  profile?: string;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the agent: tail log files and ship every line exactly once')
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--root <dir>', "the host's root as mounted; default inputs are read under it", '/')
    .option('--input <glob...>', 'read these files instead of the default inputs')
    .option('--data-dir <dir>', 'checkpoints and the local store (default /var/lib/logferry in a cluster, ./logferry-data elsewhere)')
    .option('--profile <profile>', 'node (DaemonSet) or sidecar (LOGFERRY_PATHS in an application pod)')
    .option('--oneshot', 'read every input to its end, ship, commit checkpoints and exit (non-zero if anything was not delivered)')
    .addHelpText(
      'after',
      [
        '',
        'Without Elasticsearch (ELASTICSEARCH_*), records go to the local store under --data-dir. It keeps a record',
        'for output.local.retentionDays (default 7) days from when it was stored, whatever its own @timestamp, so',
        'old logs read now (--oneshot over last week\'s files) stay searchable that long; over output.local.maxBytes',
        '(default 2 GiB) what was stored first goes first.',
      ].join('\n'),
    )
    .action(async (options: RunOptions) => {
      if (options.profile !== undefined && options.profile !== 'node' && options.profile !== 'sidecar') {
        throw new UsageError(`--profile: must be "node" or "sidecar" (got ${JSON.stringify(options.profile)})`);
      }
      const { loadConfig } = await import('../../config/load.js');
      const config = await loadConfig({
        configFile: options.config,
        env: process.env,
        overrides: { dataDir: options.dataDir, profile: options.profile as 'node' | 'sidecar' | undefined },
      });
      const { claimDataDir, printConfigWarnings } = await import('../data-dir.js');
      printConfigWarnings(config);
      // Before the agent reads anything: a data directory it cannot write, or one another agent uses, is exit 2.
      await claimDataDir(config);
      const { startAgent } = await import('../../agent/agent.js');
      const agent = await startAgent(config, { root: options.root, inputGlobs: options.input, oneshot: options.oneshot });
      const onSignal = (signal: NodeJS.Signals) => {
        void agent.stop(signal);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      process.exitCode = await agent.done;
    });
}

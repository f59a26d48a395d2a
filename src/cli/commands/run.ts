import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface RunOptions {
  config?: string;
  root: string;
  input?: string[];
  dataDir?: string;
  oneshot?: boolean;
  outputTimeout?: string;
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
    .option('--oneshot', 'read every input to its end, ship, commit checkpoints, print a summary line and exit (1 if anything asked was not done)')
    .option('--output-timeout <duration>', 'with --oneshot: give up (exit 1) when the output has been unavailable this long, e.g. 90s, 10m (default 5m)')
    .addHelpText(
      'after',
      [
        '',
        'Without Elasticsearch (ELASTICSEARCH_*), records go to the local store under --data-dir. It keeps a record',
        'for output.local.retentionDays (default 7) days from when it was stored, whatever its own @timestamp, so',
        "old logs read now (--oneshot over last week's files) stay searchable that long; over output.local.maxBytes",
        '(default 2 GiB) what was stored first goes first.',
        '',
        'With --oneshot the last line on stderr sums up the run (stored, dead-lettered, files skipped or unreadable,',
        'records without Kubernetes metadata, lines cut). Exit 0: everything asked was done. Exit 1: the run could not',
        'do all of it: a file could not be opened or was skipped (binary, UTF-16, a parser setting that cannot work),',
        'an --input glob matched no file, records lacked metadata because the API server refused or did not answer,',
        'or the output stayed unavailable past --output-timeout (what was stored stays committed; a rerun continues).',
        'Exit 2: bad configuration or usage.',
      ].join('\n'),
    )
    .action(async (options: RunOptions) => {
      if (options.profile !== undefined && options.profile !== 'node' && options.profile !== 'sidecar') {
        throw new UsageError(`--profile: must be "node" or "sidecar" (got ${JSON.stringify(options.profile)})`);
      }
      let outputTimeoutMs: number | undefined;
      if (options.outputTimeout !== undefined) {
        if (!options.oneshot) throw new UsageError('--output-timeout: only with --oneshot (a running agent waits for its output as long as it takes)');
        const { parseDuration } = await import('../../agent/output-watch.js');
        outputTimeoutMs = parseDuration(options.outputTimeout);
        if (outputTimeoutMs === undefined || outputTimeoutMs <= 0)
          throw new UsageError(`--output-timeout: expected a duration such as 90s or 10m (got ${JSON.stringify(options.outputTimeout)})`);
      }
      const { loadConfig } = await import('../../config/load.js');
      const config = await loadConfig({
        configFile: options.config,
        env: process.env,
        overrides: { dataDir: options.dataDir, profile: options.profile },
      });
      const { claimDataDir, printConfigWarnings } = await import('../data-dir.js');
      printConfigWarnings(config);
      // Before the agent reads anything: a data directory it cannot write, or one another agent uses, is exit 2.
      await claimDataDir(config);
      const { startAgent } = await import('../../agent/agent.js');
      const agent = await startAgent(config, { root: options.root, inputGlobs: options.input, oneshot: options.oneshot, outputTimeoutMs });
      const onSignal = (signal: NodeJS.Signals) => {
        void agent.stop(signal);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      process.exitCode = await agent.done;
    });
}

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

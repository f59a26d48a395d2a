import type { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface DemoOptions {
  dataDir?: string;
  intervalMs: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('generate a live node log tree in a temp dir and run the agent on it (local store, or Elasticsearch when configured)')
    .option('--data-dir <dir>', 'where the local store and checkpoints go (default ./logferry-data)')
    .option('--interval-ms <ms>', 'time between two rounds of generated lines', '250')
    .action(async (options: DemoOptions) => {
      const { loadConfig } = await import('../../config/load.js');
      const { startAgent } = await import('../../agent/agent.js');
      const { DemoNode } = await import('../../demo/generator.js');
      const config = await loadConfig({ env: process.env, overrides: { dataDir: options.dataDir } });
      // The demo runs the agent too: the same data directory checks and lock as `logferry run`.
      await (await import('../data-dir.js')).claimDataDir(config);
      const root = mkdtempSync(join(tmpdir(), 'logferry-demo-'));
      const node = new DemoNode(root);
      node.create();
      for (let i = 0; i < 20; i++) node.tick(5);
      node.start(Number(options.intervalMs));
      const agent = await startAgent({ ...config, server: { address: config.server.address } }, { root });
      const where = config.output.kind === 'local' ? `local store in ${resolve(config.dataDir)}` : 'Elasticsearch';
      const dataDirFlag = options.dataDir ? ` --data-dir ${options.dataDir}` : '';
      process.stderr.write(
        [
          '',
          `logferry demo: a generated node log tree in ${root}`,
          `  shipping container logs (6 pods, CRI and docker), kubelet/kube-proxy and docker logs to the ${where}`,
          '',
          'Try, from this folder in another terminal:',
          `  node bin/logferry.js search --since 15m${dataDirFlag}`,
          `  node bin/logferry.js search 'level:error' -n shop${dataDirFlag}`,
          `  node bin/logferry.js search '"payment declined"' --output json --limit 3${dataDirFlag}`,
          `  node bin/logferry.js tail -f -n billing${dataDirFlag}`,
          agent.metricsPort ? `  curl -s http://127.0.0.1:${agent.metricsPort}/metrics | grep logferry_sink` : '',
          '',
          'Ctrl-C stops the demo (checkpoints are saved; the data stays).',
          '',
        ].join('\n'),
      );
      const stop = (signal: NodeJS.Signals) => {
        node.stop();
        void agent.stop(signal);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.exitCode = await agent.done;
    });
}

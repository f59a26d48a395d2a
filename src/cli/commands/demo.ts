import type { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface DemoOptions {
  dataDir?: string;
  intervalMs: string;
  statusIntervalMs: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('generate a live node log tree in a temp dir and run the agent on it (local store, or Elasticsearch when configured)')
    .option('--data-dir <dir>', 'where the local store and checkpoints go (default ./logferry-data)')
    .option('--interval-ms <ms>', 'time between two rounds of generated lines', '250')
    .option('--status-interval-ms <ms>', 'time between two status lines (records stored, pending, duplicates); 0 for none', '5000')
    .action(async (options: DemoOptions) => {
      const { loadConfig } = await import('../../config/load.js');
      const { startAgent } = await import('../../agent/agent.js');
      const { DemoNode } = await import('../../demo/generator.js');
      const { demoHints, cliCommand, destination, statusLine, stoppingLine } = await import('../../demo/messages.js');
      const { formatDuration } = await import('../../agent/output-watch.js');
      const config = await loadConfig({ env: process.env, overrides: { dataDir: options.dataDir } });
      // The demo runs the agent too: the same data directory checks and lock as `logferry run`.
      await (await import('../data-dir.js')).claimDataDir(config);
      const say = (line: string) => process.stderr.write(line + '\n');
      const root = mkdtempSync(join(tmpdir(), 'logferry-demo-'));
      // The generated tree is scratch: gone however the demo ends (the records and checkpoints stay).
      const removeTree = () => rmSync(root, { recursive: true, force: true });
      process.once('exit', removeTree);
      const node = new DemoNode(root);
      let statusTimer: NodeJS.Timeout | undefined;
      try {
        node.create();
        for (let i = 0; i < 20; i++) node.tick(5);
        node.start(Number(options.intervalMs));
        const { demoLabels } = await import('../../demo/labels.js');
        // No API server in the demo: its pods' labels come from the demo itself, so label selectors work.
        const agent = await startAgent({ ...config, server: { address: config.server.address } }, { root, extraTransforms: [demoLabels()] });
        const hints = demoHints(config, {
          root,
          command: cliCommand(process.argv[1], process.cwd()),
          dataDir: options.dataDir,
          metricsPort: agent.metricsPort,
          shutdownGraceMs: config.pipeline.shutdownGraceMs,
        });
        process.stderr.write(hints.join('\n'));
        const started = Date.now();
        const progress = () => ({ written: node.written, recordsIn: agent.counters.recordsIn, sink: agent.sink.stats() });
        const statusIntervalMs = Number(options.statusIntervalMs);
        if (statusIntervalMs > 0) statusTimer = setInterval(() => say(statusLine(progress(), Date.now() - started)), statusIntervalMs);
        let stopAsked: number | undefined;
        const stop = (signal: NodeJS.Signals) => {
          if (stopAsked !== undefined) {
            // A second Ctrl-C: the person would rather not wait. Unacknowledged records are simply not stored.
            say(`logferry demo: quitting without waiting; removed ${root}`);
            removeTree();
            process.exit(130);
          }
          stopAsked = Date.now();
          clearInterval(statusTimer);
          node.stop();
          say(stoppingLine(config, progress()));
          void agent.stop(signal);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        process.exitCode = await agent.done;
        const tookMs = Date.now() - (stopAsked ?? Date.now());
        removeTree();
        say(
          `${statusLine(progress(), Date.now() - started).replace(/^logferry demo: [^:]+: /, `logferry demo: stopped after ${formatDuration(tookMs)}: `)}; removed ${root}; the records stay in ${destination(config)}`,
        );
      } finally {
        clearInterval(statusTimer);
        node.stop();
        removeTree();
      }
    });
}

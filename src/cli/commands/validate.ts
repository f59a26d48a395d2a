import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('validate')
    .description('check a configuration file and the environment, then exit (0 valid, 2 invalid)')
    .option('-c, --config <file>', 'configuration file (YAML)')
    .action(async (options: { config?: string }) => {
      const { loadConfig } = await import('../../config/load.js');
      const config = await loadConfig({ configFile: options.config, env: process.env });
      const { printConfigWarnings } = await import('../data-dir.js');
      printConfigWarnings(config);
      process.stdout.write(`configuration is valid (output: ${config.output.kind})\n`);
    });
}

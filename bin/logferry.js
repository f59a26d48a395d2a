#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

// A command that failed exits now: something it started before failing (an output's connections, a
// store's threads) must not keep the process alive. Success waits for the event loop to drain as usual.
main(process.argv).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
    if (typeof code === 'number' && code !== 0) process.exit(code);
  },
  (error) => {
    const debug = process.env.LOGFERRY_LOG_LEVEL === 'debug' || process.env.LOGFERRY_LOG_LEVEL === 'trace';
    process.stderr.write(`logferry: ${error instanceof Error ? ((debug ? error.stack : error.message) ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

/**
 * `npm run soak` (via scripts/soak.mjs, which builds first): node dist/test/soak/cli.js --seed N --minutes M.
 * Uses the Elasticsearch in LOGFERRY_TEST_ES_URL, or starts a private one for the run. Exit code 1 when
 * anything was lost, duplicated, cut or shipped without metadata; 2 for bad arguments.
 */
import { parseArgs } from 'node:util';
import { startPrivateElasticsearch, type PrivateElasticsearch } from '../helpers/elasticsearch.js';
import { randomSeed } from './random.js';
import { formatReport } from './report.js';
import { runSoak } from './run.js';

const USAGE = 'usage: npm run soak -- [--seed N] [--minutes M] [--keep]';

async function main(): Promise<number> {
  let values: { seed?: string; minutes?: string; keep?: boolean };
  try {
    ({ values } = parseArgs({ options: { seed: { type: 'string' }, minutes: { type: 'string', default: '10' }, keep: { type: 'boolean', default: false } } }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const seed = values.seed === undefined ? randomSeed() : Number(values.seed);
  const minutes = Number(values.minutes);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    process.stderr.write(`--seed: an integer from 0 to 2^32-1 (got ${JSON.stringify(values.seed)})\n${USAGE}\n`);
    return 2;
  }
  if (!(minutes > 0 && minutes <= 24 * 60)) {
    process.stderr.write(`--minutes: a number of minutes above 0 (got ${JSON.stringify(values.minutes)})\n${USAGE}\n`);
    return 2;
  }
  // The seed first, before anything can fail: it is what replays this run.
  if (process.env.LOGFERRY_SOAK_SEED_PRINTED !== '1') console.log(`soak seed: ${seed}`);
  let es: PrivateElasticsearch | undefined;
  let esUrl = process.env.LOGFERRY_TEST_ES_URL;
  if (!esUrl) {
    const started = Date.now();
    es = await startPrivateElasticsearch();
    esUrl = es.url;
    console.log(`private Elasticsearch at ${esUrl} (up in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  const stop = () => {
    void es?.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  try {
    const result = await runSoak({ seed, minutes, esUrl, keepFiles: values.keep });
    console.log(formatReport(result));
    return result.failed ? 1 : 0;
  } finally {
    await es?.close();
  }
}

process.exitCode = await main();

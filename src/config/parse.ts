/** The configuration file's text → validated config, or a UsageError naming each bad key and value. */
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../cli/errors.js';
import { dropDeprecatedKeys } from './deprecated.js';
import { configSchema, formatZodError, type FileConfig } from './load.js';

/** `warnings` receives one line per deprecated key that was dropped (see ./deprecated.ts). */
export function parseConfigText(text: string, sourceName: string, warnings: string[] = []): FileConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new UsageError(`${sourceName}: not valid YAML: ${(error as Error).message}`);
  }
  warnings.push(...dropDeprecatedKeys(raw, sourceName));
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new UsageError(formatZodError(result.error, raw, sourceName));
  return result.data;
}

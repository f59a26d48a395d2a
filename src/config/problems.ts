/**
 * The parsers' option checks (`timezoneProblem`, `multilineProblem`) as zod issues. Their messages start
 * with the option's own name (`multiline.start: "((" is not a valid regular expression ...`); in the
 * configuration the value sits under a longer key (`inputs.containers.multiline.start`), so the name is
 * turned into the issue's path and formatZodError prints the full key once.
 */
import type { z } from 'zod/v3';

/** Marks an issue whose message already quotes the value: formatZodError adds no `(got ...)`. */
export const QUOTES_VALUE = 'quotesValue';

const KEYED = /^([A-Za-z][\w]*(?:\.[A-Za-z][\w]*)*): ([\s\S]*)$/;

/** Add `problem` (if any) to `ctx`, the sub-key it names (after the option's own name) as the path. */
export function keyedProblem(ctx: z.RefinementCtx, problem: string | undefined): void {
  if (problem === undefined) return;
  const match = KEYED.exec(problem);
  const path = match ? match[1].split('.').slice(1) : [];
  ctx.addIssue({ code: 'custom', path, message: match ? match[2] : problem, params: { [QUOTES_VALUE]: true } });
}

/**
 * How a message is cut into words for search: one definition, so a word finds the same records in the
 * local store and in Elasticsearch. A word is a run of letters, digits, private-use characters and `_`;
 * everything else (spaces, `:`, `.`, `/`, `-`, `=`, ...) separates words; case does not matter.
 *
 * - Local store: SQLite FTS5's unicode61 tokenizer does exactly this (its token characters are the
 *   categories L*, N* and Co, plus `tokenchars '_'`; see store/schema.ts).
 * - Elasticsearch: the index template's `logferry_message` analyzer, a pattern tokenizer whose tokens are
 *   the matches of {@link MESSAGE_WORD_PATTERN}, and a lowercase filter. Elasticsearch's standard tokenizer would keep
 *   `INFO:invoices:rendered` and `example.org` as one token (`:` and `.` join letters in Unicode's word
 *   rules), so `rendered` would be found locally but not there.
 * - The query side uses {@link messageTokens} to know what a word becomes (a prefix of one token, a
 *   phrase of several, or nothing to search for).
 */

/** Java regex: one or more characters that are not part of a word. */
export const MESSAGE_SEPARATOR_PATTERN = '[^\\p{L}\\p{N}\\p{Co}_]+';

/**
 * Java regex (Elasticsearch's pattern tokenizer, whose matches are the tokens): a word, in pieces of at most
 * 255 characters as the standard tokenizer cuts them. Uncut, one long run without a separator (a base64
 * blob, a line of `x` cut at the record size) is a term over Lucene's 32766-byte limit, and Elasticsearch
 * refuses the whole document ("immense term").
 */
export const MESSAGE_WORD_PATTERN = '[\\p{L}\\p{N}\\p{Co}_]{1,255}';

const SEPARATOR = new RegExp(MESSAGE_SEPARATOR_PATTERN, 'u');

/** The words of a text as both backends index them (lowercased). */
export function messageTokens(text: string): string[] {
  return text
    .split(SEPARATOR)
    .filter((token) => token !== '')
    .map((token) => token.toLowerCase());
}

/** The analysis settings of an index whose `message` uses {@link MESSAGE_ANALYZER}. */
export const MESSAGE_ANALYZER = 'logferry_message';

export function messageAnalysisSettings(): Record<string, unknown> {
  return {
    analysis: {
      tokenizer: { logferry_words: { type: 'pattern', pattern: MESSAGE_WORD_PATTERN, group: 0 } },
      analyzer: { [MESSAGE_ANALYZER]: { type: 'custom', tokenizer: 'logferry_words', filter: ['lowercase'] } },
    },
  };
}

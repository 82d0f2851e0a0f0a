import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';

// Special-token spellings such as <|endoftext|> are ordinary text in a context being compressed:
// an empty disallow list makes the tokenizer count them as text instead of throwing.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Exact o200k token count of `text`, treating special-token spellings as plain text. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  return countO200k(text, PLAIN_TEXT);
}

import { writeFileSync } from 'node:fs';
import ranks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { encodeRankTable } from './rank-table.js';

// Run by `npm run build`: writes the o200k rank table next to the built tokens module, so that counting
// tokens in a new process starts with one file read.
writeFileSync(new URL('./o200k-ranks.bin', import.meta.url), encodeRankTable(ranks));

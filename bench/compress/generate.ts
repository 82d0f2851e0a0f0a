import { countTokens } from '../../src/compress/index.js';
import { renderHeader } from '../../src/compress/render.js';
import type { ChatMessage } from '../../src/compress/types.js';
import { createRandom } from '../random.js';

/** A generated context and the spans a compressor must keep. */
export interface Sample {
  /** The input: plain text, or chat messages for every third seed. */
  input: string | ChatMessage[];
  /** Planted critical facts, each expected verbatim (after whitespace normalisation) in the output. */
  critical: string[];
  /** Message metadata (headers) expected verbatim in the output. */
  metadata: string[];
  /** o200k tokens of the rendered input, summed per block (close to the whole-string count). */
  approxTokens: number;
}

const NOUNS = (
  'service cluster worker queue scheduler cache replica shard index pipeline deployment gateway proxy ' +
  'client session request response handler module package library config manifest volume snapshot backup ' +
  'report dashboard metric alert rotation policy team review release branch feature migration schema table ' +
  'record batch stream consumer producer topic partition lease token account tenant region zone node pod ' +
  'container image registry build runner artifact ticket incident owner customer invoice budget roadmap'
).split(' ');
const VERBS = (
  'handles processes forwards rejects retries schedules caches replicates validates rotates compacts ' +
  'publishes consumes throttles drains restarts monitors aggregates reconciles migrates archives indexes ' +
  'serialises batches splits merges tracks reports exports imports refreshes'
).split(' ');
const ADJECTIVES = (
  'stable slow fast stale fresh primary secondary internal external shared dedicated idle busy healthy ' +
  'degraded noisy quiet legacy modern optional mandatory temporary persistent regional global partial'
).split(' ');
const ADVERBS = 'quickly slowly quietly eventually rarely usually carefully silently gradually reliably'.split(' ');
const CONNECTORS = (
  'Meanwhile, | In practice, | As expected, | During the review, | For now, | Historically, | ' +
  'In most cases, | After the last sprint, | On busy days, | According to the team,'
).split(' | ');

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function int(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function hex(random: Random, length: number): string {
  let out = '';
  while (out.length < length) out += Math.floor(random() * 16).toString(16);
  // Guarantee at least one letter and one digit, as a git SHA of that length almost surely has.
  return `a${out.slice(1, -1)}7`;
}

function uuid(random: Random): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function timestamp(random: Random): string {
  const pad = (v: number): string => String(v).padStart(2, '0');
  return `2025-${pad(int(random, 1, 12))}-${pad(int(random, 1, 28))}T${pad(int(random, 0, 23))}:${pad(int(random, 0, 59))}:${pad(int(random, 0, 59))}Z`;
}

function noiseSentence(random: Random): string {
  const subject = `${pick(random, ['The', 'Each', 'Every', 'Our', 'That'])} ${pick(random, ADJECTIVES)} ${pick(random, NOUNS)}`;
  const body = `${pick(random, VERBS)} the ${pick(random, NOUNS)} ${pick(random, ADVERBS)}`;
  const tail =
    random() < 0.5
      ? ` when the ${pick(random, NOUNS)} is ${pick(random, ADJECTIVES)}`
      : ` for the ${pick(random, NOUNS)} team`;
  const lead = random() < 0.25 ? `${pick(random, CONNECTORS)} ` : '';
  const sentence = `${lead}${subject} ${body}${tail}.`;
  return lead === '' ? sentence : sentence.replace(subject, subject.toLowerCase());
}

/** Wrap text at about 80 columns, as an editor or mail client would. */
function wrap(text: string): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line.length + word.length + 1 > 80 && line !== '') {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

interface Block {
  text: string;
  critical: string[];
}

function proseBlock(random: Random): Block {
  const sentences = Array.from({ length: int(random, 3, 7) }, () => noiseSentence(random));
  return { text: wrap(sentences.join(' ')), critical: [] };
}

const LOG_TEMPLATES: Array<(random: Random) => string> = [
  (r) => `INFO [worker-${int(r, 1, 4)}] heartbeat ok, queue depth ${int(r, 0, 9)}`,
  () => 'DEBUG [scheduler] tick complete, nothing to do',
  (r) => `INFO [gateway] accepted connection from pool ${pick(r, ['a', 'b', 'c'])}`,
  () => 'INFO [cache] compaction finished without changes',
  (r) => `DEBUG [replica] lag within bounds, ${int(r, 0, 3)} pending batches`,
  () => 'WARN [client] retrying request after transient failure',
];

function logBlock(random: Random): Block {
  const lines: string[] = [];
  const count = int(random, 10, 40);
  const base = `2025-03-${String(int(random, 1, 28)).padStart(2, '0')}T10:`;
  for (let i = 0; i < count; i++) {
    const time = `${base}${String(int(random, 0, 59)).padStart(2, '0')}:${String(int(random, 0, 59)).padStart(2, '0')}Z`;
    lines.push(`${time} ${pick(random, LOG_TEMPLATES)(random)}`);
  }
  return { text: lines.join('\n'), critical: [] };
}

function jsonBlock(random: Random): Block {
  const items = Array.from({ length: int(random, 2, 6) }, () => ({
    name: `${pick(random, ADJECTIVES)}-${pick(random, NOUNS)}`,
    status: pick(random, ['ok', 'ok', 'ok', 'pending', 'skipped']),
    retries: int(random, 0, 3),
    owner: `${pick(random, NOUNS)} team`,
    enabled: random() < 0.7,
  }));
  const body = { tool: pick(random, ['list_jobs', 'search', 'describe']), total: items.length, items };
  return { text: JSON.stringify(body, null, 2), critical: [] };
}

function codeBlock(random: Random): Block {
  const name = `${pick(random, VERBS).replace(/s$/, '')}${pick(random, NOUNS).replace(/^./, (c) => c.toUpperCase())}`;
  const text = [
    '```ts',
    `export function ${name}(items: string[]): number {`,
    `  const limit = ${int(random, 2, 99)};`,
    '  let total = 0;',
    `  for (const item of items) total += item.length % limit;`,
    '  return total;',
    '}',
    '```',
  ].join('\n');
  return { text, critical: [text] };
}

/** Planted critical facts: each returns the block text and the spans that must survive. */
const FACTS: Array<(random: Random) => Block> = [
  (r) => {
    const line = `2025-03-02T10:11:12Z ERROR [payments] charge ${int(r, 1000, 9999)} declined: upstream returned 502`;
    return { text: line, critical: [line] };
  },
  (r) => {
    const fn = pick(r, ['load_config', 'parse_row', 'connect']);
    const text = [
      'Traceback (most recent call last):',
      `  File "/srv/app/main.py", line ${int(r, 10, 400)}, in <module>`,
      `    ${fn}(path)`,
      `  File "/srv/app/loader.py", line ${int(r, 10, 400)}, in ${fn}`,
      "    raise ValueError(f'bad value {value!r}')",
      `ValueError: bad value 'x${int(r, 10, 99)}'`,
    ].join('\n');
    return { text, critical: [text] };
  },
  (r) => {
    const text = [
      `TypeError: Cannot read properties of undefined (reading 'id${int(r, 1, 99)}')`,
      `    at resolveUser (/app/src/users.js:${int(r, 10, 300)}:17)`,
      `    at async handler (/app/src/routes.js:${int(r, 10, 300)}:5)`,
    ].join('\n');
    return { text, critical: [text] };
  },
  (r) => {
    const text = [
      `panic: runtime error: index out of range [${int(r, 3, 9)}] with length 3`,
      '',
      'goroutine 1 [running]:',
      'main.lookup(...)',
      `\t/home/dev/app/main.go:${int(r, 10, 99)} +0x1d`,
      'main.main()',
      `\t/home/dev/app/main.go:${int(r, 10, 99)} +0x45`,
      'exit status 2',
    ].join('\n');
    return { text, critical: [text] };
  },
  (r) => {
    const text = [
      'error[E0382]: borrow of moved value: `items`',
      ` --> src/main.rs:${int(r, 2, 40)}:20`,
      '  |',
      '3 |     let moved = items;',
      '  |                 ----- value moved here',
      '4 |     println!("{:?}", items);',
      '  |                      ^^^^^ value borrowed here after move',
    ].join('\n');
    return { text, critical: [text] };
  },
  (r) => {
    const text = `thread 'main' panicked at src/lib.rs:${int(r, 2, 90)}:5:\nattempt to subtract with overflow`;
    return { text, critical: [text] };
  },
  (r) => {
    const fact = `The failing job id is ${uuid(r)} and it belongs to the ${pick(r, NOUNS)} team.`;
    return { text: wrap(`${noiseSentence(r)} ${fact} ${noiseSentence(r)}`), critical: [fact] };
  },
  (r) => {
    const fact = `The regression was introduced in commit ${hex(r, 12)} on the release branch.`;
    return { text: wrap(`${noiseSentence(r)} ${fact}`), critical: [fact] };
  },
  (r) => {
    const fact = `Settings live in /etc/omni/${pick(r, NOUNS)}-${int(r, 1, 9)}.conf on every host.`;
    return { text: wrap(`${fact} ${noiseSentence(r)}`), critical: [fact] };
  },
  (r) => {
    const fact = `The runbook is at https://wiki.example.com/runbooks/${pick(r, NOUNS)}-${int(r, 100, 999)} for on-call.`;
    return { text: wrap(`${noiseSentence(r)} ${fact}`), critical: [fact] };
  },
  (r) => {
    const fact = `Each ${pick(r, NOUNS)} gets ${int(r, 2, 64) * 64} MiB of memory and a ${int(r, 5, 90)} s timeout.`;
    return { text: wrap(`${noiseSentence(r)} ${fact} ${noiseSentence(r)}`), critical: [fact] };
  },
  (r) => {
    const fact = `Availability last month was ${int(r, 95, 99)}.${int(r, 0, 9)} % and the bill came to $${int(r, 100, 999)}.${int(r, 10, 99)}.`;
    return { text: wrap(`${fact} ${noiseSentence(r)}`), critical: [fact] };
  },
  (r) => {
    const fact = `DECISION: the ${pick(r, NOUNS)} moves to the ${pick(r, ADJECTIVES)} tier next quarter.`;
    return { text: `${fact}\n${wrap(noiseSentence(r))}`, critical: [fact] };
  },
  (r) => {
    const fact = `Every ${pick(r, NOUNS)} MUST be reviewed by the ${pick(r, NOUNS)} owner before release.`;
    return { text: wrap(`${noiseSentence(r)} ${fact}`), critical: [fact] };
  },
  (r) => {
    const fact = `TODO: remove the ${pick(r, ADJECTIVES)} ${pick(r, NOUNS)} fallback once the migration ends.`;
    return { text: fact, critical: [fact] };
  },
  (r) => {
    const fact = `NOTE: the ${pick(r, NOUNS)} export is REQUIRED for the audit.`;
    return { text: fact, critical: [fact] };
  },
];

/** Adversarial facts: split across lines, near-duplicates differing in one digit, an unterminated fence. */
const ADVERSARIAL: Array<(random: Random) => Block> = [
  (r) => {
    // The quantity itself is broken by the line wrap: "512\nMiB".
    const size = int(r, 2, 16) * 64;
    const text = `The shared ${pick(r, NOUNS)} pool on the primary region is capped at ${size}\nMiB per shard and\nnever grows beyond that.`;
    return { text, critical: [text] };
  },
  (r) => {
    const text = `The ${pick(r, NOUNS)} owner asked that every deploy\nMUST wait for the ${pick(r, NOUNS)} check to pass.`;
    return { text, critical: [text] };
  },
  (r) => {
    const limit = int(r, 100, 899);
    const host = `db-${int(r, 1, 9)}`;
    const first = `Replica lag alarm threshold is ${limit} ms on ${host}.`;
    const second = `Replica lag alarm threshold is ${limit + 1} ms on ${host}.`;
    return { text: `${first}\n${second}`, critical: [first, second] };
  },
  (r) => {
    const code = [`\`\`\`python`, `def retry_budget():`, `    return ${int(r, 2, 9)}`].join('\n');
    const after = `Rollback owner for the ${pick(r, NOUNS)} change: see ticket ${uuid(r)}.`;
    const noise = Array.from({ length: 6 }, () => wrap(noiseSentence(r))).join('\n\n');
    return { text: `${code}\n\n${noise}\n\n${after}`, critical: [code, after] };
  },
];

const ROLES = ['user', 'assistant', 'tool'] as const;

function plainHeader(random: Random): string {
  const role = pick(random, ROLES);
  const style = int(random, 0, 2);
  if (style === 0) return `### ${role} (${timestamp(random)})`;
  if (style === 1) return `[role=${role} timestamp=${timestamp(random)}]`;
  return `${role.charAt(0).toUpperCase()}${role.slice(1)}:`;
}

function nextBlock(random: Random, adversarialRate: number): Block {
  const roll = random();
  if (roll < adversarialRate) return pick(random, ADVERSARIAL)(random);
  if (roll < adversarialRate + 0.07) return pick(random, FACTS)(random);
  if (roll < 0.45) return proseBlock(random);
  if (roll < 0.7) return logBlock(random);
  if (roll < 0.95) return jsonBlock(random);
  return codeBlock(random);
}

/** Generate a reproducible context of about `tokens` o200k tokens from `seed`. */
export function generateSample(seed: number, tokens: number, adversarialRate = 0.01): Sample {
  const random = createRandom(seed);
  const asMessages = seed % 3 === 0;
  const messages: ChatMessage[] = [];
  const blocks: string[] = [];
  const critical: string[] = [];
  const metadata: string[] = [];
  let approxTokens = 0;
  while (approxTokens < tokens) {
    const turnBlocks: string[] = [];
    const blockCount = int(random, 2, 6);
    for (let b = 0; b < blockCount; b++) {
      const block = nextBlock(random, adversarialRate);
      turnBlocks.push(block.text);
      critical.push(...block.critical);
    }
    const content = turnBlocks.join('\n\n');
    if (asMessages) {
      const role = pick(random, ROLES);
      const message: ChatMessage = { role, content, timestamp: timestamp(random) };
      if (role === 'tool') {
        message.name = pick(random, ['search', 'list_jobs', 'read_file']);
        message.toolCallId = `call_${hex(random, 10)}`;
      }
      messages.push(message);
      metadata.push(renderHeader(message));
      approxTokens += countTokens(content) + countTokens(renderHeader(message)) + 2;
    } else {
      const header = plainHeader(random);
      metadata.push(header);
      const block = `${header}\n${content}`;
      blocks.push(block);
      approxTokens += countTokens(block) + 1;
    }
  }
  return { input: asMessages ? messages : blocks.join('\n\n'), critical, metadata, approxTokens };
}

/** One sample per adversarial kind, each padded with noise, for the dedicated adversarial rows. */
export function generateAdversarialSamples(seed: number, tokens: number): Sample[] {
  return ADVERSARIAL.map((make, index) => {
    const random = createRandom(seed * 31 + index);
    const parts: string[] = [];
    const critical: string[] = [];
    let approxTokens = 0;
    let planted = 0;
    while (approxTokens < tokens) {
      const block = planted < 5 && random() < 0.1 ? make(random) : proseBlock(random);
      if (block.critical.length > 0) planted++;
      parts.push(block.text);
      critical.push(...block.critical);
      approxTokens += countTokens(block.text) + 1;
    }
    return { input: parts.join('\n\n'), critical, metadata: [], approxTokens };
  });
}

/** Whitespace-normalised text, the form in which critical spans are compared. */
export function normalise(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

const SUBJECTS = [
  'The stable service',
  'Each busy worker',
  'Our legacy gateway',
  'That shared scheduler',
  'Every idle replica',
];
const VERBS = ['handles', 'forwards', 'retries', 'compacts', 'publishes', 'drains', 'reconciles', 'monitors'];
const OBJECTS = [
  'the pending batches',
  'the session table',
  'the nightly report',
  'the consumer group',
  'the lease queue',
];
const TAILS = ['when traffic is quiet.', 'for the platform team.', 'after the weekly review.', 'without much fuss.'];

/** Deterministic filler prose with no critical content: `count` sentences in paragraphs of four. */
export function noiseProse(count: number, seed = 1): string {
  const sentences: string[] = [];
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % n;
  };
  for (let i = 0; i < count; i++) {
    sentences.push(
      `${SUBJECTS[next(SUBJECTS.length)]} ${VERBS[next(VERBS.length)]} ${OBJECTS[next(OBJECTS.length)]} ${TAILS[next(TAILS.length)]}`,
    );
  }
  const paragraphs: string[] = [];
  for (let i = 0; i < sentences.length; i += 4) paragraphs.push(sentences.slice(i, i + 4).join(' '));
  return paragraphs.join('\n\n');
}

/** Surround `spans` with filler so that keeping all of it is impossible at a tight budget. */
export function embed(spans: readonly string[], fillerPerSpan = 12): string {
  return spans.map((span, index) => `${noiseProse(fillerPerSpan, index + 1)}\n\n${span}`).join('\n\n');
}

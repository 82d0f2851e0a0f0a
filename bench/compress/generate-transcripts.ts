import { countTokens } from '../../src/compress/index.js';
import { createRandom } from '../random.js';

/**
 * A second, independent context generator: plain-text transcripts with header styles, vocabularies, log
 * formats and fact kinds that the first generator never makes. Unit tests use seeds below
 * TRANSCRIPT_BENCH_SEED_BASE; the benchmark uses seeds from it on, which nothing is tuned against.
 */
export const TRANSCRIPT_BENCH_SEED_BASE = 1_000_000;

/** A generated transcript with every planted span labelled by its kind. */
export interface TranscriptSample {
  text: string;
  /** Planted critical spans, each expected verbatim (after whitespace normalisation) in the output. */
  critical: Array<{ kind: TranscriptFactKind; span: string }>;
  /** Every message header line, in order. */
  headers: string[];
}

/** The kinds of planted facts, for recall per kind. */
export const TRANSCRIPT_FACT_KINDS = [
  'sql statement',
  'orchestrator event',
  'journal anomaly',
  'proxy error',
  'C# trace',
  'Ruby trace',
  'PHP trace',
  'Elixir trace',
  'config diff',
  'record',
  'version',
  'date',
  'contact',
] as const;
export type TranscriptFactKind = (typeof TRANSCRIPT_FACT_KINDS)[number];

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
const hex = (random: Random, length: number): string =>
  Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');

const PLACES = 'depot harbour terminal yard hub dock warehouse gate annex quay'.split(' ');
const THINGS = (
  'parcel pallet manifest freight consignment tariff ledger cohort forecast checkpoint notebook embedding ' +
  'carrier courier lane route container customs invoice shipment berth crane trailer'
).split(' ');
const QUALITIES = 'northern southern overnight express bonded refrigerated oversized domestic coastal inland'.split(
  ' ',
);
const ACTIONS = 'weighs sorts labels reroutes loads unloads audits clears inspects books consolidates dispatches'.split(
  ' ',
);
const PEOPLE = 'planners dispatchers brokers auditors analysts drivers clerks modellers'.split(' ');

function proseSentence(random: Random): string {
  const forms: Array<() => string> = [
    () =>
      `Most ${pick(random, QUALITIES)} ${pick(random, THINGS)}s pass the ${pick(random, PLACES)} before the ${pick(random, PEOPLE)} arrive.`,
    () =>
      `The ${pick(random, PLACES)} crew ${pick(random, ACTIONS)} every ${pick(random, THINGS)} it receives, which keeps the ${pick(random, PEOPLE)} calm.`,
    () =>
      `Whenever a ${pick(random, THINGS)} is ${pick(random, QUALITIES)}, somebody ${pick(random, ACTIONS)} it twice just to be sure.`,
    () => `We talked about the ${pick(random, THINGS)} backlog again and agreed it looks ordinary for the season.`,
    () =>
      `I think the ${pick(random, PEOPLE)} would rather see the ${pick(random, QUALITIES)} ${pick(random, THINGS)} summary first.`,
  ];
  return pick(random, forms)();
}

function prose(random: Random): string {
  const sentences = Array.from({ length: int(random, 2, 6) }, () => proseSentence(random));
  // Long unwrapped lines, as chat UIs paste them.
  return sentences.join(' ');
}

function clock(random: Random): { h: number; m: number; s: number } {
  return { h: int(random, 0, 23), m: int(random, 0, 59), s: int(random, 0, 59) };
}

function accessLog(random: Random): string {
  const paths = ['/api/v2/parcels/', '/api/v2/routes/', '/healthz', '/api/v2/lanes/'];
  const agents = ['courier-app/4.2', 'curl/8.5.0', 'depot-scanner/1.9'];
  const count = int(random, 8, 30);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = clock(random);
    const path = pick(random, paths);
    const tail = path.endsWith('/') ? String(int(random, 1000, 99999)) : '';
    lines.push(
      `10.0.${int(random, 0, 9)}.${int(random, 2, 250)} - - [05/Nov/2026:${pad(t.h)}:${pad(t.m)}:${pad(t.s)} +0000] "GET ${path}${tail} HTTP/1.1" 200 ${int(random, 120, 4000)} "-" "${pick(random, agents)}"`,
    );
  }
  return lines.join('\n');
}

const JOURNAL_NOISE: Array<(random: Random) => string> = [
  (r) =>
    `sshd[${int(r, 1000, 9999)}]: Accepted publickey for deploy from 10.0.0.${int(r, 2, 60)} port ${int(r, 30000, 60000)} ssh2`,
  (r) => `systemd[1]: Started Session ${int(r, 10, 999)} of User deploy.`,
  () => 'CRON[2211]: (root) CMD (/usr/local/bin/rotate-manifests)',
  (r) => `ledgerd[${int(r, 100, 999)}]: flushed ${int(r, 10, 900)} entries`,
];

function journal(random: Random, host: string): string[] {
  const count = int(random, 8, 25);
  return Array.from({ length: count }, () => {
    const t = clock(random);
    return `Nov 05 ${pad(t.h)}:${pad(t.m)}:${pad(t.s)} ${host} ${pick(random, JOURNAL_NOISE)(random)}`;
  });
}

const NORMAL_EVENTS: Array<(random: Random, pod: string) => string> = [
  (_r, pod) => `Normal   Scheduled  pod/${pod}  Successfully assigned depot/${pod} to node-${pod.length % 7}`,
  (_r, pod) => `Normal   Pulled     pod/${pod}  Container image "registry.local/router:2.8.1" already present`,
  (_r, pod) => `Normal   Created    pod/${pod}  Created container router`,
  (_r, pod) => `Normal   Started    pod/${pod}  Started container router`,
];

function podName(random: Random): string {
  return `router-${hex(random, 6)}-${hex(random, 4)}`;
}

function events(random: Random): string[] {
  const count = int(random, 6, 20);
  return Array.from({ length: count }, () => {
    const pod = podName(random);
    return `${int(random, 1, 59)}m   ${pick(random, NORMAL_EVENTS)(random, pod)}`;
  });
}

function csvTable(random: Random): string {
  const rows = ['date,place,parcels,on_time_ratio'];
  for (let i = 0; i < int(random, 5, 15); i++) {
    rows.push(
      `2026-11-${pad(int(random, 1, 28))},${pick(random, PLACES)}-${int(random, 1, 9)},${int(random, 100, 900)},0.${int(random, 80, 99)}`,
    );
  }
  return rows.join('\n');
}

function toolJson(random: Random): string {
  const rows = Array.from({ length: int(random, 2, 6) }, () => ({
    sku: `PAL-${pad(int(random, 1, 9999), 4)}`,
    qty: int(random, 1, 40),
    bin: `${pick(random, ['A', 'B', 'C'])}-${pad(int(random, 1, 30))}-${pad(int(random, 1, 9))}`,
    place: pick(random, PLACES),
  }));
  return JSON.stringify({ rows, truncated: false }, null, random() < 0.5 ? 2 : undefined);
}

interface Planted {
  text: string;
  critical: Array<{ kind: TranscriptFactKind; span: string }>;
}

const one = (kind: TranscriptFactKind, text: string, span = text): Planted => ({
  text,
  critical: [{ kind, span }],
});

/** Facts of kinds the first generator never makes, each embedded as it would appear in a transcript. */
const FACTS: Array<(random: Random) => Planted> = [
  (r) => {
    const t = clock(r);
    const span = `2026-11-05 ${pad(t.h)}:${pad(t.m)}:${pad(t.s)} UTC statement: UPDATE consignments SET status = 'held' WHERE lane_id = ${int(r, 100, 9999)} AND booked_at < '2026-11-0${int(r, 1, 4)}';`;
    return one('sql statement', span);
  },
  (r) => {
    const span = [
      `DELETE FROM ${pick(r, THINGS)}_archive`,
      `WHERE created_at < now() - interval '${int(r, 2, 90)} days'`,
      `  AND place = '${pick(r, PLACES)}-${int(r, 1, 9)}';`,
    ].join('\n');
    return one('sql statement', `The cleanup ran this:\n\n${span}`, span);
  },
  (r) => {
    const lines = events(r);
    const pod = podName(r);
    const span = `${int(r, 1, 9)}m   Warning  BackOff    pod/${pod}  Back-off restarting failed container router in pod ${pod}`;
    lines.splice(int(r, 1, lines.length - 1), 0, span);
    return one('orchestrator event', lines.join('\n'), span);
  },
  (r) => {
    const span = `Marking task as UP_FOR_RETRY. dag_id=nightly_${pick(r, THINGS)}, task_id=load_${pick(r, THINGS)}s, execution_date=20261105T${pad(int(r, 0, 23))}0000, try_number=${int(r, 2, 5)}`;
    return one('orchestrator event', span);
  },
  (r) => {
    const host = `${pick(r, PLACES)}-${int(r, 1, 9)}`;
    const lines = journal(r, host);
    const t = clock(r);
    const span = `Nov 05 ${pad(t.h)}:${pad(t.m)}:${pad(t.s)} ${host} kernel: Out of memory: Killed process ${int(r, 1000, 9999)} (ledgerd) total-vm:${int(r, 100000, 999999)}kB, anon-rss:${int(r, 10000, 99999)}kB`;
    lines.splice(int(r, 1, lines.length - 1), 0, span);
    return one('journal anomaly', lines.join('\n'), span);
  },
  (r) => {
    const log = accessLog(r).split('\n');
    const t = clock(r);
    const span = `2026/11/05 ${pad(t.h)}:${pad(t.m)}:${pad(t.s)} [error] 2231#2231: *${int(r, 1000, 99999)} upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.3.${int(r, 2, 250)}, server: api.depot.local, request: "POST /api/v2/customs HTTP/1.1"`;
    log.splice(int(r, 1, log.length - 1), 0, span);
    return one('proxy error', log.join('\n'), span);
  },
  (r) => {
    const span = [
      `System.InvalidOperationException: Sequence contains no elements`,
      `   at System.Linq.ThrowHelper.ThrowNoElementsException()`,
      `   at Depot.Routing.Planner.Assign(Parcel parcel) in /src/Depot/Routing/Planner.cs:line ${int(r, 10, 400)}`,
      `   at Depot.Routing.Worker.RunAsync(CancellationToken token) in /src/Depot/Routing/Worker.cs:line ${int(r, 10, 400)}`,
    ].join('\n');
    return one('C# trace', span);
  },
  (r) => {
    const span = [
      `app/services/ledger_poster.rb:${int(r, 10, 300)}:in 'post': undefined method 'amount' for nil (NoMethodError)`,
      `\tfrom app/jobs/close_day_job.rb:${int(r, 10, 99)}:in 'perform'`,
      `\tfrom /usr/lib/ruby/gems/3.3.0/gems/sidekiq-7.2.0/lib/sidekiq/processor.rb:202:in 'execute_job'`,
    ].join('\n');
    return one('Ruby trace', span);
  },
  (r) => {
    const span = [
      `PHP Fatal error:  Uncaught PDOException: SQLSTATE[HY000] [2002] Connection refused in /var/www/tariffs/src/Repo.php:${int(r, 10, 200)}`,
      'Stack trace:',
      `#0 /var/www/tariffs/src/Repo.php(${int(r, 10, 200)}): PDO->__construct()`,
      '#1 /var/www/tariffs/public/index.php(12): Repo->connect()',
      '#2 {main}',
    ].join('\n');
    return one('PHP trace', span);
  },
  (r) => {
    const span = [
      '** (ArithmeticError) bad argument in arithmetic expression',
      `    (depot 0.4.1) lib/depot/tariff.ex:${int(r, 10, 99)}: Depot.Tariff.apply/2`,
      '    (elixir 1.15.7) lib/enum.ex:1693: Enum."-map/2-lists^map/1-0-"/2',
    ].join('\n');
    return one('Elixir trace', span);
  },
  (r) => {
    const before = int(r, 2, 6);
    const span = [
      '--- a/deploy/router.yaml',
      '+++ b/deploy/router.yaml',
      '@@ -12,7 +12,7 @@ spec:',
      `-  replicas: ${before}`,
      `+  replicas: ${before + int(r, 1, 4)}`,
      '   image: registry.local/router:2.8.1',
    ].join('\n');
    return one('config diff', `Here is the change I pushed:\n\n${span}`, span);
  },
  (r) => {
    const span = `invoice=INV-${int(r, 10000, 99999)} amount=${int(r, 100, 9999)}.${pad(int(r, 0, 99))} currency=EUR status=disputed`;
    return one('record', span);
  },
  (r) => {
    const span = `Customs hold reference CH-${int(r, 10000, 99999)}-${pick(r, ['Q', 'R', 'X'])} must be quoted on every call to the broker.`;
    return one('record', `${proseSentence(r)} ${span} ${proseSentence(r)}`, span);
  },
  (r) => {
    const span = `We rolled the router back from 2.${int(r, 5, 9)}.${int(r, 0, 9)} to 2.${int(r, 0, 4)}.${int(r, 0, 9)} after the canary.`;
    return one('version', `${proseSentence(r)} ${span}`, span);
  },
  (r) => {
    const span = `The freight contract with Nordline renews on 2027-0${int(r, 1, 9)}-1${int(r, 0, 9)} unless cancelled first.`;
    return one('date', `${span} ${proseSentence(r)}`, span);
  },
  (r) => {
    const span = `Escalate to oncall-${pick(r, PLACES)}@nordline.example before 0${int(r, 5, 8)}:00 CET.`;
    return one('contact', `${proseSentence(r)} ${span}`, span);
  },
];

const ROLES = ['user', 'assistant', 'tool'] as const;
type Role = (typeof ROLES)[number];

/** Header styles: each transcript uses one, with fields that vary per message. */
const HEADER_STYLES: Array<(random: Random, role: Role, turn: number) => string> = [
  (r, role) => {
    const t = clock(r);
    const stamp = `2026-11-05T${pad(t.h)}:${pad(t.m)}Z`;
    return role === 'tool'
      ? `### tool:${pick(r, ['sql', 'shell', 'search'])} · call ${hex(r, 6)} · ${stamp}`
      : `### ${role} · ${stamp}`;
  },
  (r, role, turn) => {
    const t = clock(r);
    return `>>> [${pad(t.h)}:${pad(t.m)}:${pad(t.s)}] ${role} (turn ${turn})`;
  },
  (r, role, turn) => {
    const t = clock(r);
    const name = role === 'tool' ? ` | name: ${pick(r, ['warehouse_query', 'fetch_manifest', 'run_shell'])}` : '';
    return `--- message ${pad(turn, 4)} | role: ${role}${name} | 2026-11-05 ${pad(t.h)}:${pad(t.m)} ---`;
  },
  (r, role, turn) => {
    const t = clock(r);
    return `<turn id="t-${pad(turn, 4)}" speaker="${role}" at="2026-11-05T${pad(t.h)}:${pad(t.m)}:${pad(t.s)}Z">`;
  },
  (r, role) => {
    const t = clock(r);
    return `== ${role.toUpperCase()} @ 2026-11-05 ${pad(t.h)}:${pad(t.m)}:${pad(t.s)} ==`;
  },
  (r, role, turn) => {
    const t = clock(r);
    return `[${turn}] ${role === 'tool' ? `TOOL ${hex(r, 8)}` : role.toUpperCase()} ${pad(t.h)}:${pad(t.m)}:${pad(t.s)}`;
  },
];

function noiseBlock(random: Random, role: Role): string {
  const roll = random();
  if (role !== 'tool' && roll < 0.6) return prose(random);
  if (roll < 0.25) return accessLog(random);
  if (roll < 0.45) return journal(random, `${pick(random, PLACES)}-${int(random, 1, 9)}`).join('\n');
  if (roll < 0.6) return events(random).join('\n');
  if (roll < 0.8) return toolJson(random);
  if (roll < 0.9) return csvTable(random);
  return prose(random);
}

/** Generate a reproducible transcript of about `tokens` o200k tokens. */
export function generateTranscript(seed: number, tokens: number, factRate = 0.07): TranscriptSample {
  const random = createRandom(seed * 7919 + 17);
  const style = HEADER_STYLES[seed % HEADER_STYLES.length]!;
  const parts: string[] = [];
  const critical: TranscriptSample['critical'] = [];
  const headers: string[] = [];
  let approxTokens = 0;
  for (let turn = 1; approxTokens < tokens; turn++) {
    const role = pick(random, ROLES);
    const header = style(random, role, turn);
    const blocks: string[] = [];
    for (let b = int(random, 1, 4); b > 0; b--) {
      if (random() < factRate) {
        const fact = pick(random, FACTS)(random);
        blocks.push(fact.text);
        critical.push(...fact.critical);
      } else blocks.push(noiseBlock(random, role));
    }
    const message = `${header}\n${blocks.join('\n\n')}`;
    headers.push(header);
    parts.push(message);
    approxTokens += countTokens(message) + 1;
  }
  return { text: parts.join('\n\n'), critical, headers };
}

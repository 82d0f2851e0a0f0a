import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** How a child's answers are cached. */
const childCacheShape = {
  ttlSeconds: z.number().nonnegative().optional(),
  tools: z
    .record(z.string(), z.union([z.boolean(), z.object({ ttlSeconds: z.number().nonnegative() }).strict()]))
    .optional(),
};

/** Options every child accepts, built-in or external. */
const commonChildShape = {
  enabled: z.boolean().optional(),
  /** `eager`: started with the supervisor; `on-demand`: IDLE (socket listening) until the first request. */
  start: z.enum(['eager', 'on-demand']).optional(),
  /** Stop after this many seconds without clients or requests, back to IDLE; 0 = never. */
  idleStopSeconds: z
    .number()
    .int('idleStopSeconds must be a whole number of seconds')
    .nonnegative('idleStopSeconds must be 0 (never) or more')
    .max(86_400 * 365, 'idleStopSeconds must be at most a year (31536000)')
    .optional(),
  startTimeoutMs: positiveInt.optional(),
  stopTimeoutMs: positiveInt.optional(),
  env: z.record(z.string(), z.string()).optional(),
  cache: z.object(childCacheShape).strict().optional(),
  compress: z
    .object({
      maxResultTokens: positiveInt.optional(),
      tools: z.record(z.string(), z.object({ maxResultTokens: positiveInt }).strict()).optional(),
    })
    .strict()
    .optional(),
  limits: z.object({ maxConcurrency: positiveInt.optional(), timeoutMs: positiveInt.optional() }).strict().optional(),
  priorities: z.record(z.string(), z.enum(['CRITICAL', 'HIGH', 'NORMAL', 'LOW'])).optional(),
};

const builtinChildSchemas = {
  memory: z.object({ ...commonChildShape }).strict(),
  context: z.object({ ...commonChildShape }).strict(),
  thinking: z.object({ ...commonChildShape }).strict(),
  python: z
    .object({
      ...commonChildShape,
      timeoutMs: positiveInt.optional(),
      memoryMb: positiveInt.optional(),
      python: z.string().min(1).optional(),
    })
    .strict(),
  filesystem: z.object({ ...commonChildShape, roots: z.array(z.string().min(1)).optional() }).strict(),
  git: z.object({ ...commonChildShape, repositories: z.array(z.string().min(1)).optional() }).strict(),
  sqlite: z
    .object({ ...commonChildShape, database: z.string().min(1).optional(), readOnly: z.boolean().optional() })
    .strict(),
};

/** The names of the seven built-in children, in start order. */
export const BUILTIN_CHILDREN = ['memory', 'context', 'thinking', 'python', 'filesystem', 'git', 'sqlite'] as const;

/** A built-in child's name. */
export type BuiltinChildName = (typeof BUILTIN_CHILDREN)[number];

const childName = /^[a-z0-9][a-z0-9_-]{0,39}$/;

const externalServerSchema = z
  .object({
    command: z.string().min(1, 'command must not be empty'),
    args: z.array(z.string()).optional(),
    cwd: z.string().optional(),
    type: z.literal('stdio').optional(),
    /** `per-client`: one process per client connection, for servers that keep per-session state. */
    isolation: z.enum(['shared', 'per-client']).optional(),
    /** How many per-client processes may run at once (clients beyond it are refused). */
    maxInstances: z.number().int().min(1).max(1024).optional(),
    /** What a `roots/list` from the child is answered with when no single client can be asked. */
    roots: z.array(z.string().min(1)).optional(),
    ...commonChildShape,
    /** `shared`: its answers depend only on what it is (command, args, env), so a Redis L2 shares them between hosts. */
    cache: z
      .object({ ...childCacheShape, shared: z.boolean().optional() })
      .strict()
      .optional(),
  })
  .strict();

/** Where Redis is and how long a request may wait for it. */
const redisShape = {
  url: z.string().regex(/^(rediss?|redis\+unix):\/\//, 'use redis://host:6379/0, rediss://… or redis+unix:///path'),
  keyPrefix: z.string().optional(),
  timeoutMs: positiveInt.max(10_000, 'timeoutMs is the longest a request waits for Redis: at most 10000').optional(),
  instance: z.string().min(1).optional(),
};

/** The L2 cache: `"sqlite"` (the SQLite file, the default) or `{"redis": {"url": …}}`, shared by several hosts. */
const l2Schema = z.union([z.literal('sqlite'), z.object({ redis: z.object(redisShape).strict() }).strict()]);

/** A profile: several children behind one endpoint, with the tools it shows narrowed by patterns (`*`). */
const profileSchema = z
  .object({
    /** The children it serves, in order (the first claims a URI two of them list); default: every enabled child. */
    children: z.array(z.string().min(1)).min(1, 'a profile needs at least one child').optional(),
    tools: z
      .object({ allow: z.array(z.string().min(1)).optional(), deny: z.array(z.string().min(1)).optional() })
      .strict()
      .optional(),
  })
  .strict();

/** `HOST:PORT` of the HTTP front (`[::1]:PORT` for IPv6). */
const LISTEN = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
/** Hosts whose traffic never leaves this machine. */
const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|\[::1\]|localhost):/;

/** The Streamable HTTP front (off unless `listen` is set). */
const httpSchema = z
  .object({
    listen: z.string().regex(LISTEN, 'use HOST:PORT, e.g. 127.0.0.1:7733').optional(),
    auth: z.enum(['token', 'oauth', 'none']).optional(),
    allowedOrigins: z.array(z.string().min(1)).optional(),
    allowedHosts: z.array(z.string().min(1)).optional(),
    sessionIdleSeconds: z.number().positive().optional(),
    /**
     * On stop, how long `/readyz` fails while requests are still served, for a load balancer to go elsewhere; default:
     * three intervals of whatever checks `/readyz` every 30 s or more often (at most 10 s), none otherwise.
     */
    drainSeconds: z.number().min(0).max(300).optional(),
    maxSessionsPerCredential: positiveInt.optional(),
    /** Slow clients: time to send the headers, the whole request, and between requests on a kept-alive connection. */
    headersTimeoutMs: positiveInt.optional(),
    requestTimeoutMs: positiveInt.optional(),
    keepAliveTimeoutMs: positiveInt.optional(),
    /** Serve `GET /metrics` to anyone who can reach the listener (loopback only). */
    metricsWithoutAuth: z.boolean().optional(),
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    oauth: z
      .object({
        issuer: z.url(),
        audience: z.string().min(1).optional(),
        jwksUri: z.url().optional(),
        scopes: z.record(z.string(), z.array(z.string().min(1))).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((http, context) => {
    if (http.auth === 'none' && http.listen !== undefined && !LOOPBACK.test(http.listen)) {
      context.addIssue({
        code: 'custom',
        path: ['auth'],
        message: '"none" is refused on a non-loopback address: anyone who can reach it could use every child',
      });
    }
    if (http.metricsWithoutAuth === true && http.listen !== undefined && !LOOPBACK.test(http.listen)) {
      context.addIssue({
        code: 'custom',
        path: ['metricsWithoutAuth'],
        message: 'true is refused on a non-loopback address: anyone who can reach it could read the metrics',
      });
    }
    if (http.auth === 'oauth' && http.oauth === undefined) {
      context.addIssue({ code: 'custom', path: ['oauth'], message: '"oauth" needs http.oauth.issuer' });
    }
  });

/** The whole config file. */
export const configSchema = z
  .object({
    $schema: z.string().optional(),
    children: z.object(builtinChildSchemas).partial().strict().optional(),
    mcpServers: z
      .record(z.string().regex(childName, 'use 1-40 lowercase letters, digits, - or _'), externalServerSchema)
      .optional(),
    profiles: z
      .record(z.string().regex(childName, 'use 1-40 lowercase letters, digits, - or _'), profileSchema)
      .optional(),
    cache: z
      .object({
        l1MaxBytes: positiveInt.optional(),
        l2MaxBytes: positiveInt.min(1_048_576, 'the L2 cache needs at least 1 MiB (1048576)').optional(),
        ttlSeconds: z.number().nonnegative().optional(),
        l2: l2Schema.optional(),
      })
      .strict()
      .optional(),
    limiter: z
      .object({
        initialRps: positiveInt.optional(),
        minRps: positiveInt.optional(),
        maxRps: positiveInt.optional(),
        maxQueue: positiveInt.optional(),
        timeoutMs: positiveInt.optional(),
        maxTimeoutMs: positiveInt.optional(),
        maxConcurrency: positiveInt.optional(),
        sampleIntervalMs: positiveInt.optional(),
        clients: z.record(z.string(), z.enum(['CRITICAL', 'HIGH', 'NORMAL', 'LOW'])).optional(),
      })
      .strict()
      .optional(),
    gateway: z
      .object({
        maxFrameBytes: positiveInt.optional(),
        maxConnections: positiveInt.optional(),
        maxConnectionsPerSocket: positiveInt.optional(),
        maxBufferedBytes: positiveInt.optional(),
        frameTimeoutMs: positiveInt.optional(),
      })
      .strict()
      .optional(),
    health: z
      .object({
        pingIntervalMs: positiveInt.optional(),
        maxMissedPings: positiveInt.optional(),
      })
      .strict()
      .optional(),
    logs: z.object({ maxBytes: positiveInt.optional(), keep: positiveInt.optional() }).strict().optional(),
    http: httpSchema.optional(),
    metrics: z.object({ enabled: z.boolean().optional() }).strict().optional(),
    tracing: z
      .object({
        otlpEndpoint: z.string().url("use the collector's OTLP/HTTP URL, e.g. http://localhost:4318"),
        serviceName: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** The parsed config file as written by the user. */
export type RawConfig = z.infer<typeof configSchema>;

/** The `http` section of the config file. */
export type HttpConfig = z.infer<typeof httpSchema>;

/** One profile's section of the config file. */
export type ProfileConfig = z.infer<typeof profileSchema>;

/** Options shared by every child's config section. */
export type CommonChildOptions = z.infer<typeof externalServerSchema>;

/** The Redis L2 a config asks for, in the cache's shape; undefined for the SQLite file. */
export function redisL2Of(
  config: RawConfig,
): ({ kind: 'redis' } & z.infer<z.ZodObject<typeof redisShape>>) | undefined {
  const l2 = config.cache?.l2;
  return typeof l2 === 'object' ? { kind: 'redis', ...l2.redis } : undefined;
}

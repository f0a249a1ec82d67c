import { resolve } from 'node:path';
import { z } from 'zod';
import { parseAllowList } from './plugins/net-guard.ts';
import { durationTooLong, parseDuration } from './util/duration.ts';

const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean),
);
/** Host names, `*.domain`, IPs and CIDRs; a typo would otherwise be ignored without a word. */
const allowList = list.transform((entries, ctx) => {
  for (const entry of parseAllowList(entries).invalid) {
    ctx.addIssue({
      code: 'custom',
      message: `"${entry}" is not a host name, *.domain, IP address or CIDR (like 10.0.0.0/8)`,
    });
  }
  return entries;
});
/** Browser origins (`https://app.example.com`): scheme, host and port only, no path, no `*`. */
const originList = list.transform((entries, ctx) =>
  entries.map((entry) => {
    const origin = asOrigin(entry);
    if (origin === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}" is not an origin; write scheme://host[:port] like https://app.example.com`,
      });
    }
    return origin ?? entry;
  }),
);
const flag = z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
  error: 'write true or false',
});
const bytes = z.string().transform((value, ctx) => {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size; write e.g. 512kb or 1mb` });
    return z.NEVER;
  }
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit] ?? 1;
  return Math.round(Number(m[1]) * factor);
});
const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; write e.g. 30s or 5m` });
    return z.NEVER;
  }
  const tooLong = durationTooLong(value, ms);
  if (tooLong) {
    ctx.addIssue({ code: 'custom', message: tooLong });
    return z.NEVER;
  }
  return ms;
});

/** Every setting Baton reads from the environment, in one place. */
export const envSchema = z.object({
  // 0 picks a free port (tests, several instances on one machine).
  PORT: intFromEnv(0, 65535).default(3000),
  HOST: z.string().min(1).optional(),
  DATABASE_URL: z.url().optional(),
  BATON_DB_PREPARE: flag.default('true'),
  REDIS_URL: z.url().optional(),
  BATON_DATA_DIR: z.string().min(1).default('.baton'),
  BATON_WORKFLOWS_DIR: z.string().min(1).default('workflows'),
  BATON_ACTIONS_DIR: z.string().min(1).default('actions'),
  BATON_API_TOKENS: list.optional(),
  BATON_CORS_ORIGINS: originList.default([]),
  BATON_COOKIE_SECURE: flag.optional(),
  BATON_MASTER_KEY: z.string().min(1).optional(),
  BATON_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'write the address browsers use, like https://baton.example.com' })
    .optional(),
  BATON_OAUTH_FILE: z.string().min(1).optional(),
  BATON_OAUTH_REFRESH_MARGIN: duration.default(5 * 60_000),
  BATON_HTTP_ALLOW: allowList.default([]),
  BATON_FILES_DIR: z.string().min(1).optional(),
  BATON_WORKER_CONCURRENCY: intFromEnv(1, 1000).default(10),
  BATON_QUEUE_PREFIX: z.string().min(1).default('baton'),
  BATON_BODY_LIMIT: bytes.default(1024 * 1024),
  BATON_OUTPUT_LIMIT: bytes.default(256 * 1024),
  BATON_GIT_REMOTE: z.string().min(1).optional(),
  BATON_GIT_BRANCH: z.string().min(1).optional(),
  BATON_GIT_INTERVAL: duration.default(60_000),
  BATON_GIT_COMMIT_URL: z
    .string()
    .refine((v) => v.includes('{sha}'), 'must contain {sha}, e.g. https://github.com/o/r/commit/{sha}')
    .optional(),
  BATON_GIT_WEBHOOK_SECRET: z.string().min(1).optional(),
  BATON_LEASE_TTL: duration.default(3000),
  BATON_SHUTDOWN_GRACE: duration.default(30_000),
  BATON_RECONCILE_INTERVAL: duration.default(5000),
  BATON_SCHEDULER_TICK: duration.default(1000),
  BATON_SCHEDULE_GRACE: duration.default(2000),
  BATON_POLL_TICK: duration.default(1000),
  BATON_POLL_LEASE: duration.default(30_000),
  BATON_POLL_MAX_BACKOFF: duration.default(5 * 60_000),
  BATON_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  /** Named prepared statements on Postgres (off for poolers that cannot keep them). */
  dbPrepare: boolean;
  redisUrl?: string;
  dataDir: string;
  workflowsDir: string;
  actionsDir: string;
  apiTokens: string[];
  /** Browser origins allowed to call /api/* with credentials; empty: no CORS headers at all. */
  corsOrigins: string[];
  /** Whether the login cookie carries `Secure` (HTTPS only). */
  cookieSecure: boolean;
  masterKey?: string;
  /** Where browsers reach Baton; OAuth redirect URIs are made from it (`<url>/connections/callback`). */
  publicUrl: string;
  /** YAML file of OAuth2 providers (see docs/connections.md); `BATON_OAUTH_<PROVIDER>_*` add to it. */
  oauthFile?: string;
  /** A token that expires sooner than this is refreshed before a call. */
  oauthRefreshMarginMs: number;
  httpAllow: string[];
  filesDir: string;
  workerConcurrency: number;
  queuePrefix: string;
  bodyLimitBytes: number;
  /** Cap on one task's stored output and captured stdout/stderr. */
  outputLimitBytes: number;
  /** Git sync (docs/gitops.md): serve keeps `<dataDir>/git` at the branch's tip and loads its `workflows/` and `actions/`. */
  git?: { remote: string; branch: string; intervalMs: number; dir: string; webhookSecret?: string };
  /** Link for a commit, `{sha}` replaced (e.g. `https://github.com/o/r/commit/{sha}`). */
  gitCommitUrl?: string;
  /** How long a worker's claim on a run lasts without a heartbeat; also when idle queue entries are taken over. */
  leaseMs: number;
  /** SIGTERM: how long in-flight runs may finish before they are handed back. */
  shutdownGraceMs: number;
  reconcileIntervalMs: number;
  /** Longest sleep of the scheduler between passes (it also wakes right after each scheduled time). */
  schedulerTickMs: number;
  /** A scheduled time at most this late still fires as on time; older ones were missed (see `catchup`). */
  scheduleGraceMs: number;
  pollTickMs: number;
  /** A poller's lease; an instance that died is replaced after this. */
  pollLeaseMs: number;
  pollMaxBackoffMs: number;
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables whose value may carry a password in its userinfo (`postgres://user:pass@host`). */
const URL_VARS = new Set(['DATABASE_URL', 'REDIS_URL', 'BATON_GIT_REMOTE']);
/** Variables whose value is a secret as a whole. */
const SECRET_VARS = new Set(['BATON_API_TOKENS', 'BATON_MASTER_KEY', 'BATON_GIT_WEBHOOK_SECRET']);

/** How a variable's value may appear in an error: masked, or undefined when it is never shown. */
function shownValue(name: string, value: string): string | undefined {
  if (SECRET_VARS.has(name) || name.startsWith('BATON_SECRET_')) return undefined;
  if (URL_VARS.has(name)) return maskUserinfo(value);
  return value;
}

/**
 * `postgres://baton:***@db/x`. Works on text that failed to parse as a URL too (the case an
 * error is about), so it reads up to the last `@`. A userinfo without a password is masked as
 * a whole, since a token often stands there (`https://<token>@github.com/o/r.git`).
 */
export function maskUserinfo(value: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/@:]*)(:.*)?@/is.exec(value);
  if (!m) return value;
  const rest = value.slice(m[0].length);
  return m[3] === undefined ? `${m[1]}***@${rest}` : `${m[1]}${m[2]}:***@${rest}`;
}

/** `NAME: problem (got "value")`, with URL passwords masked and secret values left out. */
export function configProblem(name: string, message: string, value: string): string {
  const shown = shownValue(name, value);
  // A message that quotes the value must not undo the masking.
  const text = value === '' ? message : message.split(value).join(shown ?? '***');
  return `${name}: ${text}${shown === undefined ? '' : ` (got "${shown}")`}`;
}

/** Pure: the same env always gives the same config. Throws ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(configProblem(name, issue?.message ?? 'invalid value', env[name] ?? ''));
  }
  const e = parsed.data;
  const dataDir = resolve(cwd, e.BATON_DATA_DIR);
  const apiTokens = e.BATON_API_TOKENS ?? [];
  const host = e.HOST ?? (apiTokens.length > 0 ? '0.0.0.0' : '127.0.0.1');
  return {
    port: e.PORT,
    host,
    databaseUrl: e.DATABASE_URL,
    dbPrepare: ['true', '1', 'yes', 'on'].includes(e.BATON_DB_PREPARE),
    redisUrl: e.REDIS_URL,
    dataDir,
    // With git sync the checkout's folders are served instead.
    workflowsDir: e.BATON_GIT_REMOTE
      ? resolve(dataDir, 'git', 'workflows')
      : resolve(cwd, e.BATON_WORKFLOWS_DIR),
    actionsDir: e.BATON_GIT_REMOTE ? resolve(dataDir, 'git', 'actions') : resolve(cwd, e.BATON_ACTIONS_DIR),
    apiTokens,
    corsOrigins: e.BATON_CORS_ORIGINS,
    cookieSecure:
      e.BATON_COOKIE_SECURE === undefined
        ? !LOOPBACK_HOSTS.has(host.toLowerCase())
        : ['true', '1', 'yes', 'on'].includes(e.BATON_COOKIE_SECURE),
    masterKey: e.BATON_MASTER_KEY,
    publicUrl: (
      e.BATON_PUBLIC_URL ?? `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${e.PORT}`
    ).replace(/\/+$/, ''),
    oauthFile: e.BATON_OAUTH_FILE === undefined ? undefined : resolve(cwd, e.BATON_OAUTH_FILE),
    oauthRefreshMarginMs: e.BATON_OAUTH_REFRESH_MARGIN,
    httpAllow: e.BATON_HTTP_ALLOW,
    filesDir: resolve(cwd, e.BATON_FILES_DIR ?? resolve(dataDir, 'files')),
    workerConcurrency: e.BATON_WORKER_CONCURRENCY,
    queuePrefix: e.BATON_QUEUE_PREFIX,
    bodyLimitBytes: e.BATON_BODY_LIMIT,
    outputLimitBytes: e.BATON_OUTPUT_LIMIT,
    git: e.BATON_GIT_REMOTE
      ? {
          remote: e.BATON_GIT_REMOTE,
          branch: e.BATON_GIT_BRANCH ?? 'main',
          intervalMs: e.BATON_GIT_INTERVAL,
          dir: resolve(dataDir, 'git'),
          ...(e.BATON_GIT_WEBHOOK_SECRET ? { webhookSecret: e.BATON_GIT_WEBHOOK_SECRET } : {}),
        }
      : undefined,
    gitCommitUrl: e.BATON_GIT_COMMIT_URL,
    leaseMs: e.BATON_LEASE_TTL,
    shutdownGraceMs: e.BATON_SHUTDOWN_GRACE,
    reconcileIntervalMs: e.BATON_RECONCILE_INTERVAL,
    schedulerTickMs: e.BATON_SCHEDULER_TICK,
    scheduleGraceMs: e.BATON_SCHEDULE_GRACE,
    pollTickMs: e.BATON_POLL_TICK,
    pollLeaseMs: e.BATON_POLL_LEASE,
    pollMaxBackoffMs: e.BATON_POLL_MAX_BACKOFF,
    logLevel: e.BATON_LOG_LEVEL,
  };
}

/** Hosts only this machine can reach: a browser talks plain HTTP to them, so cookies cannot be `Secure`. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * `https://app.example.com` or `http://localhost:5173`, spelled as a browser sends it in `Origin`
 * (lower case, default port dropped); undefined for anything with a path, query, userinfo or `*`.
 */
function asOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    const bare = value.replace(/\/$/, '').toLowerCase();
    const withoutDefaultPort = bare.replace(url.protocol === 'https:' ? /:443$/ : /:80$/, '');
    return url.origin === withoutDefaultPort ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Secrets come from `BATON_SECRET_<NAME>` until the vault is configured. */
export const SECRET_ENV_PREFIX = 'BATON_SECRET_';

export function secretsFromEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(SECRET_ENV_PREFIX) && value !== undefined)
      out[key.slice(SECRET_ENV_PREFIX.length)] = value;
  }
  return out;
}

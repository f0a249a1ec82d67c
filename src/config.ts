import { resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from './util/duration.ts';

const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean),
);
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
  return ms;
});

/** Every setting Baton reads from the environment, in one place. */
export const envSchema = z.object({
  PORT: intFromEnv(1, 65535).default(3000),
  HOST: z.string().min(1).optional(),
  DATABASE_URL: z.url().optional(),
  REDIS_URL: z.url().optional(),
  BATON_DATA_DIR: z.string().min(1).default('.baton'),
  BATON_WORKFLOWS_DIR: z.string().min(1).default('workflows'),
  BATON_ACTIONS_DIR: z.string().min(1).default('actions'),
  BATON_API_TOKENS: list.optional(),
  BATON_MASTER_KEY: z.string().min(1).optional(),
  BATON_HTTP_ALLOW: list.default([]),
  BATON_FILES_DIR: z.string().min(1).optional(),
  BATON_WORKER_CONCURRENCY: intFromEnv(1, 1000).default(10),
  BATON_QUEUE_PREFIX: z.string().min(1).default('baton'),
  BATON_BODY_LIMIT: bytes.default(1024 * 1024),
  BATON_OUTPUT_LIMIT: bytes.default(256 * 1024),
  BATON_GIT_REMOTE: z.string().min(1).optional(),
  BATON_GIT_BRANCH: z.string().min(1).optional(),
  BATON_GIT_INTERVAL: duration.optional(),
  BATON_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  redisUrl?: string;
  dataDir: string;
  workflowsDir: string;
  actionsDir: string;
  apiTokens: string[];
  masterKey?: string;
  httpAllow: string[];
  filesDir: string;
  workerConcurrency: number;
  queuePrefix: string;
  bodyLimitBytes: number;
  /** Cap on one task's stored output and captured stdout/stderr. */
  outputLimitBytes: number;
  git?: { remote: string; branch?: string; intervalMs?: number };
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Pure: the same env always gives the same config. Throws ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`${name}: ${issue?.message ?? 'invalid value'} (got "${env[name] ?? ''}")`);
  }
  const e = parsed.data;
  const dataDir = resolve(cwd, e.BATON_DATA_DIR);
  const apiTokens = e.BATON_API_TOKENS ?? [];
  return {
    port: e.PORT,
    host: e.HOST ?? (apiTokens.length > 0 ? '0.0.0.0' : '127.0.0.1'),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    dataDir,
    workflowsDir: resolve(cwd, e.BATON_WORKFLOWS_DIR),
    actionsDir: resolve(cwd, e.BATON_ACTIONS_DIR),
    apiTokens,
    masterKey: e.BATON_MASTER_KEY,
    httpAllow: e.BATON_HTTP_ALLOW,
    filesDir: resolve(cwd, e.BATON_FILES_DIR ?? resolve(dataDir, 'files')),
    workerConcurrency: e.BATON_WORKER_CONCURRENCY,
    queuePrefix: e.BATON_QUEUE_PREFIX,
    bodyLimitBytes: e.BATON_BODY_LIMIT,
    outputLimitBytes: e.BATON_OUTPUT_LIMIT,
    git: e.BATON_GIT_REMOTE
      ? { remote: e.BATON_GIT_REMOTE, branch: e.BATON_GIT_BRANCH, intervalMs: e.BATON_GIT_INTERVAL }
      : undefined,
    logLevel: e.BATON_LOG_LEVEL,
  };
}

/** Secrets come from `BATON_SECRET_<NAME>` until the vault is configured. */
export function secretsFromEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('BATON_SECRET_') && value !== undefined)
      out[key.slice('BATON_SECRET_'.length)] = value;
  }
  return out;
}

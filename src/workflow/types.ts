import type { InputDecl } from './spec.ts';

export type When = 'on_success' | 'on_failure' | 'always';

export interface RetryPolicy {
  /** Total attempts including the first. */
  attempts: number;
  delayMs: number;
  backoff: 'constant' | 'exponential';
  maxDelayMs: number;
  /** 0 = none, 1 = full jitter (the delay is drawn from [0, delay]). */
  jitter: number;
}

export interface TaskSpec {
  id: string;
  name?: string;
  action: string;
  /** json-e templates; rendered just before the task starts. */
  inputs: Record<string, unknown>;
  dependsOn: string[];
  if?: string | boolean;
  when: When;
  retry: RetryPolicy;
  timeoutMs?: number;
  continueOnError: boolean;
}

export type WebhookVerify = 'none' | 'github' | 'stripe' | 'standard-webhooks' | 'hmac-sha256';

export interface WebhookTrigger {
  verify: WebhookVerify;
  /** The name of the secret holding the signing key (`BATON_SECRET_<NAME>`); set unless verify is none. */
  secret?: string;
  /** Served at `/hooks/<path>` (besides `/hooks/<name>`), e.g. `github/issues`. */
  path?: string;
  /** hmac-sha256 only: the header carrying the signature (lower case), its encoding and prefix. */
  header?: string;
  encoding?: 'hex' | 'base64';
  prefix?: string;
  /** JSON Schema the parsed body must match (422 otherwise). */
  schema?: Record<string, unknown>;
  /** Template over `trigger` whose value dedupes deliveries. */
  idempotencyKey?: string;
}

/** The header `hmac-sha256` reads when the workflow names none. */
export const DEFAULT_HMAC_HEADER = 'x-signature';

export type Overlap = 'skip' | 'queue' | 'allow';
export type Catchup = 'none' | 'latest' | 'all';

export interface ScheduleTrigger {
  /** Names the entry in idempotency keys and scheduler state: `id:` or a hash of cron and timezone. */
  id: string;
  cron: string;
  /** IANA name; UTC unless the file says otherwise. */
  timezone: string;
  /** Becomes the run's `trigger.inputs`. */
  inputs: Record<string, unknown>;
  overlap: Overlap;
  catchup: Catchup;
  /** With catchup `all`: at most this many missed times (the latest ones) start. */
  catchupLimit: number;
}

export interface PollTrigger {
  action: string;
  /** json-e templates over `secrets` and `vars`, rendered before each poll. */
  inputs: Record<string, unknown>;
  intervalMs: number;
  /** Expression over `output` (and `vars`) giving the list of items. */
  items: string;
  /** Expression over `item` giving its identity. */
  key: string;
  fireExisting: boolean;
  timeoutMs: number;
}

export interface Triggers {
  webhook?: WebhookTrigger;
  schedule?: ScheduleTrigger[];
  poll?: PollTrigger;
  manual?: { inputs: Record<string, InputDecl> };
}

export const DEFAULT_CATCHUP_LIMIT = 10;
export const DEFAULT_POLL_TIMEOUT_MS = 30_000;

export interface Workflow {
  name: string;
  description?: string;
  triggers: Triggers;
  concurrency?: { limit: number; onLimit: 'queue' | 'skip' | 'cancel_previous'; key?: string };
  timeoutMs?: number;
  /** Most tasks of one run that may run at once. */
  parallelism: number;
  vars: Record<string, unknown>;
  /** In file order; the executor follows `dependsOn`, not this order. */
  tasks: TaskSpec[];
  /** Where the definition came from; `text` is the file as read, `hash` its sha256. */
  source: { file: string; hash: string; text: string };
}

export const DEFAULT_PARALLELISM = 10;
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 1,
  delayMs: 1000,
  backoff: 'exponential',
  maxDelayMs: 5 * 60_000,
  jitter: 0,
};

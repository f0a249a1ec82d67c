import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type EventSink, FINAL_TASK_STATUSES, type RunEvent, type RunStatus } from '../engine/events.ts';
import type { Logger } from '../log.ts';
import type { Queue } from '../queue/queue.ts';
import type { Db } from '../store/db.ts';
import { runs } from '../store/schema.ts';

export const WEBHOOK_OUTCOMES = [
  'accepted',
  'duplicate',
  'unauthorized',
  'not_found',
  'invalid',
  'too_large',
  'bad_request',
  'conflict',
  /** Baton failed (5xx); not the sender's fault. */
  'error',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/**
 * The webhook gateway's outcome names (`WebhookOutcome['outcome']` in src/api/hooks.ts) as the
 * metric's: `metrics.recordWebhook(o.workflow ?? '', fromGatewayOutcome(o.outcome))`. The gateway's
 * `invalid` is a workflow that cannot take webhooks (409), its `rejected` a body failing the schema (422).
 */
const GATEWAY_OUTCOMES: Record<string, WebhookOutcome> = {
  accepted: 'accepted',
  duplicate: 'duplicate',
  ping: 'accepted',
  unknown: 'not_found',
  invalid: 'conflict',
  misconfigured: 'conflict',
  too_large: 'too_large',
  unauthorized: 'unauthorized',
  malformed: 'bad_request',
  rejected: 'invalid',
  error: 'error',
};

/** The metric outcome for a gateway outcome name; a name it does not know counts as `error`. */
export function fromGatewayOutcome(name: string): WebhookOutcome {
  return GATEWAY_OUTCOMES[name] ?? 'error';
}

/** Statuses a run row can have; each gets a `baton_runs_in_db` sample, 0 when there are none. */
const DB_RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'];
const FINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);
/** Label for names that are not (known to be) a workflow: a 404 path must not mint a series. */
export const UNKNOWN_WORKFLOW = '(unknown)';
/** Runs remembered (run id → workflow) to label task durations; bounded against runs that never end here. */
const MAX_TRACKED_RUNS = 10_000;

export interface MetricsOptions {
  /** For `baton_runs_in_db{status}`, counted at each scrape. */
  db?: Db;
  /** For `baton_queue_depth`, read at each scrape. */
  queue?: Pick<Queue, 'depth'>;
  /** Where failed scrape-time collections are reported. */
  logger?: Logger;
  /** Adds prom-client's process_* and nodejs_* metrics. Default false. */
  defaultMetrics?: boolean;
  /** A scrape-time collection slower than this is skipped. Default 2000. */
  collectTimeoutMs?: number;
}

export interface Metrics {
  registry: Registry;
  /** Fan out the worker's events here: `fanout(storeSink, metrics.sink)`. Never throws. */
  sink: EventSink;
  recordWebhook(workflow: string, outcome: WebhookOutcome): void;
  /** Prometheus text of everything, the scrape-time gauges included. */
  text(): Promise<string>;
  /** `app.get('/metrics', metrics.handler)` */
  handler(c: Context): Promise<Response>;
}

/**
 * Baton's Prometheus metrics, on a registry of their own (tests may make several). Counters and
 * histograms follow events and calls; queue depth and runs by status are read at scrape time, and
 * a source that fails or is slow leaves its gauge out of that scrape instead of failing it.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });

  const runsTotal = new Counter({
    name: 'baton_runs_total',
    help: 'Runs that ended, by workflow and final status.',
    labelNames: ['workflow', 'status'],
    registers,
  });
  const taskDuration = new Histogram({
    name: 'baton_task_duration_seconds',
    help: 'Duration of task attempts that ended, by workflow, action and status.',
    labelNames: ['workflow', 'action', 'status'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers,
  });
  const webhooks = new Counter({
    name: 'baton_webhooks_total',
    help: 'Webhook deliveries, by workflow and outcome.',
    labelNames: ['workflow', 'outcome'],
    registers,
  });
  const collectErrors = new Counter({
    name: 'baton_metrics_collect_errors_total',
    help: 'Scrape-time collections that failed or timed out (their gauge was left out).',
    labelNames: ['collector'],
    registers,
  });

  const workflowOf = new Map<string, string>();
  function remember(runId: string, workflow: string): void {
    if (!workflowOf.has(runId) && workflowOf.size >= MAX_TRACKED_RUNS) {
      const oldest = workflowOf.keys().next().value;
      if (oldest !== undefined) workflowOf.delete(oldest);
    }
    workflowOf.set(runId, workflow);
  }

  const sink: EventSink = {
    emit(event: RunEvent): void {
      try {
        if (event.type === 'run.status') {
          if (FINAL_RUN_STATUSES.has(event.status)) {
            runsTotal.inc({ workflow: event.workflow, status: event.status });
            workflowOf.delete(event.runId);
          } else {
            remember(event.runId, event.workflow);
          }
        } else if (
          event.type === 'task.status' &&
          FINAL_TASK_STATUSES.has(event.status) &&
          event.durationMs !== undefined
        ) {
          const workflow = workflowOf.get(event.runId) ?? UNKNOWN_WORKFLOW;
          taskDuration.observe(
            { workflow, action: event.action, status: event.status },
            event.durationMs / 1000,
          );
        }
      } catch (err) {
        options.logger?.warn({ err }, 'metrics: could not record an event');
      }
    },
  };

  function recordWebhook(workflow: string, outcome: WebhookOutcome): void {
    const name = outcome === 'not_found' || workflow === '' ? UNKNOWN_WORKFLOW : workflow.slice(0, 200);
    webhooks.inc({ workflow: name, outcome });
  }

  const timeoutMs = options.collectTimeoutMs ?? 2000;
  async function collect<T>(collector: string, read: () => Promise<T>): Promise<T | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`took longer than ${timeoutMs}ms`)), timeoutMs);
      });
      return await Promise.race([read(), timeout]);
    } catch (err) {
      collectErrors.inc({ collector });
      options.logger?.warn({ err, collector }, 'metrics: collection failed; gauge left out of this scrape');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Gauges made fresh at each scrape, so one whose source failed is absent rather than stale or 0. */
  async function scrapeRegistry(): Promise<Registry> {
    const scrape = new Registry();
    const { db, queue } = options;
    const [depth, byStatus] = await Promise.all([
      queue ? collect('queue_depth', () => queue.depth()) : undefined,
      db ? collect('runs_in_db', () => countRunsByStatus(db)) : undefined,
    ]);
    if (depth !== undefined) {
      new Gauge({
        name: 'baton_queue_depth',
        help: 'Messages waiting or in flight on the run queue.',
        registers: [scrape],
      }).set(depth);
    }
    if (byStatus !== undefined) {
      const gauge = new Gauge({
        name: 'baton_runs_in_db',
        help: 'Runs in the database, by status.',
        labelNames: ['status'],
        registers: [scrape],
      });
      for (const status of DB_RUN_STATUSES) gauge.set({ status }, 0);
      for (const [status, count] of byStatus) gauge.set({ status }, count);
    }
    return scrape;
  }

  async function text(): Promise<string> {
    const scrape = await scrapeRegistry();
    return `${await registry.metrics()}${await scrape.metrics()}`;
  }

  return {
    registry,
    sink,
    recordWebhook,
    text,
    async handler(c: Context): Promise<Response> {
      return c.body(await text(), 200, { 'Content-Type': registry.contentType });
    },
  };
}

async function countRunsByStatus(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .select({ status: runs.status, count: sql<number>`count(*)::int` })
    .from(runs)
    .groupBy(runs.status);
  return new Map(rows.map((row) => [row.status, Number(row.count)]));
}

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/engine/events.ts';
import { createLogger } from '../../../src/log.ts';
import { createMetrics, fromGatewayOutcome, type Metrics } from '../../../src/metrics/metrics.ts';
import { MemoryQueue } from '../../../src/queue/memory-queue.ts';

const at = '2030-01-01T00:00:00.000Z';

function serve(metrics: Metrics) {
  const app = new Hono();
  app.get('/metrics', metrics.handler);
  return async () => {
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    return res.text();
  };
}

/** The value of one sample line, e.g. `baton_runs_total{workflow="a",status="failed"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const runEvent = (runId: string, workflow: string, status: string): RunEvent =>
  ({ type: 'run.status', runId, workflow, status, at }) as RunEvent;
const taskEvent = (runId: string, status: string, durationMs?: number, action = 'http.request'): RunEvent =>
  ({
    type: 'task.status',
    runId,
    taskId: 't',
    action,
    status,
    attempt: 1,
    at,
    ...(durationMs === undefined ? {} : { durationMs }),
  }) as RunEvent;

describe('createMetrics', () => {
  it('counts runs by final status from run events', async () => {
    const metrics = createMetrics();
    for (const [id, wf, status] of [
      ['r1', 'deploy', 'running'],
      ['r1', 'deploy', 'succeeded'],
      ['r2', 'deploy', 'running'],
      ['r2', 'deploy', 'failed'],
      ['r3', 'deploy', 'succeeded'],
      ['r4', 'nightly', 'timed_out'],
      ['r5', 'nightly', 'running'],
    ] as const) {
      await metrics.sink.emit(runEvent(id, wf, status));
    }
    const text = await serve(metrics)();
    expect(sample(text, 'baton_runs_total{workflow="deploy",status="succeeded"}')).toBe(2);
    expect(sample(text, 'baton_runs_total{workflow="deploy",status="failed"}')).toBe(1);
    expect(sample(text, 'baton_runs_total{workflow="nightly",status="timed_out"}')).toBe(1);
    expect(text).not.toContain('status="running"');
    expect(text).toContain('# TYPE baton_runs_total counter');
  });

  it('observes task attempt durations labelled with the workflow of their run', async () => {
    const metrics = createMetrics();
    await metrics.sink.emit(runEvent('r1', 'deploy', 'running'));
    await metrics.sink.emit(taskEvent('r1', 'running'));
    await metrics.sink.emit(taskEvent('r1', 'failed', 200));
    await metrics.sink.emit(taskEvent('r1', 'succeeded', 1500));
    await metrics.sink.emit(taskEvent('r1', 'succeeded', 40, 'log'));
    await metrics.sink.emit(taskEvent('r1', 'skipped'));
    await metrics.sink.emit(runEvent('r1', 'deploy', 'succeeded'));
    // A task of a run this process never saw start.
    await metrics.sink.emit(taskEvent('r9', 'succeeded', 10));
    const text = await serve(metrics)();
    const base = 'baton_task_duration_seconds';
    const labels = 'workflow="deploy",action="http.request",status="succeeded"';
    expect(sample(text, `${base}_count{${labels}}`)).toBe(1);
    expect(sample(text, `${base}_sum{${labels}}`)).toBe(1.5);
    expect(sample(text, `${base}_bucket{le="1",${labels}}`)).toBe(0);
    expect(sample(text, `${base}_bucket{le="2.5",${labels}}`)).toBe(1);
    expect(sample(text, `${base}_count{workflow="deploy",action="http.request",status="failed"}`)).toBe(1);
    expect(sample(text, `${base}_sum{workflow="deploy",action="log",status="succeeded"}`)).toBe(0.04);
    expect(sample(text, `${base}_count{workflow="(unknown)",action="http.request",status="succeeded"}`)).toBe(
      1,
    );
    expect(text).not.toContain('status="skipped"');
    expect(text).not.toContain('status="running"');
  });

  it('counts webhook outcomes, without a series per unknown path', async () => {
    const metrics = createMetrics();
    metrics.recordWebhook('github-push', 'accepted');
    metrics.recordWebhook('github-push', 'accepted');
    metrics.recordWebhook('github-push', 'duplicate');
    metrics.recordWebhook('github-push', 'unauthorized');
    metrics.recordWebhook('no-such-thing-1', 'not_found');
    metrics.recordWebhook('no-such-thing-2', 'not_found');
    const text = await serve(metrics)();
    expect(sample(text, 'baton_webhooks_total{workflow="github-push",outcome="accepted"}')).toBe(2);
    expect(sample(text, 'baton_webhooks_total{workflow="github-push",outcome="duplicate"}')).toBe(1);
    expect(sample(text, 'baton_webhooks_total{workflow="github-push",outcome="unauthorized"}')).toBe(1);
    expect(sample(text, 'baton_webhooks_total{workflow="(unknown)",outcome="not_found"}')).toBe(2);
    expect(text).not.toContain('no-such-thing');
  });

  it('maps the webhook gateway outcome names onto the metric outcomes', () => {
    expect(fromGatewayOutcome('accepted')).toBe('accepted');
    expect(fromGatewayOutcome('unknown')).toBe('not_found');
    expect(fromGatewayOutcome('malformed')).toBe('bad_request');
    expect(fromGatewayOutcome('rejected')).toBe('invalid');
    expect(fromGatewayOutcome('invalid')).toBe('conflict');
    expect(fromGatewayOutcome('something-new')).toBe('error');
  });

  it('reads the queue depth from a real MemoryQueue at each scrape', async () => {
    const queue = new MemoryQueue();
    const metrics = createMetrics({ queue });
    const scrape = serve(metrics);
    expect(sample(await scrape(), 'baton_queue_depth')).toBe(0);
    await queue.enqueue('run-a');
    await queue.enqueue('run-b');
    await queue.enqueue('run-c');
    const [claimed] = await queue.claim('w1', 1, { blockMs: 0, staleMs: 60_000 });
    expect(sample(await scrape(), 'baton_queue_depth')).toBe(3);
    if (claimed) await queue.ack(claimed);
    expect(sample(await scrape(), 'baton_queue_depth')).toBe(2);
    await queue.close();
  });

  it('leaves a failing or hanging gauge out of the scrape and logs it, without failing /metrics', async () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
    const failing = createMetrics({
      queue: { depth: () => Promise.reject(new Error('redis down')) },
      logger,
    });
    failing.recordWebhook('a', 'accepted');
    const text = await serve(failing)();
    expect(text).not.toMatch(/^baton_queue_depth /m);
    expect(sample(text, 'baton_webhooks_total{workflow="a",outcome="accepted"}')).toBe(1);
    expect(sample(text, 'baton_metrics_collect_errors_total{collector="queue_depth"}')).toBe(1);
    expect(lines.join('')).toContain('redis down');

    const hanging = createMetrics({ queue: { depth: () => new Promise(() => {}) }, collectTimeoutMs: 50 });
    const started = Date.now();
    const slow = await serve(hanging)();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(slow).not.toMatch(/^baton_queue_depth /m);
  });

  it('keeps registries apart, so several instances can live in one process', async () => {
    const a = createMetrics({ defaultMetrics: true });
    const b = createMetrics({ defaultMetrics: true });
    a.recordWebhook('x', 'accepted');
    expect(sample(await a.text(), 'baton_webhooks_total{workflow="x",outcome="accepted"}')).toBe(1);
    expect(await b.text()).not.toContain('workflow="x"');
    expect(await a.text()).toContain('process_cpu_seconds_total');
  });

  it('never lets a bad event escape the sink', () => {
    const metrics = createMetrics();
    const bad = { type: 'task.status', runId: 'r', status: 'failed', durationMs: Number.NaN } as RunEvent;
    expect(() => metrics.sink.emit(bad)).not.toThrow();
  });
});

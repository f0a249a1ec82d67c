/** Reading runs straight from the bench database: precise timings from the run rows themselves. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/store/db.ts';

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/**
 * Polls the run row every `everyMs` until it is final; throws unless it succeeded. The figures come
 * from the row's own timestamps, so the cadence only sets the idle gap between runs; polling more
 * often would take CPU from the processes measured (2 cores).
 */
export async function waitForRun(db: Db, runId: string, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const rows = (await db.execute(sql`select status, error from runs where id = ${runId}`)) as unknown as {
      status: string;
      error: unknown;
    }[];
    const status = rows[0]?.status;
    if (status === 'succeeded') return;
    if (status && FINAL.has(status))
      throw new Error(`run ${runId} ended ${status}: ${JSON.stringify(rows[0]?.error)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`run ${runId} did not finish within ${timeoutMs}ms`);
}

export interface RunTimes {
  /** finished_at − created_at: from the trigger's commit to the run's final commit. */
  totalMs: number;
  /** started_at − created_at: until a worker claimed it (queue delivery + claim). */
  pickupMs: number;
  /** finished_at − started_at: the worker's share. */
  executionMs: number;
}

/** Microsecond-precise intervals computed by Postgres from the run row. */
export async function runTimes(db: Db, runId: string): Promise<RunTimes> {
  const rows = (await db.execute(sql`
    select extract(epoch from finished_at - created_at) * 1000 as total,
           extract(epoch from started_at - created_at) * 1000 as pickup,
           extract(epoch from finished_at - started_at) * 1000 as execution
    from runs where id = ${runId}`)) as unknown as { total: string; pickup: string; execution: string }[];
  const row = rows[0];
  if (!row) throw new Error(`run ${runId} not found`);
  return { totalMs: Number(row.total), pickupMs: Number(row.pickup), executionMs: Number(row.execution) };
}

/** POST /api/workflows/{name}/runs; the new run's id. */
export async function triggerRun(url: string, workflow: string): Promise<string> {
  const res = await fetch(`${url}/api/workflows/${encodeURIComponent(workflow)}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (res.status !== 201) throw new Error(`trigger ${workflow}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { run: { id: string } };
  return body.run.id;
}

/** Pieces of the throughput scenario: the HTTP trigger driver, database checks, and a line fit. */
import type postgres from 'postgres';
import { bounded } from './bullmq-baseline.ts';

/** POSTs runs through the API with at most `inFlight` outstanding; records each answer's latency. */
export function makeDriver(url: string, workflow: string, inFlight: number) {
  const endpoint = `${url}/api/workflows/${workflow}/runs`;
  const state = {
    latencies: [] as number[],
    lastAnswer: 0,
    async trigger(count: number) {
      await bounded(count, inFlight, async () => {
        const t = performance.now();
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        if (res.status !== 201) throw new Error(`trigger answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
        state.latencies.push(performance.now() - t);
        state.lastAnswer = Date.now();
      });
    },
  };
  return state;
}

/** Polls the count of succeeded runs (never per run) until it reaches `target`; fails fast on a failed run. */
export async function waitForRuns(
  sql: postgres.Sql,
  target: number,
  pollMs: number,
  onCount: (ok: number) => void,
): Promise<void> {
  const deadline = Date.now() + 900_000;
  while (Date.now() < deadline) {
    const [row] = await sql<{ ok: number; bad: number }[]>`
      select count(*) filter (where status = 'succeeded')::int as ok,
             count(*) filter (where status in ('failed', 'cancelled', 'timed_out'))::int as bad
      from runs`;
    const ok = row?.ok ?? 0;
    if ((row?.bad ?? 0) > 0) throw new Error(`${row?.bad} run(s) did not succeed`);
    onCount(ok);
    if (ok >= target) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`timed out waiting for ${target} runs to succeed`);
}

/** Every run succeeded, and each has exactly three succeeded task rows. */
export async function verify(sql: postgres.Sql, expected: number): Promise<void> {
  const [r] = await sql<{ total: number; ok: number }[]>`
    select count(*)::int as total, count(*) filter (where status = 'succeeded')::int as ok from runs`;
  const [t] = await sql<{ good: number; rows: number }[]>`
    select count(*) filter (where n = 3 and ok = 3)::int as good, coalesce(sum(n), 0)::int as rows
    from (select run_id, count(*) as n, count(*) filter (where status = 'succeeded') as ok
          from task_runs group by run_id) x`;
  if (r?.total !== expected || r.ok !== expected)
    throw new Error(`expected ${expected} succeeded runs, found ${r?.ok} of ${r?.total}`);
  if (t?.good !== expected || t.rows !== expected * 3)
    throw new Error(`expected 3 succeeded task rows for each of ${expected} runs; ${t?.good} runs have them`);
}

/** Least-squares slope of y over x, and its standard error (NaN with fewer than 3 points). */
export function linearFit(points: number[][]): { slope: number; se: number } {
  const n = points.length;
  if (n < 2) return { slope: Number.NaN, se: Number.NaN };
  const mx = points.reduce((s, p) => s + (p[0] ?? 0), 0) / n;
  const my = points.reduce((s, p) => s + (p[1] ?? 0), 0) / n;
  let num = 0;
  let den = 0;
  for (const [x = 0, y = 0] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  const slope = num / den;
  const residuals = points.reduce((s, [x = 0, y = 0]) => s + (y - my - slope * (x - mx)) ** 2, 0);
  return { slope, se: n > 2 ? Math.sqrt(residuals / (n - 2) / den) : Number.NaN };
}

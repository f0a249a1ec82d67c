/**
 * How long a trivial durable write takes on this machine while a scenario runs: a connection of
 * its own inserts one row (autocommit, so one WAL flush) every `everyMs` and times it. A webhook's
 * 202 waits for its run's commit, so a stall here is a stall of every webhook in flight, whatever
 * Baton does; the ingest tables print it next to the latency it explains.
 */
import postgres from 'postgres';
import { percentile } from './stats.ts';

export interface CommitProbeFigures {
  commits: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Commits that took longer than 20 ms. */
  over20Ms: number;
}

export async function startCommitProbe(databaseUrl: string, everyMs = 20) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await sql`create table if not exists bench_commit_probe (n bigint)`;
  const times: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      await sql`insert into bench_commit_probe values (${times.length})`;
      times.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop(): Promise<CommitProbeFigures> {
      stopped = true;
      try {
        await loop;
      } finally {
        await sql.end();
      }
      return {
        commits: times.length,
        p50Ms: percentile(times, 50),
        p99Ms: percentile(times, 99),
        maxMs: Math.max(0, ...times),
        over20Ms: times.filter((t) => t > 20).length,
      };
    },
  };
}

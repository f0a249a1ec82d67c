import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from './db.ts';

/** Queries only the pages need. */

export interface RecentRun {
  id: string;
  workflow: string;
  status: string;
  createdAt: Date;
}

type Row = { id: string; workflow: string; status: string; created_at: string | Date };

/**
 * The latest `perWorkflow` runs of each named workflow, newest first, in one statement: a lateral
 * subquery per name walks the (workflow, created_at) index, so the cost does not grow with history.
 */
export async function recentRunsByWorkflow(
  db: Db,
  names: readonly string[],
  perWorkflow: number,
): Promise<Map<string, RecentRun[]>> {
  const out = new Map<string, RecentRun[]>(names.map((n) => [n, []]));
  if (names.length === 0) return out;
  const list = sql.join(
    names.map((n) => sql`${n}`),
    sql`, `,
  );
  const result = await db.execute(sql`
    select r.id, w.name as workflow, r.status, r.created_at
    from unnest(array[${list}]::text[]) as w(name)
    cross join lateral (
      select id, status, created_at from runs
      where runs.workflow = w.name
      order by created_at desc, id desc
      limit ${perWorkflow}
    ) r`);
  const rows = rowsOf<Row>(result);
  for (const row of rows) {
    out.get(row.workflow)?.push({
      id: row.id,
      workflow: row.workflow,
      status: row.status,
      createdAt: new Date(row.created_at),
    });
  }
  return out;
}

import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { finishStatement } from '../../../src/store/runs.ts';
import { runs } from '../../../src/store/schema.ts';
import { renderedOnce } from '../../../src/store/statements.ts';

const dialect = new PgDialect();

describe('renderedOnce', () => {
  it('makes the same SQL text and parameters as building the statement each time', () => {
    const build = (json: string, owner: string) =>
      sql`with x as (select * from jsonb_to_recordset(${json}::jsonb) as x(id uuid))
        update ${runs} set lease_owner = ${owner} from x where ${runs.id} = x.id returning ${runs.id}`;
    const once = renderedOnce(build);
    for (const [json, owner] of [
      ['[]', 'w1'],
      ['[{"id":"00000000-0000-7000-8000-000000000001"}]', 'worker $2 with a dollar'],
    ] as const) {
      expect(dialect.sqlToQuery(once(json, owner))).toEqual(dialect.sqlToQuery(build(json, owner)));
    }
  });

  it('refuses a statement that uses a value twice or not as a parameter', () => {
    const twice = renderedOnce((v: string) => sql`select ${v}, ${v}`);
    expect(() => twice('a')).toThrow(/cannot be rendered once/);
  });

  it('keeps the batch statements as drizzle would build them', () => {
    const inputs = [
      { run_id: '00000000-0000-7000-8000-000000000001', fence: 1, owner: 'w', status: 'succeeded' as const },
    ];
    const query = dialect.sqlToQuery(finishStatement(inputs));
    expect(query.params).toEqual([JSON.stringify(inputs)]);
    expect(query.sql).toContain('update "runs" set');
    expect(query.sql.match(/\$\d+/g)).toEqual(['$1']);
  });
});

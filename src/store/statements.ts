import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';

const dialect = new PgDialect();

/**
 * A statement of the hot path rendered to SQL text once. drizzle otherwise walks the whole
 * template (every column reference, every nested fragment) each time it is sent, which cost a
 * worker more than serializing the rows it writes. `build` makes the statement from stand-in
 * values; the returned function makes the same statement for real values, given in the order
 * their parameters appear.
 */
export function renderedOnce<A extends unknown[]>(build: (...values: A) => SQL): (...values: A) => SQL {
  let parts: string[] | undefined;
  return (...values) => {
    if (!parts) {
      const query = dialect.sqlToQuery(build(...values));
      const split = query.sql.split(/\$\d+/);
      // Every value a parameter, each used once and in order: anything else cannot be reused.
      if (split.length !== values.length + 1 || query.params.length !== values.length) {
        throw new Error(
          `statement cannot be rendered once: ${values.length} values, ${query.params.length} parameters`,
        );
      }
      parts = split;
    }
    return sql(parts as unknown as TemplateStringsArray, ...values);
  };
}

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Arbitrary key of the advisory lock held while migrating. */
const MIGRATION_LOCK = 7_426_001;

export const MIGRATIONS_DIR = resolve(import.meta.dirname, '../../migrations');

export interface Store {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Applies pending migrations; safe to call at every start and from several processes. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl?: string;
  dataDir: string;
  /** Connections in the pool (Postgres only). */
  max?: number;
}

/** Postgres when a URL is given, else PGlite under the data directory: same schema, same migrations. */
export function openStore(options: StoreOptions): Store {
  if (options.databaseUrl) {
    const client = postgres(options.databaseUrl, {
      max: options.max ?? 10,
      onnotice: () => {},
      // Fail fast while Postgres restarts; callers retry with backoff.
      connect_timeout: 5,
    });
    const db = drizzlePostgres(client, { schema }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      async migrate() {
        // serve and workers may start together on a fresh database: one migrates, the others wait.
        // The lock is held on a connection of its own, so a pool of one connection can still migrate.
        const lock = postgres(options.databaseUrl as string, {
          max: 1,
          onnotice: () => {},
          connect_timeout: 5,
        });
        try {
          await lock`select pg_advisory_lock(${MIGRATION_LOCK})`;
          await migratePostgres(db as never, { migrationsFolder: MIGRATIONS_DIR });
        } finally {
          await lock`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
          await lock.end({ timeout: 5 });
        }
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const dir = resolve(options.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    migrate: () => migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR }),
    close: () => client.close(),
  };
}

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
  /**
   * Use named prepared statements (Postgres only; default true). Off for poolers that cannot keep
   * them (PgBouncer in transaction mode before 1.21).
   */
  prepare?: boolean;
}

/** Statements with more parameters than this (bulk inserts of varying size) are not kept prepared. */
const PREPARE_MAX_PARAMS = 64;

/**
 * drizzle sends every query through `unsafe` unprepared, so Postgres parses and plans it each
 * time and postgres.js spends an extra round trip describing it. Preparing the parameterized ones
 * (their text is fixed per query shape, so the per-connection cache stays small) saves both.
 */
export function preparing(client: postgres.Sql): postgres.Sql {
  const unsafe = (query: string, params?: unknown[], options?: { prepare?: boolean }) => {
    const count = params?.length ?? 0;
    // A query without parameters may hold several statements (migrations), which cannot be prepared.
    const prepare = count > 0 && count <= PREPARE_MAX_PARAMS;
    return client.unsafe(query, params as never, { ...options, prepare });
  };
  return new Proxy(client, {
    get: (target, prop, receiver) => (prop === 'unsafe' ? unsafe : Reflect.get(target, prop, receiver)),
  });
}

/**
 * The connections for the group-committed statements of the hot path (run inserts, claims, task
 * results, finishes, heartbeats), by the store's main Db. See `hotDb`.
 */
const hotDbs = new WeakMap<Db, Db>();

/**
 * Where the hot path's batch statements go: a small pool of its own on Postgres, else `db` itself.
 * Planning those statements (a JSON parameter unpacked by jsonb_to_recordset, a CTE, an upsert) cost
 * more Postgres CPU than executing them, so this pool keeps each one's generic plan (planned once
 * per connection). A generic plan made while `runs` was small would be a sequential scan forever,
 * hence `enable_seqscan=off` there: every one of these statements finds its rows by primary or
 * unique key (a test checks their plans), and only these statements run on this pool.
 */
export function hotDb(db: Db): Db {
  return hotDbs.get(db) ?? db;
}

/** The rows of `db.execute()`: postgres.js answers an array of rows, PGlite an object holding them. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? [])) as T[];
}

/** Postgres when a URL is given, else PGlite under the data directory: same schema, same migrations. */
export function openStore(options: StoreOptions): Store {
  if (options.databaseUrl) {
    const prepare = options.prepare !== false;
    const client = postgres(options.databaseUrl, {
      max: options.max ?? 10,
      onnotice: () => {},
      // Fail fast while Postgres restarts; callers retry with backoff.
      connect_timeout: 5,
      // A prepared statement's generic plan is made once per connection, often while the tables are
      // still small (a sequential scan is cheapest then) and kept as they grow. Planning each
      // execution for the parameters and table sizes of the moment keeps index lookups index lookups.
      ...(prepare ? { connection: { plan_cache_mode: 'force_custom_plan' } } : {}),
    });
    const db = drizzlePostgres(prepare ? preparing(client) : client, {
      schema,
    }) as unknown as Db;
    // Connects on first use, so a process that never runs the hot path never opens it.
    const hotClient = prepare
      ? postgres(options.databaseUrl, {
          max: 2,
          onnotice: () => {},
          connect_timeout: 5,
          connection: { plan_cache_mode: 'force_generic_plan', enable_seqscan: 'off' },
        })
      : undefined;
    if (hotClient) hotDbs.set(db, drizzlePostgres(preparing(hotClient), { schema }) as unknown as Db);
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
      async close() {
        await Promise.all([client.end({ timeout: 5 }), hotClient?.end({ timeout: 5 })]);
      },
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

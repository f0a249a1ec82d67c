import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { MIGRATIONS_DIR, openStore, type Store } from '../../src/store/db.ts';

/** The admin connection: the machine's Postgres (CI starts it; GitHub Actions runs it as a service). */
export const ADMIN_URL = process.env.DATABASE_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The template's name changes with the migrations, so an edited migration gets a fresh template. */
function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    hash.update(readFileSync(join(MIGRATIONS_DIR, file)));
  }
  return `baton_template_${hash.digest('hex').slice(0, 12)}`;
}

async function admin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await fn(sql);
  } catch (err) {
    if ((err as { code?: string }).code === 'ECONNREFUSED') {
      throw new Error(
        `cannot reach Postgres at ${ADMIN_URL}: start it (see .ci/run) or set DATABASE_TEST_URL`,
        {
          cause: err,
        },
      );
    }
    throw err;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function ensureTemplate(): Promise<string> {
  const name = templateName();
  await admin(async (sql) => {
    // Test files start in parallel: one builds the template, the others wait on the lock.
    await sql`select pg_advisory_lock(4242)`;
    try {
      const [exists] = await sql`select 1 from pg_database where datname = ${name}`;
      if (exists) return;
      const building = `${name}_building`;
      await sql.unsafe(`drop database if exists "${building}"`);
      await sql.unsafe(`create database "${building}"`);
      // Two connections: migrate() holds one for its advisory lock while the migrator uses the other.
      const store = openStore({ databaseUrl: urlFor(building), dataDir: '/nonexistent', max: 2 });
      try {
        await store.migrate();
      } finally {
        await store.close();
      }
      await sql.unsafe(`alter database "${building}" rename to "${name}"`);
    } finally {
      await sql`select pg_advisory_unlock(4242)`;
    }
  });
  return name;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file, copied from the template (or empty, unmigrated). */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const template = options.empty ? 'template0' : await ensureTemplate();
  const name = `baton_t_${randomBytes(6).toString('hex')}`;
  await admin((sql) => sql.unsafe(`create database "${name}" template "${template}"`));
  return {
    url: urlFor(name),
    name,
    drop: () =>
      admin((sql) => sql.unsafe(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}

/** A store on a fresh test database; close it and drop the database in `finally`/afterAll. */
export async function createTestStore(): Promise<{
  store: Store;
  database: TestDatabase;
  cleanup(): Promise<void>;
}> {
  const database = await createTestDatabase();
  const store = openStore({ databaseUrl: database.url, dataDir: '/nonexistent', max: 5 });
  return {
    store,
    database,
    async cleanup() {
      await store.close();
      await database.drop();
    },
  };
}

import { and, eq } from 'drizzle-orm';
import { uuidv7 } from '../util/ids.ts';
import type { Workflow } from '../workflow/types.ts';
import type { Db } from './db.ts';
import { type WorkflowVersionRow, workflowVersions } from './schema.ts';

export interface VersionSource {
  /** The file's text exactly as loaded. */
  text: string;
  /** Path of the file (relative to the workflows directory). */
  path: string;
  gitCommit?: string;
}

/**
 * The stored version of a workflow: one row per (name, content hash). Loading the same content
 * again, from any number of processes at once, returns the row that was stored first.
 */
export async function upsertVersion(
  db: Db,
  workflow: Workflow,
  source: VersionSource,
): Promise<WorkflowVersionRow> {
  const hash = workflow.source.hash;
  const [inserted] = await db
    .insert(workflowVersions)
    .values({
      id: uuidv7(),
      name: workflow.name,
      hash,
      definition: workflow,
      source: source.text,
      sourcePath: source.path,
      gitCommit: source.gitCommit ?? null,
    })
    .onConflictDoNothing({ target: [workflowVersions.name, workflowVersions.hash] })
    .returning();
  if (inserted) return inserted;
  // The insert waited for any concurrent insert of the same key to commit, so the row is visible now.
  const [existing] = await db
    .select()
    .from(workflowVersions)
    .where(and(eq(workflowVersions.name, workflow.name), eq(workflowVersions.hash, hash)));
  if (!existing) throw new Error(`workflow version ${workflow.name}@${hash} vanished after a conflict`);
  return existing;
}

export async function getVersion(db: Db, id: string): Promise<WorkflowVersionRow | undefined> {
  const [row] = await db.select().from(workflowVersions).where(eq(workflowVersions.id, id));
  return row;
}

/** A small LRU per database handle. Version rows never change once stored, so caching them is safe. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

const idCaches = new WeakMap<Db, Lru<string>>();
const rowCaches = new WeakMap<Db, Lru<WorkflowVersionRow>>();

function cacheFor<V>(caches: WeakMap<Db, Lru<V>>, db: Db, max: number): Lru<V> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Lru<V>(max);
    caches.set(db, cache);
  }
  return cache;
}

/**
 * The id of the stored version for this content, storing it the first time. Triggers call this
 * on every run; after the first, it costs no database work (and no re-sending of the definition).
 */
export async function versionIdFor(db: Db, workflow: Workflow, source: VersionSource): Promise<string> {
  const cache = cacheFor(idCaches, db, 10_000);
  const key = `${workflow.name}\u0000${workflow.source.hash}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const row = await upsertVersion(db, workflow, source);
  cache.set(key, row.id);
  return row.id;
}

/** getVersion with a per-process cache: a worker parses each version's definition once, not per run. */
export async function getVersionCached(db: Db, id: string): Promise<WorkflowVersionRow | undefined> {
  const cache = cacheFor(rowCaches, db, 500);
  const cached = cache.get(id);
  if (cached) return cached;
  const row = await getVersion(db, id);
  if (row) cache.set(id, row);
  return row;
}

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

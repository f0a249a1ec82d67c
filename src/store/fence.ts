import { eq } from 'drizzle-orm';
import { ConflictError } from '../errors.ts';
import type { Db } from './db.ts';
import type { Lease } from './runs.ts';
import { runs } from './schema.ts';

/** A write from a worker whose lease was taken over (or released, or finished): it must stop. */
export class FencedError extends ConflictError {
  readonly runId: string;
  readonly heldFence: number;
  readonly currentFence: number | undefined;

  constructor(lease: Lease, current: { fence: number; leaseOwner: string | null } | undefined) {
    const now = current
      ? `current fence ${current.fence}, owner ${current.leaseOwner ?? 'none'}`
      : 'the run no longer exists';
    super(`run ${lease.runId}: write with fence ${lease.fence} (owner ${lease.owner}) rejected; ${now}`, {
      details: {
        runId: lease.runId,
        heldFence: lease.fence,
        currentFence: current?.fence ?? null,
        currentOwner: current?.leaseOwner ?? null,
      },
    });
    this.runId = lease.runId;
    this.heldFence = lease.fence;
    this.currentFence = current?.fence;
  }
}

/**
 * Runs `write` in a transaction that first takes a FOR SHARE lock on the run row and checks the lease.
 * A claim's UPDATE conflicts with FOR SHARE, so a takeover waits for in-flight writes and every write
 * after it sees the new fence and is rejected with FencedError.
 */
export function withFence<T>(db: Db, lease: Lease, write: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ fence: runs.fence, leaseOwner: runs.leaseOwner })
      .from(runs)
      .where(eq(runs.id, lease.runId))
      .for('share');
    if (!row || row.fence !== lease.fence || row.leaseOwner !== lease.owner)
      throw new FencedError(lease, row);
    return write(tx as unknown as Db);
  });
}

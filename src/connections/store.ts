import { createHash } from 'node:crypto';
import { and, asc, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { type ConnectionRow, connections, oauthStates } from '../store/schema.ts';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Associated data of a connection's tokens: a token copied to another row or field fails to open. */
export const tokenAad = (connection: string, kind: 'access' | 'refresh') =>
  `connection ${connection} ${kind}`;
export const verifierAad = (stateHash: string) => `oauth state ${stateHash}`;

/** What pages and the API may show of a connection: never a token. */
export type ConnectionInfo = Omit<ConnectionRow, 'accessSealed' | 'refreshSealed'>;

export async function listConnections(db: Db): Promise<ConnectionInfo[]> {
  const rows = await db.select().from(connections).orderBy(asc(connections.name));
  return rows.map(({ accessSealed: _a, refreshSealed: _r, ...info }) => info);
}

export async function getConnection(db: Db, name: string): Promise<ConnectionRow | undefined> {
  const [row] = await db.select().from(connections).where(eq(connections.name, name));
  return row;
}

export interface SavedTokens {
  accessSealed: string;
  refreshSealed: string | null;
  expiresAt: Date | null;
  scopes: string;
}

/** A (re)connect: new tokens, status connected, next generation. */
export async function saveConnection(
  db: Db,
  row: { name: string; provider: string; account: string | null } & SavedTokens,
): Promise<void> {
  await db
    .insert(connections)
    .values({ ...row, status: 'connected' })
    .onConflictDoUpdate({
      target: connections.name,
      set: {
        provider: row.provider,
        account: row.account,
        accessSealed: row.accessSealed,
        refreshSealed: row.refreshSealed,
        expiresAt: row.expiresAt,
        scopes: row.scopes,
        status: 'connected',
        lastError: null,
        generation: sql`${connections.generation} + 1`,
        updatedAt: sql`now()`,
      },
    });
}

export async function deleteConnection(db: Db, name: string): Promise<boolean> {
  const gone = await db
    .delete(connections)
    .where(eq(connections.name, name))
    .returning({ name: connections.name });
  return gone.length > 0;
}

export async function markNeedsReconnect(db: Db, name: string, reason: string): Promise<void> {
  await db
    .update(connections)
    .set({ status: 'needs_reconnect', lastError: reason.slice(0, 500), updatedAt: sql`now()` })
    .where(eq(connections.name, name));
}

export interface PendingState {
  stateHash: string;
  browserHash: string;
  connection: string;
  provider: string;
  verifierSealed: string;
  redirectUri: string;
  expiresAt: Date;
}

export async function savePendingState(db: Db, pending: PendingState): Promise<void> {
  // Abandoned authorizations go as new ones start.
  await db.delete(oauthStates).where(lt(oauthStates.expiresAt, new Date()));
  await db.insert(oauthStates).values(pending);
}

/**
 * Takes a pending authorization once: deleted in the same statement that finds it, and only for
 * the browser that started it and before it expires. A second use, another browser or a late
 * callback finds nothing.
 */
export async function takePendingState(
  db: Db,
  stateHash: string,
  browserHash: string,
): Promise<PendingState | undefined> {
  const [row] = await db
    .delete(oauthStates)
    .where(
      and(
        eq(oauthStates.stateHash, stateHash),
        eq(oauthStates.browserHash, browserHash),
        gt(oauthStates.expiresAt, new Date()),
      ),
    )
    .returning();
  return row;
}

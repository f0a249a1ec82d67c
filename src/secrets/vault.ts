import { asc, eq, sql } from 'drizzle-orm';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { secrets, vaultKeys } from '../store/schema.ts';
import { keyId, masterKeyFrom, newDataKey, open, seal, unwrapDataKey, wrapDataKey } from './crypto.ts';

/** What `${secrets.NAME}` and `BATON_SECRET_<NAME>` can spell. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const DATA_KEY_ROW = 'data';
/** Associated data of a secret's value: moving it to another row makes it fail to open. */
export const secretAad = (name: string) => `secret ${name}`;

export interface SecretEntry {
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export function checkSecretName(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw new ValidationError(
      `"${name.slice(0, 64)}" is not a secret name; use letters, digits and _ (not starting with a digit)`,
    );
  }
  return name;
}

export const NO_MASTER_KEY =
  'the secret store needs BATON_MASTER_KEY to encrypt values (e.g. `openssl rand -base64 32`); ' +
  'until then only BATON_SECRET_<NAME> environment variables are available';

/**
 * The encrypted secret store: values sealed with a random data key, which is itself sealed with
 * the master key. Names are stored in clear (they appear in workflow files anyway); values never.
 */
export class SecretVault {
  private readonly master?: Buffer;
  private dataKey?: Buffer;

  constructor(
    private readonly db: Db,
    masterKey?: string,
  ) {
    this.master = masterKey ? masterKeyFrom(masterKey) : undefined;
  }

  get unlocked(): boolean {
    return this.master !== undefined;
  }

  async set(name: string, value: string): Promise<void> {
    checkSecretName(name);
    if (value === '') throw new ValidationError(`the value of secret ${name} is empty`);
    const sealed = seal(await this.key(true), value, secretAad(name));
    await this.db
      .insert(secrets)
      .values({ name, sealed })
      .onConflictDoUpdate({ target: secrets.name, set: { sealed, updatedAt: sql`now()` } });
  }

  async list(): Promise<SecretEntry[]> {
    return this.db
      .select({ name: secrets.name, createdAt: secrets.createdAt, updatedAt: secrets.updatedAt })
      .from(secrets)
      .orderBy(asc(secrets.name));
  }

  async remove(name: string): Promise<void> {
    const gone = await this.db
      .delete(secrets)
      .where(eq(secrets.name, name))
      .returning({ name: secrets.name });
    if (gone.length === 0) throw new NotFoundError(`no secret named ${name} in the store`);
  }

  /** Every stored value by name; empty without a master key (the environment still serves). */
  async values(): Promise<Record<string, string>> {
    if (!this.master) return {};
    const rows = await this.db.select({ name: secrets.name, sealed: secrets.sealed }).from(secrets);
    if (rows.length === 0) return {};
    const key = await this.key(false);
    const out: Record<string, string> = {};
    for (const row of rows) out[row.name] = open(key, row.sealed, secretAad(row.name)).toString('utf8');
    return out;
  }

  /**
   * At start: a master key that does not open the store stops the process with one clear line,
   * instead of every run failing later. Returns how many stored secrets cannot be read (no key).
   */
  async check(): Promise<{ unreadable: number }> {
    if (this.master) {
      const [row] = await this.db
        .select({ id: vaultKeys.id })
        .from(vaultKeys)
        .where(eq(vaultKeys.id, DATA_KEY_ROW));
      if (row) await this.key(false);
      return { unreadable: 0 };
    }
    const [count] = await this.db.select({ n: sql<number>`count(*)::int` }).from(secrets);
    return { unreadable: count?.n ?? 0 };
  }

  /** Seals anything else that must rest encrypted under the same data key (OAuth tokens). */
  async seal(value: string, aad: string): Promise<string> {
    return seal(await this.key(true), value, aad);
  }

  async open(sealed: string, aad: string): Promise<string> {
    return open(await this.key(false), sealed, aad).toString('utf8');
  }

  /**
   * Re-wraps the data key with `newMasterKey`; values stay as they are. Afterwards only the new
   * master key opens the store, so every process must restart with it.
   */
  async rotateKey(newMasterKey: string): Promise<{ secrets: number }> {
    const next = masterKeyFrom(newMasterKey);
    const dataKey = await this.key(true);
    const wrapped = wrapDataKey(next, dataKey);
    await this.db
      .update(vaultKeys)
      .set({ wrapped, masterKeyId: keyId(next), rotatedAt: sql`now()` })
      .where(eq(vaultKeys.id, DATA_KEY_ROW));
    const [count] = await this.db.select({ n: sql<number>`count(*)::int` }).from(secrets);
    return { secrets: count?.n ?? 0 };
  }

  /** The data key, unwrapped once per process; created on the first write. */
  private async key(create: boolean): Promise<Buffer> {
    if (!this.master) throw new ConflictError(NO_MASTER_KEY);
    if (this.dataKey) return this.dataKey;
    let [row] = await this.db.select().from(vaultKeys).where(eq(vaultKeys.id, DATA_KEY_ROW));
    if (!row && create) {
      // Two processes may write their first secret at once: one insert wins, both use its key.
      await this.db
        .insert(vaultKeys)
        .values({
          id: DATA_KEY_ROW,
          wrapped: wrapDataKey(this.master, newDataKey()),
          masterKeyId: keyId(this.master),
        })
        .onConflictDoNothing();
      [row] = await this.db.select().from(vaultKeys).where(eq(vaultKeys.id, DATA_KEY_ROW));
    }
    if (!row) throw new NotFoundError('the secret store is empty');
    this.dataKey = unwrapDataKey(this.master, row.wrapped);
    return this.dataKey;
  }
}

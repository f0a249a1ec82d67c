import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretSource } from '../../src/secrets/source.ts';
import { SecretVault } from '../../src/secrets/vault.ts';
import { secrets } from '../../src/store/schema.ts';
import { createTestStore } from '../helpers/db.ts';

const MASTER = 'test-master-key-one';
let ctx: Awaited<ReturnType<typeof createTestStore>>;

beforeAll(async () => {
  ctx = await createTestStore();
  await ctx.store.migrate();
});
afterAll(async () => {
  await ctx?.cleanup();
});

/** pg_dump from PATH or Debian's versioned folder. */
function pgDump(url: string): string {
  const debian = '/usr/lib/postgresql/15/bin/pg_dump';
  return execFileSync(existsSync(debian) ? debian : 'pg_dump', ['--data-only', url], { encoding: 'utf8' });
}

describe('SecretVault', () => {
  it('stores values encrypted; lists names only; removes', async () => {
    const vault = new SecretVault(ctx.store.db, MASTER);
    await vault.set('SLACK_TOKEN', 'xoxb-plaintext-slack-value');
    await vault.set('API_KEY', 'k-plaintext-api-value');
    expect((await vault.list()).map((s) => s.name)).toEqual(['API_KEY', 'SLACK_TOKEN']);
    expect(JSON.stringify(await vault.list())).not.toContain('plaintext');
    // A fresh process (new vault object) reads them back with the same master key.
    expect(await new SecretVault(ctx.store.db, MASTER).values()).toEqual({
      API_KEY: 'k-plaintext-api-value',
      SLACK_TOKEN: 'xoxb-plaintext-slack-value',
    });
    const dump = pgDump(ctx.database.url);
    expect(dump).toContain('SLACK_TOKEN');
    expect(dump).not.toContain('plaintext');
    await vault.remove('API_KEY');
    await expect(vault.remove('API_KEY')).rejects.toThrow(/no secret named API_KEY/);
    await vault.set('SLACK_TOKEN', 'xoxb-replaced-value');
    expect(await vault.values()).toEqual({ SLACK_TOKEN: 'xoxb-replaced-value' });
  });

  it('rejects bad names and empty values', async () => {
    const vault = new SecretVault(ctx.store.db, MASTER);
    await expect(vault.set('1BAD', 'x')).rejects.toThrow(/not a secret name/);
    await expect(vault.set('has-dash', 'x')).rejects.toThrow(/not a secret name/);
    await expect(vault.set('EMPTY', '')).rejects.toThrow(/empty/);
  });

  it('refuses writes without a master key, naming the variable; env secrets still work', async () => {
    const vault = new SecretVault(ctx.store.db, undefined);
    await expect(vault.set('X_TOKEN', 'value')).rejects.toThrow(/BATON_MASTER_KEY/);
    expect(await vault.values()).toEqual({});
    const source = secretSource(vault, () => ({ BATON_SECRET_FROM_ENV: 'env-value' }));
    expect(await source.all()).toEqual({ FROM_ENV: 'env-value' });
  });

  it('a value moved to another row fails to decrypt, naming the row', async () => {
    const vault = new SecretVault(ctx.store.db, MASTER);
    await vault.set('SWAP_A', 'value-of-a');
    await vault.set('SWAP_B', 'value-of-b');
    const [a] = await ctx.store.db.select().from(secrets).where(eq(secrets.name, 'SWAP_A'));
    await ctx.store.db
      .update(secrets)
      .set({ sealed: a?.sealed as string })
      .where(eq(secrets.name, 'SWAP_B'));
    await expect(vault.values()).rejects.toThrow(/cannot decrypt secret SWAP_B/);
    await vault.remove('SWAP_A');
    await vault.remove('SWAP_B');
  });

  it('the store wins over the environment', async () => {
    const vault = new SecretVault(ctx.store.db, MASTER);
    await vault.set('SHARED', 'from-store');
    const env = { BATON_SECRET_SHARED: 'from-env', BATON_SECRET_ONLY_ENV: 'env-only' };
    const source = secretSource(vault, () => env);
    expect(await source.all()).toMatchObject({ SHARED: 'from-store', ONLY_ENV: 'env-only' });
    expect(await source.names()).toContainEqual({ name: 'SHARED', origin: 'store' });
    expect(await source.names()).toContainEqual({ name: 'ONLY_ENV', origin: 'env' });
    await vault.remove('SHARED');
  });

  it('rotate-key re-wraps the data key: every value still decrypts with the new key, not the old', async () => {
    const vault = new SecretVault(ctx.store.db, MASTER);
    await vault.set('ROT_ONE', 'rot-value-one');
    await vault.set('ROT_TWO', 'rot-value-two');
    const before = await ctx.store.db.select().from(secrets);
    const result = await vault.rotateKey('test-master-key-two');
    expect(result.secrets).toBe(before.length);
    // Values were not re-encrypted.
    expect(await ctx.store.db.select().from(secrets)).toEqual(before);
    const rotated = new SecretVault(ctx.store.db, 'test-master-key-two');
    expect(await rotated.values()).toMatchObject({ ROT_ONE: 'rot-value-one', ROT_TWO: 'rot-value-two' });
    await expect(new SecretVault(ctx.store.db, MASTER).values()).rejects.toThrow(
      /BATON_MASTER_KEY does not open/,
    );
    await rotated.rotateKey(MASTER);
    expect(await new SecretVault(ctx.store.db, MASTER).values()).toMatchObject({ ROT_ONE: 'rot-value-one' });
  });
});

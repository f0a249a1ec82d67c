import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runs } from '../../src/store/schema.ts';
import { type ApiContext, createApiContext, seeder } from './api-context.ts';

const VALUE = 'sk_live_api-secret-value/42';

describe('secrets API without a master key', () => {
  let ctx: ApiContext;
  beforeAll(async () => {
    ctx = await createApiContext();
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it('refuses writes with a message naming BATON_MASTER_KEY', async () => {
    const res = await ctx.call('PUT', '/api/secrets/API_KEY', { value: VALUE });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect(res.body.error.message).toContain('BATON_MASTER_KEY');
  });
});

describe('secrets API', () => {
  let ctx: ApiContext;
  beforeAll(async () => {
    process.env.BATON_SECRET_FROM_ENV_TEST = 'env-secret-value-xyz';
    ctx = await createApiContext({ env: { BATON_MASTER_KEY: 'api-test-master-key' } });
  });
  afterAll(async () => {
    delete process.env.BATON_SECRET_FROM_ENV_TEST;
    await ctx?.cleanup();
  });

  it('stores, lists names only, and removes', async () => {
    const put = await ctx.call('PUT', '/api/secrets/API_KEY', { value: VALUE });
    expect(put.status).toBe(200);
    expect(put.body.secret).toMatchObject({ name: 'API_KEY', source: 'store' });
    const list = await ctx.call('GET', '/api/secrets');
    expect(list.status).toBe(200);
    expect(list.body.secrets).toContainEqual(expect.objectContaining({ name: 'API_KEY', source: 'store' }));
    expect(list.body.secrets).toContainEqual({ name: 'FROM_ENV_TEST', source: 'env', updated_at: null });
    expect(JSON.stringify(list.body)).not.toContain(VALUE);
    expect((await ctx.call('DELETE', '/api/secrets/API_KEY')).status).toBe(204);
    const again = await ctx.call('DELETE', '/api/secrets/API_KEY');
    expect(again.status).toBe(404);
    expect(again.body.error.message).toContain('API_KEY');
  });

  it('rejects a bad name or an empty value', async () => {
    expect((await ctx.call('PUT', '/api/secrets/bad-name', { value: 'x' })).status).toBe(422);
    expect((await ctx.call('PUT', '/api/secrets/OK', { value: '' })).status).toBe(422);
  });

  it('masks secret values and their encoded forms in every JSON answer', async () => {
    await ctx.call('PUT', '/api/secrets/API_KEY', { value: VALUE });
    const { seed } = await seeder(ctx.store.db);
    const id = await seed({ workflow: 'seeded' });
    // Stored before the secret existed, so nothing masked it at write time.
    const b64 = Buffer.from(VALUE).toString('base64');
    await ctx.store.db
      .update(runs)
      .set({
        trigger: {
          type: 'api',
          inputs: { raw: VALUE, b64, url: `?k=${encodeURIComponent(VALUE)}`, env: 'env-secret-value-xyz' },
        },
      })
      .where(eq(runs.id, id));
    const res = await ctx.call('GET', `/api/runs/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.run.trigger.inputs).toEqual({ raw: '***', b64: '***', url: '?k=***', env: '***' });

    // A secret added later is masked from then on (answers do not keep the old set of values).
    await ctx.call('PUT', '/api/secrets/LATER_KEY', { value: 'later-secret-value-123' });
    await ctx.store.db
      .update(runs)
      .set({ trigger: { type: 'api', inputs: { raw: VALUE, later: 'later-secret-value-123' } } })
      .where(eq(runs.id, id));
    const again = await ctx.call('GET', `/api/runs/${id}`);
    expect(again.body.run.trigger.inputs).toEqual({ raw: '***', later: '***' });
  });
});

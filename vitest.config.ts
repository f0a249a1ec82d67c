import { defineConfig } from 'vitest/config';

// Under Bun only the threads pool works (forks crashes).
// Two groups: everything that can share the machine's Postgres and Redis runs in parallel first;
// then the chaos tests, one file at a time, since they restart Postgres and flush Redis.
export default defineConfig({
  test: {
    pool: 'threads',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/{unit,integration,e2e}/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

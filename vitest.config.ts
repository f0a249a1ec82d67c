import { defineConfig } from 'vitest/config';

// Under Bun only the threads pool works (forks crashes).
// Three groups: everything that can share the machine's Postgres and Redis runs in parallel;
// then the browser tests (Chromium is heavy); last the chaos tests, one file at a time, since they
// restart Postgres and flush Redis.
export default defineConfig({
  test: {
    pool: 'threads',
    // Most files wait on processes, sockets and timers, so more than the 2 cores pays off.
    maxWorkers: 4,
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
          // Headless Chromium against a real `baton serve`: heavy on 2 cores, so one file at a time.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          maxWorkers: 1,
          testTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          maxWorkers: 1,
          testTimeout: 120_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});

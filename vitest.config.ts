import { defineConfig } from 'vitest/config';

// Under Bun only the threads pool works (forks crashes).
export default defineConfig({
  test: {
    pool: 'threads',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});

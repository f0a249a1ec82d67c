import { secretsFromEnv } from '../config.ts';
import type { SecretVault } from './vault.ts';

export type SecretOrigin = 'store' | 'env';

/** Resolves secrets for runs, polls and webhooks: the store first, then `BATON_SECRET_<NAME>`. */
export interface SecretSource {
  /** Every secret value by name (a stored value wins over the environment). */
  all(): Promise<Readonly<Record<string, string>>>;
  /** Names and where they come from; reads no values from the store. */
  names(): Promise<{ name: string; origin: SecretOrigin }[]>;
  /** Forget cached values (after a write in this process). */
  invalidate(): void;
}

/** Values are cached this long, so a busy worker does not read the store for every run. */
const CACHE_MS = 1000;

export function secretSource(
  vault: SecretVault | undefined,
  env: () => Record<string, string | undefined> = () => process.env,
): SecretSource {
  let cached: { at: number; values: Promise<Record<string, string>> } | undefined;
  const load = async () => ({ ...secretsFromEnv(env()), ...(vault ? await vault.values() : {}) });
  return {
    all() {
      if (!cached || Date.now() - cached.at > CACHE_MS) {
        const values = load();
        cached = { at: Date.now(), values };
        // A failed read is not cached: the next caller tries again.
        values.catch(() => {
          if (cached?.values === values) cached = undefined;
        });
      }
      return cached.values;
    },
    async names() {
      const stored = vault ? (await vault.list()).map((s) => s.name) : [];
      const fromStore = new Set(stored);
      return [
        ...stored.map((name) => ({ name, origin: 'store' as const })),
        ...Object.keys(secretsFromEnv(env()))
          .filter((name) => !fromStore.has(name))
          .map((name) => ({ name, origin: 'env' as const })),
      ].sort((a, b) => a.name.localeCompare(b.name));
    },
    invalidate() {
      cached = undefined;
    },
  };
}

/** Only environment secrets (no database at hand). */
export const envSecretSource = (env?: () => Record<string, string | undefined>) =>
  secretSource(undefined, env);

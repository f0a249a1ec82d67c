import type { Config } from '../config.ts';
import { loadConfig, secretsFromEnv } from '../config.ts';
import { coerceError, ValidationError } from '../errors.ts';
import { SecretVault } from '../secrets/vault.ts';
import { openStore, type Store } from '../store/db.ts';

export interface SecretsCommandOptions {
  action: string;
  args: string[];
  json: boolean;
  /** The value for `set`, or the new master key for `rotate-key` (read from stdin by the caller). */
  readInput: () => Promise<string>;
  out: (line: string) => void;
  err: (line: string) => void;
  env?: Record<string, string | undefined>;
}

function openCliStore(config: Config): Store {
  return openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    prepare: config.dbPrepare,
    max: 1,
  });
}

/** `baton secrets set|list|rm|rotate-key`: values come from stdin, never from the command line. */
export async function secretsCommand(opts: SecretsCommandOptions): Promise<number> {
  const env = opts.env ?? process.env;
  const config = loadConfig(env);
  const store = openCliStore(config);
  try {
    await store.migrate();
    const vault = new SecretVault(store.db, config.masterKey);
    switch (opts.action) {
      case 'set': {
        const name = oneName(opts.args, 'set');
        // One trailing newline is what `echo` and a terminal add; anything else is the value.
        const value = (await opts.readInput()).replace(/\r?\n$/, '');
        await vault.set(name, value);
        opts.out(`✔ secret ${name} stored (encrypted)`);
        return 0;
      }
      case 'list': {
        const stored = await vault.list();
        const storedNames = new Set(stored.map((s) => s.name));
        const fromEnv = Object.keys(secretsFromEnv(env)).filter((n) => !storedNames.has(n));
        const rows = [
          ...stored.map((s) => ({ name: s.name, source: 'store', updated_at: s.updatedAt.toISOString() })),
          ...fromEnv.map((name) => ({ name, source: 'env', updated_at: null })),
        ].sort((a, b) => a.name.localeCompare(b.name));
        if (opts.json) opts.out(JSON.stringify(rows));
        else if (rows.length === 0) opts.out('no secrets (baton secrets set NAME, or BATON_SECRET_<NAME>)');
        else
          for (const r of rows) opts.out(`${r.name}\t${r.source}${r.updated_at ? `\t${r.updated_at}` : ''}`);
        return 0;
      }
      case 'rm': {
        const name = oneName(opts.args, 'rm');
        await vault.remove(name);
        opts.out(`✔ secret ${name} removed from the store`);
        return 0;
      }
      case 'rotate-key': {
        const next = env.BATON_NEW_MASTER_KEY || (await opts.readInput()).trim();
        if (!next) {
          opts.err('error: give the new master key in BATON_NEW_MASTER_KEY or on stdin');
          return 2;
        }
        const { secrets } = await vault.rotateKey(next);
        opts.out(
          `✔ data key re-wrapped with the new master key (${secrets} secret(s) unchanged); ` +
            'restart every Baton process with the new BATON_MASTER_KEY',
        );
        return 0;
      }
      default:
        opts.err('usage: baton secrets set NAME < value | list [--json] | rm NAME | rotate-key');
        return 2;
    }
  } catch (err) {
    const e = coerceError(err);
    opts.err(`error: ${e.message}`);
    return e.code === 'validation' || e.code === 'not_found' || e.code === 'conflict' ? 2 : 1;
  } finally {
    await store.close();
  }
}

function oneName(args: string[], action: string): string {
  if (args.length !== 1) throw new ValidationError(`baton secrets ${action} takes one secret name`);
  return args[0] as string;
}

/**
 * Names of configured secrets, for `baton validate`: the environment always, the store when
 * DATABASE_URL is set (the embedded database belongs to the running server, so it is not opened).
 */
export async function configuredSecretNames(
  config: Config,
  env: Record<string, string | undefined>,
): Promise<{ names: Set<string>; note?: string }> {
  const names = new Set(Object.keys(secretsFromEnv(env)));
  if (!config.databaseUrl) {
    return { names, note: 'checked against BATON_SECRET_<NAME> only; set DATABASE_URL to include the store' };
  }
  const store = openCliStore(config);
  try {
    for (const s of await new SecretVault(store.db, config.masterKey).list()) names.add(s.name);
    return { names };
  } catch (err) {
    return { names, note: `could not read the secret store (${coerceError(err).message})` };
  } finally {
    await store.close();
  }
}

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { SECRET_NAME } from '../secrets/vault.ts';

/** One OAuth2 provider, as Baton uses it: where to send the browser, where to get tokens, what API they open. */
export interface Provider {
  name: string;
  clientId: string;
  /** Name of the secret holding the client secret (store or `BATON_SECRET_<NAME>`), never the value. */
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  /** Base of the API the tokens open; connection requests may not leave its origin. */
  apiUrl: string;
  scopes: string[];
  /** Path under `apiUrl` that answers the account behind a token, and the field naming it. */
  accountPath?: string;
  accountField: string;
}

type Preset = Omit<Provider, 'name' | 'clientId' | 'clientSecret'>;

/** GitHub OAuth apps and GitHub Apps with user tokens (the latter refresh; classic OAuth tokens never expire). */
export const PRESETS: Record<string, Preset> = {
  github: {
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    apiUrl: 'https://api.github.com',
    scopes: ['repo'],
    accountPath: '/user',
    accountField: 'login',
  },
};

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const scopeList = z.union([
  z.array(z.string().min(1)),
  z.string().transform((s) => s.split(/[\s,]+/).filter(Boolean)),
]);

const providerSchema = z
  .object({
    preset: z.enum(Object.keys(PRESETS) as [string, ...string[]]).optional(),
    client_id: z.string().min(1),
    client_secret: z
      .string()
      .regex(SECRET_NAME, 'must name a secret (letters, digits, _), not hold its value'),
    authorize_url: httpUrl.optional(),
    token_url: httpUrl.optional(),
    api_url: httpUrl.optional(),
    scopes: scopeList.optional(),
    account_path: z.string().startsWith('/').optional(),
    account_field: z.string().min(1).optional(),
  })
  .strict();

const fileSchema = z
  .object({ providers: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), providerSchema) })
  .strict();

type RawProvider = z.input<typeof providerSchema>;

function resolveProvider(name: string, raw: z.output<typeof providerSchema>, where: string): Provider {
  const preset = PRESETS[raw.preset ?? name];
  const authorizeUrl = raw.authorize_url ?? preset?.authorizeUrl;
  const tokenUrl = raw.token_url ?? preset?.tokenUrl;
  const apiUrl = raw.api_url ?? preset?.apiUrl;
  if (!authorizeUrl || !tokenUrl || !apiUrl) {
    throw new ConfigError(
      `${where}: provider "${name}" needs authorize_url, token_url and api_url (or a preset: ${Object.keys(PRESETS).join(', ')})`,
    );
  }
  return {
    name,
    clientId: raw.client_id,
    clientSecret: raw.client_secret,
    authorizeUrl,
    tokenUrl,
    apiUrl: apiUrl.replace(/\/+$/, ''),
    scopes: raw.scopes ?? preset?.scopes ?? [],
    accountPath: raw.account_path ?? preset?.accountPath,
    accountField: raw.account_field ?? preset?.accountField ?? 'login',
  };
}

const ENV_FIELDS: Record<string, keyof RawProvider> = {
  PRESET: 'preset',
  CLIENT_ID: 'client_id',
  CLIENT_SECRET: 'client_secret',
  AUTHORIZE_URL: 'authorize_url',
  TOKEN_URL: 'token_url',
  API_URL: 'api_url',
  SCOPES: 'scopes',
  ACCOUNT_PATH: 'account_path',
  ACCOUNT_FIELD: 'account_field',
};
const ENV_PREFIX = 'BATON_OAUTH_';

/** `BATON_OAUTH_<PROVIDER>_<FIELD>`; the provider is the lower-cased part before a known field. */
function providersFromEnv(env: Record<string, string | undefined>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || key === 'BATON_OAUTH_FILE' || !value) continue;
    const rest = key.slice(ENV_PREFIX.length);
    const field = Object.keys(ENV_FIELDS).find((f) => rest.endsWith(`_${f}`));
    if (!field) throw new ConfigError(`${key}: not a provider setting (BATON_OAUTH_<PROVIDER>_CLIENT_ID, …)`);
    const name = rest.slice(0, -field.length - 1).toLowerCase();
    out[name] ??= {};
    (out[name] as Record<string, string>)[ENV_FIELDS[field] as string] = value;
  }
  return out;
}

/**
 * The providers of `BATON_OAUTH_FILE` (YAML: `providers: { github: { client_id, client_secret, … } }`)
 * and of `BATON_OAUTH_<PROVIDER>_*` variables; a variable overrides the file's field. Throws
 * ConfigError naming the file or variable.
 */
export function loadProviders(
  env: Record<string, string | undefined>,
  file: string | undefined = env.BATON_OAUTH_FILE,
): Map<string, Provider> {
  const merged: Record<string, Record<string, unknown>> = {};

  if (file) {
    let data: unknown;
    try {
      data = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`BATON_OAUTH_FILE: cannot read ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const parsed = fileSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`BATON_OAUTH_FILE ${file}: ${issue?.path.join('.')}: ${issue?.message}`);
    }
    const providers = (data as { providers: Record<string, Record<string, unknown>> }).providers;
    for (const [name, raw] of Object.entries(providers)) merged[name] = { ...raw };
  }
  for (const [name, fields] of Object.entries(providersFromEnv(env)))
    merged[name] = { ...merged[name], ...fields };
  const out = new Map<string, Provider>();
  for (const [name, raw] of Object.entries(merged)) {
    const where = `provider "${name}" (BATON_OAUTH_FILE / BATON_OAUTH_${name.toUpperCase()}_*)`;
    const parsed = providerSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`${where}: ${issue?.path.join('.') || 'settings'}: ${issue?.message}`);
    }
    out.set(name, resolveProvider(name, parsed.data, where));
  }
  return out;
}

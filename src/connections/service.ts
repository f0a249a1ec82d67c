import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import * as oauth from 'oauth4webapi';
import {
  ConflictError,
  NonRetriableError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
} from '../errors.ts';
import type { ConnectionAccess } from '../plugins/define-action.ts';
import type { SecretSource } from '../secrets/source.ts';
import type { SecretVault } from '../secrets/vault.ts';
import type { Db } from '../store/db.ts';
import { type ConnectionRow, connections } from '../store/schema.ts';
import type { Provider } from './providers.ts';
import {
  type ConnectionInfo,
  deleteConnection,
  getConnection,
  listConnections,
  markNeedsReconnect,
  saveConnection,
  savePendingState,
  sha256,
  takePendingState,
  tokenAad,
  verifierAad,
} from './store.ts';

export const CONNECTION_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
/** How long a started authorization may wait for its callback. */
const STATE_TTL_MS = 10 * 60_000;
export const CALLBACK_PATH = '/connections/callback';

export interface ConnectionsOptions {
  db: Db;
  vault: SecretVault;
  secrets: SecretSource;
  providers: ReadonlyMap<string, Provider>;
  publicUrl: string;
  refreshMarginMs: number;
  now?: () => number;
}

/** Plain http is for a provider on this machine only (tests, local development). */
function insecureAllowed(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

/**
 * OAuth2 connections: the authorization-code flow with PKCE (oauth4webapi does the protocol),
 * tokens sealed in the store, refresh before expiry and after a 401, one refresh at a time.
 */
export class Connections implements ConnectionAccess {
  private readonly refreshing = new Map<string, Promise<ConnectionRow>>();
  private readonly now: () => number;

  constructor(private readonly options: ConnectionsOptions) {
    this.now = options.now ?? Date.now;
  }

  get redirectUri(): string {
    return `${this.options.publicUrl}${CALLBACK_PATH}`;
  }

  providers(): Provider[] {
    return [...this.options.providers.values()];
  }

  list(): Promise<ConnectionInfo[]> {
    return listConnections(this.options.db);
  }

  /**
   * Starts an authorization: a single-use state bound to `browser` (a random cookie value),
   * a PKCE S256 challenge, the exact redirect URI; returns where to send the browser.
   */
  async begin(connection: string, providerName: string, browser: string): Promise<URL> {
    if (!CONNECTION_NAME.test(connection)) {
      throw new ValidationError(
        `"${connection.slice(0, 64)}" is not a connection name; use letters, digits, - and _`,
      );
    }
    const provider = this.provider(providerName);
    await this.clientSecret(provider); // fail here, not after the user has approved
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const stateHash = sha256(state);
    await savePendingState(this.options.db, {
      stateHash,
      browserHash: sha256(browser),
      connection,
      provider: provider.name,
      verifierSealed: await this.options.vault.seal(verifier, verifierAad(stateHash)),
      redirectUri: this.redirectUri,
      expiresAt: new Date(this.now() + STATE_TTL_MS),
    });
    const url = new URL(provider.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', provider.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri);
    if (provider.scopes.length > 0) url.searchParams.set('scope', provider.scopes.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url;
  }

  /** The callback: takes the state once (same browser only), exchanges the code, stores the tokens. */
  async complete(callback: URL, browser: string | undefined): Promise<ConnectionInfo> {
    const state = callback.searchParams.get('state');
    if (!state || !browser) {
      throw new UnauthorizedError('this authorization was not started in this browser (no state or cookie)');
    }
    const stateHash = sha256(state);
    const pending = await takePendingState(this.options.db, stateHash, sha256(browser));
    if (!pending) {
      throw new UnauthorizedError(
        'this authorization is unknown, already used, expired or was started in another browser; connect again',
      );
    }
    const provider = this.provider(pending.provider);
    const { as, client, auth, options } = await this.protocol(provider);
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, client, callback, state);
    } catch (err) {
      throw new UnauthorizedError(`${provider.name} did not authorize: ${oauthMessage(err)}`, { cause: err });
    }
    const verifier = await this.options.vault.open(pending.verifierSealed, verifierAad(stateHash));
    let tokens: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        auth,
        params,
        pending.redirectUri,
        verifier,
        options,
      );
      tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    } catch (err) {
      throw new UnauthorizedError(`${provider.name} refused the authorization code: ${oauthMessage(err)}`, {
        cause: err,
      });
    }
    const account = await this.accountOf(provider, tokens.access_token);
    await saveConnection(this.options.db, {
      name: pending.connection,
      provider: provider.name,
      account,
      ...(await this.sealTokens(pending.connection, tokens, undefined)),
    });
    const saved = (await this.list()).find((c) => c.name === pending.connection);
    if (!saved) throw new NotFoundError(`connection "${pending.connection}" vanished while it was saved`);
    return saved;
  }

  async disconnect(name: string): Promise<void> {
    if (!(await deleteConnection(this.options.db, name)))
      throw new NotFoundError(`no connection named "${name}"`);
  }

  /** An authenticated call to the connection's API; a 401 refreshes the token once and retries. */
  async fetch(name: string, path: string, init: RequestInit = {}): Promise<Response> {
    let row = await this.fresh(name);
    const provider = this.provider(row.provider);
    const url = apiUrl(provider, path);
    for (let attempt = 1; ; attempt++) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${await this.open(row, 'access')}`);
      if (!headers.has('accept')) headers.set('accept', 'application/json');
      const response = await fetch(url, { ...init, headers, redirect: 'manual' });
      if (response.status !== 401 || attempt > 1) return response;
      await response.body?.cancel();
      row = await this.refresh(name, row.generation);
    }
  }

  /** The connection, refreshed first when its token expires within the margin. */
  private async fresh(name: string): Promise<ConnectionRow> {
    const row = await getConnection(this.options.db, name);
    if (!row)
      throw new NonRetriableError(`no connection named "${name}"; connect it on the Connections page`);
    if (row.status !== 'connected') {
      throw new NonRetriableError(
        `connection "${name}" needs to be reconnected on the Connections page (${row.lastError ?? 'refresh failed'})`,
      );
    }
    const nearExpiry =
      row.expiresAt !== null && row.expiresAt.getTime() - this.now() < this.options.refreshMarginMs;
    return nearExpiry ? this.refresh(name, row.generation) : row;
  }

  /**
   * One refresh per connection at a time: callers in this process share one promise; across
   * processes the row is locked and a refresh that finds a newer generation uses it instead.
   */
  private refresh(name: string, seenGeneration: number): Promise<ConnectionRow> {
    const running = this.refreshing.get(name);
    if (running) return running;
    const promise = this.refreshLocked(name, seenGeneration).finally(() => this.refreshing.delete(name));
    this.refreshing.set(name, promise);
    return promise;
  }

  private async refreshLocked(name: string, seenGeneration: number): Promise<ConnectionRow> {
    // Everything that reads the database outside the transaction happens first: the embedded
    // database runs one transaction at a time, so a read from inside it on another path would wait forever.
    const current = await getConnection(this.options.db, name);
    if (!current) throw new NonRetriableError(`no connection named "${name}"`);
    const provider = this.provider(current.provider);
    const { as, client, auth, options } = await this.protocol(provider);
    await this.open(current, 'access'); // unwraps the data key now
    let failure: string | undefined;
    const result = await this.options.db.transaction(async (tx) => {
      const [row] = await tx.select().from(connections).where(eq(connections.name, name)).for('update');
      if (!row) throw new NonRetriableError(`no connection named "${name}"`);
      if (row.generation !== seenGeneration && row.status === 'connected') return row;
      if (!row.refreshSealed) {
        failure = 'the token expired or was revoked and the provider gave no refresh token';
        return row;
      }
      try {
        const response = await oauth.refreshTokenGrantRequest(
          as,
          client,
          auth,
          await this.open(row, 'refresh'),
          options,
        );
        const tokens = await oauth.processRefreshTokenResponse(as, client, response);
        const sealed = await this.sealTokens(name, tokens, row);
        const [updated] = await tx
          .update(connections)
          .set({
            ...sealed,
            generation: sql`${connections.generation} + 1`,
            status: 'connected',
            lastError: null,
            refreshedAt: sql`now()`,
            updatedAt: sql`now()`,
          })
          .where(eq(connections.name, name))
          .returning();
        return updated as ConnectionRow;
      } catch (err) {
        failure = `refresh failed: ${oauthMessage(err)}`;
        return row;
      }
    });
    if (failure !== undefined) {
      await markNeedsReconnect(this.options.db, name, failure);
      throw new NonRetriableError(
        `connection "${name}" needs to be reconnected on the Connections page: ${failure}`,
      );
    }
    return result;
  }

  private async sealTokens(
    name: string,
    tokens: oauth.TokenEndpointResponse,
    previous: ConnectionRow | undefined,
  ): Promise<{ accessSealed: string; refreshSealed: string | null; expiresAt: Date | null; scopes: string }> {
    const vault = this.options.vault;
    return {
      accessSealed: await vault.seal(tokens.access_token, tokenAad(name, 'access')),
      // A provider may keep the refresh token as it is (no new one in the answer).
      refreshSealed: tokens.refresh_token
        ? await vault.seal(tokens.refresh_token, tokenAad(name, 'refresh'))
        : (previous?.refreshSealed ?? null),
      expiresAt:
        typeof tokens.expires_in === 'number' ? new Date(this.now() + tokens.expires_in * 1000) : null,
      scopes: (tokens.scope ?? previous?.scopes ?? '')
        .split(/[\s,]+/)
        .filter(Boolean)
        .join(' '),
    };
  }

  private open(row: ConnectionRow, kind: 'access' | 'refresh'): Promise<string> {
    const sealed = kind === 'access' ? row.accessSealed : row.refreshSealed;
    if (!sealed) throw new NonRetriableError(`connection "${row.name}" has no ${kind} token`);
    return this.options.vault.open(sealed, tokenAad(row.name, kind));
  }

  private provider(name: string): Provider {
    const provider = this.options.providers.get(name);
    if (!provider) {
      const known = [...this.options.providers.keys()].join(', ') || 'none configured';
      throw new NotFoundError(`no OAuth provider named "${name}" (known: ${known})`);
    }
    return provider;
  }

  private async clientSecret(provider: Provider): Promise<string> {
    const value = (await this.options.secrets.all())[provider.clientSecret];
    if (!value) {
      throw new ConflictError(
        `provider "${provider.name}" needs its client secret in the secret ${provider.clientSecret}, which is not set`,
      );
    }
    return value;
  }

  private async protocol(provider: Provider) {
    const as: oauth.AuthorizationServer = {
      issuer: new URL(provider.authorizeUrl).origin,
      authorization_endpoint: provider.authorizeUrl,
      token_endpoint: provider.tokenUrl,
    };
    const client: oauth.Client = { client_id: provider.clientId };
    const auth = oauth.ClientSecretPost(await this.clientSecret(provider));
    const options = insecureAllowed(provider.tokenUrl) ? { [oauth.allowInsecureRequests]: true } : {};
    return { as, client, auth, options };
  }

  /** The account behind a token (GitHub: the login), for the Connections page; null when unknown. */
  private async accountOf(provider: Provider, accessToken: string): Promise<string | null> {
    if (!provider.accountPath) return null;
    try {
      const response = await fetch(apiUrl(provider, provider.accountPath), {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) return null;
      const body = (await response.json()) as Record<string, unknown>;
      const value = body[provider.accountField];
      return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
    } catch {
      return null;
    }
  }
}

/** A path under the provider's API, or an absolute URL on its origin; a token never goes elsewhere. */
export function apiUrl(provider: Provider, path: string): URL {
  const base = new URL(`${provider.apiUrl}/`);
  const url = /^https?:\/\//i.test(path) ? new URL(path) : new URL(path.replace(/^\/+/, ''), base);
  if (url.origin !== base.origin) {
    throw new NonRetriableError(
      `${url.origin} is not the API of provider "${provider.name}" (${base.origin}); its token is not sent there`,
    );
  }
  return url;
}

/** oauth4webapi's errors name the OAuth error code and description; tokens are never in them. */
function oauthMessage(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError) {
    return `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    return `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  }
  // GitHub answers a refused code or refresh with 200 and `{ error, error_description }`: say that,
  // not "access_token must be a string" (and never anything else from the body).
  const body = (err as { cause?: { body?: { error?: unknown; error_description?: unknown } } })?.cause?.body;
  if (typeof body?.error === 'string') {
    return `${body.error}${typeof body.error_description === 'string' ? ` (${body.error_description})` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A random value for the browser-binding cookie. */
export const newBrowserNonce = () => randomBytes(32).toString('base64url');

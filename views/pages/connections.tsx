/** @jsxImportSource hono/jsx */
import type { Provider } from '../../src/connections/providers.ts';
import type { ConnectionInfo } from '../../src/connections/store.ts';
import { formatAgo, Time } from '../components/time.tsx';

export interface ConnectionsData {
  connections: ConnectionInfo[];
  providers: Provider[];
  redirectUri: string;
  now: Date;
  /** Set right after a callback: the connection that was just made. */
  connected?: string;
}

function Status({ connection, now }: { connection: ConnectionInfo; now: Date }) {
  if (connection.status !== 'connected') {
    return (
      <span class="block">
        <span class="status st-failed" data-status="needs_reconnect">
          needs reconnecting
        </span>
        {connection.lastError && <span class="muted block small">{connection.lastError}</span>}
      </span>
    );
  }
  const expired = connection.expiresAt !== null && connection.expiresAt.getTime() <= now.getTime();
  return (
    <span
      class={`status ${expired ? 'st-queued' : 'st-succeeded'}`}
      data-status={expired ? 'expired' : 'connected'}
    >
      {expired ? 'expired (refreshes on next use)' : 'connected'}
    </span>
  );
}

function Row({ connection, now }: { connection: ConnectionInfo; now: Date }) {
  const disconnect = `/connections/${encodeURIComponent(connection.name)}/disconnect`;
  return (
    <tr data-connection={connection.name}>
      <td data-label="Connection">
        <strong>{connection.name}</strong>
      </td>
      <td data-label="Provider">{connection.provider}</td>
      <td data-label="Account">{connection.account ?? <span class="muted">unknown</span>}</td>
      <td data-label="Scopes">{connection.scopes || <span class="muted">none</span>}</td>
      <td data-label="Expires">
        {connection.expiresAt ? (
          <Time at={connection.expiresAt} now={now} />
        ) : (
          <span class="muted">never</span>
        )}
        {connection.refreshedAt && (
          <span class="muted block small">refreshed {formatAgo(connection.refreshedAt, now)}</span>
        )}
      </td>
      <td data-label="Status">
        <Status connection={connection} now={now} />
      </td>
      <td data-label="">
        <div class="run-actions">
          {connection.status !== 'connected' && (
            <form method="post" action="/connections/connect">
              <input type="hidden" name="name" value={connection.name} />
              <input type="hidden" name="provider" value={connection.provider} />
              <button type="submit" class="btn btn-primary">
                Reconnect
              </button>
            </form>
          )}
          <form method="post" action={disconnect}>
            <button type="submit" class="btn btn-danger" data-command="disconnect">
              Disconnect
            </button>
          </form>
        </div>
      </td>
    </tr>
  );
}

/** Connections: who Baton acts as, where, with what scopes, and until when; Connect and Disconnect. */
export function ConnectionsPage({ data }: { data: ConnectionsData }) {
  return (
    <>
      <div class="page-head">
        <h1>Connections</h1>
        <p class="muted">
          OAuth2 accounts workflows act as (<code>connection: &lt;name&gt;</code> in a task). Tokens are
          stored encrypted and refreshed before they expire.
        </p>
      </div>
      {data.connected && (
        <p class="alert alert-ok" role="status">
          Connected <strong>{data.connected}</strong>.
        </p>
      )}
      {data.connections.length === 0 ? (
        <p class="empty">No connections yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="connections stack">
            <thead>
              <tr>
                <th scope="col">Connection</th>
                <th scope="col">Provider</th>
                <th scope="col">Account</th>
                <th scope="col">Scopes</th>
                <th scope="col">Expires</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.connections.map((c) => (
                <Row connection={c} now={data.now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section class="section">
        <div class="section-head">
          <h2>Connect</h2>
        </div>
        {data.providers.length === 0 ? (
          <p class="empty">
            No OAuth2 provider is configured. Add one in <code>BATON_OAUTH_FILE</code> or with{' '}
            <code>BATON_OAUTH_GITHUB_CLIENT_ID</code> (see docs/connections.md).
          </p>
        ) : (
          // A plain form: the answer sends the whole page to the provider.
          <form method="post" action="/connections/connect" class="connect-form">
            <label>
              Name{' '}
              <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9_\-]{0,63}" placeholder="github" />
            </label>
            <label>
              Provider{' '}
              <select name="provider">
                {data.providers.map((p) => (
                  <option value={p.name}>
                    {p.name} ({p.scopes.join(' ') || 'no scopes'})
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" class="btn btn-primary">
              Connect
            </button>
          </form>
        )}
        <p class="muted small">
          Register this redirect URI with the provider: <code>{data.redirectUri}</code>
        </p>
      </section>
    </>
  );
}

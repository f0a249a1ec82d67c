/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { assets } from './assets.ts';

/**
 * htmx settings: no inline indicator styles (the CSP allows no inline style; baton.css has them),
 * error answers are swapped too (they are fragments meant to be seen), no eval, and no page
 * snapshots in localStorage (a back button reloads, since live pages go stale anyway).
 */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '[45]..', swap: true, error: true },
    { code: '...', swap: false },
  ],
});

export type Section = 'overview' | 'runs' | 'connections' | 'playground' | 'none';

export interface LayoutProps {
  title: string;
  section: Section;
  /** Tokens are configured: offer to log out. */
  loggedIn: boolean;
  children?: Child;
}

const NAV: { section: Section; href: string; label: string }[] = [
  { section: 'overview', href: '/', label: 'Overview' },
  { section: 'runs', href: '/runs', label: 'Runs' },
  { section: 'connections', href: '/connections', label: 'Connections' },
  { section: 'playground', href: '/playground', label: 'Playground' },
];

/** The one layout every page uses; fragments for htmx are rendered without it. */
export function Layout({ title, section, loggedIn, children }: LayoutProps) {
  const a = assets();
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${title} · Baton`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={a.css.url} />
        <script src={a.htmx.url} defer />
        <script src={a.js.url} defer />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <a class="brand" href="/">
            <span class="brand-mark" aria-hidden="true">
              ◆
            </span>{' '}
            Baton
          </a>
          <nav aria-label="Main">
            {NAV.map((n) => (
              <a href={n.href} aria-current={n.section === section ? 'page' : undefined}>
                {n.label}
              </a>
            ))}
            <a href="/api/docs">API</a>
          </nav>
          {loggedIn && (
            <form method="post" action="/logout" class="logout">
              <button type="submit" class="btn btn-quiet">
                Log out
              </button>
            </form>
          )}
        </header>
        <main id="main" class="page">
          <div id="flash" aria-live="polite" />
          {children}
        </main>
      </body>
    </html>
  );
}

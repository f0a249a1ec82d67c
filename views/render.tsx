/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApiDeps } from '../src/api/deps.ts';
import { Redactor } from '../src/engine/redact.ts';
import { Layout, type Section } from './layout.tsx';

/** What the pages read: the API's dependencies, plus the secrets whose values must never show. */
export interface PageDeps extends ApiDeps {
  secrets?: () => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
}

export async function redactorFor(deps: PageDeps): Promise<Redactor> {
  return new Redactor(Object.values((await deps.secrets?.()) ?? {}));
}

/** An htmx request wants a fragment; a history restore (back button) wants the whole page. */
export function wantsFragment(c: Context): boolean {
  return c.req.header('hx-request') === 'true' && c.req.header('hx-history-restore-request') !== 'true';
}

function noStore(c: Context): void {
  // Live data, and one URL answers a page or a fragment depending on HX-Request.
  c.header('Cache-Control', 'no-store');
  c.header('Vary', 'HX-Request');
}

export function renderPage(
  c: Context,
  deps: PageDeps,
  options: { title: string; section: Section; status?: ContentfulStatusCode },
  body: Child,
) {
  noStore(c);
  const loggedIn = deps.config.apiTokens.length > 0;
  return c.html(
    html`<!doctype html>${(
      <Layout title={options.title} section={options.section} loggedIn={loggedIn}>
        {body}
      </Layout>
    )}`,
    options.status ?? 200,
  );
}

export function renderFragment(
  c: Context,
  body: Parameters<Context['html']>[0],
  status: ContentfulStatusCode = 200,
) {
  noStore(c);
  return c.html(body, status);
}

/** `ops/nightly` → `/workflows/ops/nightly`, each segment encoded. */
export function workflowHref(name: string): string {
  return `/workflows/${name.split('/').map(encodeURIComponent).join('/')}`;
}

export const runHref = (id: string) => `/runs/${id}`;

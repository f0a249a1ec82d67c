import { describe, expect, it } from 'vitest';
import addComment from '../../../actions/github.add_comment.ts';
import createIssue from '../../../actions/github.create_issue.ts';
import githubRequest from '../../../actions/github.request.ts';
import { ActionError, NonRetriableError, RetryAfterError } from '../../../src/errors.ts';
import type { ConnectionAccess } from '../../../src/plugins/define-action.ts';
import { callAction } from '../../helpers/action-context.ts';

function fakeConnections(answer: (path: string, init: RequestInit) => Response) {
  const calls: { connection: string; path: string; init: RequestInit }[] = [];
  const connections: ConnectionAccess = {
    async fetch(connection, path, init = {}) {
      calls.push({ connection, path, init });
      return answer(path, init);
    },
  };
  return { connections, calls };
}

const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('github actions', () => {
  it('create_issue posts to the repository through the named connection', async () => {
    const { connections, calls } = fakeConnections(() =>
      jsonResponse(201, { id: 7, number: 3, url: 'https://api/x', html_url: 'https://gh/x', extra: true }),
    );
    const { output } = await callAction(
      createIssue,
      { connection: 'gh', owner: 'octo', repo: 'hello world', title: 'T', labels: ['bug'] },
      { connections },
    );
    expect(output).toEqual({ id: 7, number: 3, url: 'https://api/x', html_url: 'https://gh/x' });
    expect(calls[0]).toMatchObject({ connection: 'gh', path: '/repos/octo/hello%20world/issues' });
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ title: 'T', labels: ['bug'] });
    expect(new Headers(calls[0]?.init.headers).get('x-github-api-version')).toBe('2022-11-28');
  });

  it('add_comment comments on an issue number given as text or number', async () => {
    const { connections, calls } = fakeConnections(() =>
      jsonResponse(201, { id: 1, url: 'u', html_url: 'h' }),
    );
    await callAction(
      addComment,
      { connection: 'gh', owner: 'o', repo: 'r', issue_number: '12', body: 'hi' },
      { connections },
    );
    expect(calls[0]?.path).toBe('/repos/o/r/issues/12/comments');
  });

  it('request makes any call and can keep a 4xx as output', async () => {
    const { connections, calls } = fakeConnections(() =>
      jsonResponse(404, { message: 'Not Found' }, { etag: 'e1' }),
    );
    const { output } = await callAction(
      githubRequest,
      { connection: 'gh', path: '/repos/o/r', query: { per_page: '5' }, fail_on_status: false },
      { connections },
    );
    expect(output).toEqual({
      status: 404,
      headers: { 'content-type': 'application/json', etag: 'e1' },
      body: { message: 'Not Found' },
    });
    expect(calls[0]?.path).toBe('/repos/o/r?per_page=5');
  });

  it('maps failures: 4xx final, 5xx retriable, rate limits retry after', async () => {
    const call = (response: Response) =>
      callAction(
        githubRequest,
        { connection: 'gh', path: '/x' },
        { connections: fakeConnections(() => response).connections },
      );
    await expect(call(jsonResponse(422, { message: 'Validation Failed' }))).rejects.toThrow(
      NonRetriableError,
    );
    await expect(call(jsonResponse(422, { message: 'Validation Failed' }))).rejects.toThrow(
      'GET /x (connection gh) answered 422: Validation Failed',
    );
    const server = await call(jsonResponse(502, { message: 'Bad Gateway' })).catch((e: unknown) => e);
    expect(server).toBeInstanceOf(ActionError);
    expect(server).not.toBeInstanceOf(NonRetriableError);
    const limited = await call(jsonResponse(429, { message: 'slow down' }, { 'retry-after': '7' })).catch(
      (e: unknown) => e,
    );
    expect(limited).toBeInstanceOf(RetryAfterError);
    expect((limited as RetryAfterError).retryAfterMs).toBe(7000);
  });

  it('without a database, says where connections live', async () => {
    await expect(callAction(githubRequest, { connection: 'gh', path: '/user' })).rejects.toThrow(
      /connection "gh" is not available here/,
    );
  });
});

import { z } from 'zod';
import { defineAction } from '../src/plugins/define-action.ts';
import { githubCall, repoPath } from '../src/plugins/github.ts';

const input = z.strictObject({
  connection: z.string().min(1).describe('name of an OAuth2 connection (Connections page)'),
  owner: z.string().min(1),
  repo: z.string().min(1),
  title: z.string().min(1),
  body: z.string().optional(),
  labels: z.array(z.string().min(1)).optional(),
  assignees: z.array(z.string().min(1)).optional(),
});

const output = z.object({ number: z.int(), id: z.number(), url: z.string(), html_url: z.string() });

export default defineAction({
  name: 'github.create_issue',
  description: 'Opens an issue in a GitHub repository through an OAuth2 connection.',
  input,
  output,
  async run(ctx) {
    const { connection, owner, repo, ...issue } = ctx.input;
    const { body } = await githubCall(ctx, connection, {
      method: 'POST',
      path: `${repoPath(owner, repo)}/issues`,
      body: issue,
    });
    const created = output.parse(body);
    ctx.log.info(`opened ${owner}/${repo}#${created.number}`);
    return { number: created.number, id: created.id, url: created.url, html_url: created.html_url };
  },
});

import { z } from 'zod';
import { defineAction } from '../src/plugins/define-action.ts';
import { githubCall, repoPath } from '../src/plugins/github.ts';

const input = z.strictObject({
  connection: z.string().min(1).describe('name of an OAuth2 connection (Connections page)'),
  owner: z.string().min(1),
  repo: z.string().min(1),
  issue_number: z.coerce.number().int().positive().describe('issue or pull request number'),
  body: z.string().min(1),
});

const output = z.object({ id: z.number(), url: z.string(), html_url: z.string() });

export default defineAction({
  name: 'github.add_comment',
  description: 'Comments on a GitHub issue or pull request through an OAuth2 connection.',
  input,
  output,
  async run(ctx) {
    const { connection, owner, repo, issue_number, body } = ctx.input;
    const { body: answer } = await githubCall(ctx, connection, {
      method: 'POST',
      path: `${repoPath(owner, repo)}/issues/${issue_number}/comments`,
      body: { body },
    });
    const comment = output.parse(answer);
    ctx.log.info(`commented on ${owner}/${repo}#${issue_number}`);
    return { id: comment.id, url: comment.url, html_url: comment.html_url };
  },
});

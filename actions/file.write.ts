import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { ActionError, NonRetriableError } from '../src/errors.ts';
import { defineAction } from '../src/plugins/define-action.ts';
import { confinePath } from '../src/plugins/files-guard.ts';

const input = z.strictObject({
  path: z.string().describe('File path relative to the files folder (BATON_FILES_DIR).'),
  content: z
    .json()
    .describe(
      'Text to write. Any other JSON value is written as JSON: indented, or one line when appending.',
    ),
  append: z.boolean().default(false).describe('Add to the end of the file instead of replacing it.'),
  mkdir: z.boolean().default(true).describe('Create missing parent folders.'),
});

const output = z.object({
  path: z.string().describe('The normalized path, relative to the files folder.'),
  bytes: z.number().int().describe('Bytes written by this call.'),
});

export default defineAction({
  name: 'file.write',
  description:
    'Writes or appends to a file in the files folder (BATON_FILES_DIR). Paths are confined to that folder: ' +
    'absolute paths, `..` and symlinks leading outside are refused. JSON values are written as JSON text ' +
    '(one line each when appending, so appends build a JSON Lines file).',
  input,
  output,
  async run(ctx) {
    const { path, content, append, mkdir } = ctx.input;
    const target = await confinePath(ctx.env.filesDir, path, { createRoot: true, createDirs: mkdir });
    const text =
      typeof content === 'string'
        ? content
        : append
          ? `${JSON.stringify(content)}\n`
          : `${JSON.stringify(content, null, 2)}\n`;
    const data = Buffer.from(text, 'utf8');
    // O_NOFOLLOW: the checked real path is opened as is, never through a symlink planted since.
    const flags =
      constants.O_WRONLY |
      constants.O_CREAT |
      constants.O_NOFOLLOW |
      (append ? constants.O_APPEND : constants.O_TRUNC);
    try {
      const handle = await open(target.real, flags, 0o666);
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
    } catch (err) {
      throw writeError(err, path, mkdir);
    }
    return { path: target.relative, bytes: data.length };
  },
});

function writeError(err: unknown, path: string, mkdir: boolean): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' && !mkdir
      ? 'its folder does not exist (mkdir: true creates it)'
      : code === 'EISDIR'
        ? 'it is a folder'
        : code === 'ELOOP'
          ? 'it became a symlink while being written'
          : (err as Error).message;
  const message = `could not write ${path}: ${why}`;
  // Only running out of disk space or similar may go away by itself.
  const transient = code === 'ENOSPC' || code === 'EMFILE' || code === 'ENFILE' || code === 'EAGAIN';
  return transient
    ? new ActionError(message, { cause: err })
    : new NonRetriableError(message, { cause: err });
}

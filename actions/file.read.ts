import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { NonRetriableError } from '../src/errors.ts';
import { defineAction } from '../src/plugins/define-action.ts';
import { confinePath } from '../src/plugins/files-guard.ts';

const input = z
  .strictObject({
    path: z.string().describe('File path relative to the files folder (BATON_FILES_DIR).'),
    encoding: z.enum(['utf8', 'base64']).default('utf8').describe('base64 for binary files.'),
    json: z.boolean().default(false).describe('Parse the file as JSON and return the value.'),
  })
  .refine((v) => !(v.json && v.encoding === 'base64'), {
    message: 'json: true reads the file as text; it cannot be combined with encoding: base64',
    path: ['json'],
  });

const output = z.object({
  path: z.string().describe('The normalized path, relative to the files folder.'),
  content: z.json().describe('The text (utf8 or base64), or the parsed value with json: true.'),
  bytes: z.number().int().describe('Size of the file in bytes.'),
});

export default defineAction({
  name: 'file.read',
  description:
    'Reads a file from the files folder (BATON_FILES_DIR) as text, base64 or parsed JSON. Paths are confined ' +
    'to that folder; files larger than the output limit are refused rather than cut.',
  input,
  output,
  async run(ctx) {
    const { path, encoding, json } = ctx.input;
    const limit = ctx.env.outputLimitBytes;
    const target = await confinePath(ctx.env.filesDir, path);
    let data: Buffer;
    try {
      // O_NONBLOCK: opening a FIFO must not hang the task; it is refused below as not a regular file.
      const handle = await open(
        target.real,
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      );
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) throw new NonRetriableError(`could not read ${path}: it is not a regular file`);
        if (stat.size > limit) throw tooLarge(path, stat.size, limit);
        data = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (err) {
      throw readError(err, path);
    }
    if (data.length > limit) throw tooLarge(path, data.length, limit); // it grew while being read
    const bytes = data.length;
    if (encoding === 'base64') return { path: target.relative, content: data.toString('base64'), bytes };
    const text = data.toString('utf8');
    if (!json) return { path: target.relative, content: text, bytes };
    try {
      return { path: target.relative, content: JSON.parse(text), bytes };
    } catch (err) {
      throw new NonRetriableError(`file ${path} is not valid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  },
});

function tooLarge(path: string, size: number, limit: number): NonRetriableError {
  return new NonRetriableError(
    `file ${path} is ${size} bytes, more than the output limit of ${limit} bytes; read a smaller file`,
  );
}

function readError(err: unknown, path: string): Error {
  if (err instanceof NonRetriableError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new NonRetriableError(`file not found: ${path}`, { cause: err });
  const why =
    code === 'EISDIR' ? 'it is a folder' : code === 'ELOOP' ? 'it is a symlink' : (err as Error).message;
  return new NonRetriableError(`could not read ${path}: ${why}`, { cause: err });
}

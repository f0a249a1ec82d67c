/**
 * The ingest baseline: a bare Bun.serve that does what a webhook endpoint must do before it can
 * answer (read the body, check its GitHub HMAC-SHA256 signature in constant time, parse the JSON)
 * and answers 202 with a fresh run id, with no framework, database or queue. Run as its own
 * process: `bun bench/lib/ingest-bare.ts` (secret in BENCH_HOOK_SECRET); prints its URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';

function verified(secret: string, body: Uint8Array, header: string | null): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice(7), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function serveBare(secret: string): string {
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    development: false, // as Baton's serve runs
    async fetch(req) {
      if (req.method !== 'POST') return new Response('not found', { status: 404 });
      const body = new Uint8Array(await req.arrayBuffer());
      if (!verified(secret, body, req.headers.get('x-hub-signature-256')))
        return Response.json({ error: { code: 'unauthorized' } }, { status: 401 });
      JSON.parse(new TextDecoder().decode(body));
      const id = randomUUID();
      return Response.json({ run_id: id, url: `/api/runs/${id}`, duplicate: false }, { status: 202 });
    },
  });
  return `http://127.0.0.1:${server.port}`;
}

const BUN = join(import.meta.dirname, '../../node_modules/.bin/bun');

/** Starts the baseline server in its own process; resolves with its URL and a stop function. */
export async function startBare(secret: string): Promise<{ url: string; pid: number; stop(): void }> {
  const child: ChildProcess = spawn(BUN, [import.meta.filename], {
    env: { ...process.env, BENCH_HOOK_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return { url, pid: child.pid ?? -1, stop: () => child.kill('SIGKILL') };
}

if (import.meta.main) {
  const secret = process.env.BENCH_HOOK_SECRET;
  if (!secret) throw new Error('set BENCH_HOOK_SECRET');
  console.log(`listening ${serveBare(secret)}`);
}

/**
 * Open-loop webhook load generator, run in its own process (`bun bench/lib/loadgen.ts <config json>`)
 * so it never shares an event loop or a core's time slice accounting with the server it measures.
 *
 * - Requests are due at fixed intervals (t0 + i / rate) whatever the server does: nothing waits for
 *   the previous answer. A request is written at once on an idle keep-alive connection, or on a new
 *   one (up to `maxConnections`), else it waits in a queue for the first connection to free up.
 * - Latency is measured from the time a request was DUE, not from when it was written, so a
 *   server that stalls is charged for every request it delayed (no coordinated omission). The
 *   generator's own lateness (timers fire about every 1.1 ms) is reported as `sendLag`.
 * - Every body is unique, carries a unique X-GitHub-Delivery and is signed (X-Hub-Signature-256)
 *   before the timed phase; the whole request is pre-encoded, so the timed phase only writes bytes.
 * - HTTP/1.1 is spoken directly on Bun.connect sockets (no fetch): less client CPU on a machine the
 *   server shares, and exact control over connections.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'bun';
import { signGithub } from '../../src/triggers/webhook-sign.ts';

export interface LoadgenConfig {
  /** Full URL of the webhook, e.g. http://127.0.0.1:3000/hooks/hook. */
  url: string;
  secret: string;
  /** Requests per second. */
  rate: number;
  seconds: number;
  /** Size of each JSON body in bytes (approximately). Default 1024. */
  bodyBytes?: number;
  /** Connections opened before the timed phase. Default 16. */
  connections?: number;
  /** Most connections ever open; beyond, requests queue for a free one. Default 512. */
  maxConnections?: number;
  /** Warm-up before the timed phase (its answers are not measured): seconds at min(rate, 500)/s. Default 1. */
  warmupSeconds?: number;
  /** How long to wait for the last answers after the last request was due. Default 15 s. */
  drainMs?: number;
}

export interface LoadgenResult {
  rate: number;
  seconds: number;
  sent: number;
  /** Answers by HTTP status; 0 = no answer (connection error or timeout). */
  statuses: Record<string, number>;
  errors: number;
  errorSamples: string[];
  /** Latency of each 202 in ms, from the time it was due; same order as runIds. */
  latencyMs: number[];
  /** Latency of each 202 in ms from the time its bytes were written (service time). */
  serviceMs: number[];
  runIds: string[];
  /** Epoch ms at which each 202's request was due (for trigger-to-task latency). */
  dueEpochMs: number[];
  /** Run ids answered during the warm-up (not measured, but they are runs too). */
  warmupRunIds: string[];
  /** 202s per second from the first due time to the last answer. */
  achievedRate: number;
  sendLagP50Ms: number;
  sendLagP99Ms: number;
  connectionsOpened: number;
  /** Client process CPU time (user + system) during the timed phase, in ms. */
  clientCpuMs: number;
  durationMs: number;
}

/** A GitHub-like `issues` event, padded to about `bytes` bytes. */
function makeBody(i: number, delivery: string, bytes: number): string {
  const event = {
    action: 'opened',
    issue: { number: i, title: `Bench issue ${i}`, state: 'open', user: { login: 'bench' }, body: '' },
    repository: { id: 1, full_name: 'baton/bench', private: false },
    sender: { login: 'bench', type: 'User' },
    delivery,
  };
  const base = JSON.stringify(event).length;
  event.issue.body = 'x'.repeat(Math.max(0, bytes - base));
  return JSON.stringify(event);
}

function buildRequests(config: LoadgenConfig, count: number): Uint8Array[] {
  const url = new URL(config.url);
  const encoder = new TextEncoder();
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const delivery = randomUUID();
    const body = makeBody(i, delivery, config.bodyBytes ?? 1024);
    const signature = signGithub(config.secret, body)['X-Hub-Signature-256'];
    const head =
      `POST ${url.pathname}${url.search} HTTP/1.1\r\n` +
      `Host: ${url.host}\r\n` +
      'User-Agent: GitHub-Hookshot/baton-bench\r\n' +
      'Content-Type: application/json\r\n' +
      'X-GitHub-Event: issues\r\n' +
      `X-GitHub-Delivery: ${delivery}\r\n` +
      `X-Hub-Signature-256: ${signature}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    out.push(encoder.encode(head + body));
  }
  return out;
}

interface Conn {
  socket?: Socket<Conn>;
  /** Index of the request in flight, or -1. */
  busy: number;
  buf?: Buffer;
  unwritten?: Uint8Array;
}

interface Phase {
  requests: Uint8Array[];
  due: Float64Array;
  written: Float64Array;
  done: Float64Array;
  status: Uint16Array;
  runId: (string | undefined)[];
  answered: number;
  onAllAnswered?: () => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const RUN_ID = '"run_id":"';

/** A small pool of keep-alive HTTP/1.1 connections, one request in flight on each. */
class Client {
  private readonly idle: Conn[] = [];
  private readonly waiting: number[] = [];
  private waitingHead = 0;
  private open = 0;
  private opening = 0;
  opened = 0;
  errorSamples: string[] = [];
  phase: Phase | undefined;

  constructor(
    private readonly hostname: string,
    private readonly port: number,
    private readonly max: number,
  ) {}

  async warm(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.connect()));
  }

  send(i: number): void {
    const conn = this.idle.pop();
    if (conn) {
      this.write(conn, i);
      return;
    }
    this.waiting.push(i);
    if (this.open + this.opening < this.max) void this.connect().catch(() => {});
  }

  close(): void {
    for (const c of this.idle) c.socket?.end();
  }

  private async connect(): Promise<void> {
    this.opening++;
    const conn: Conn = { busy: -1 };
    try {
      conn.socket = await Bun.connect<Conn>({
        hostname: this.hostname,
        port: this.port,
        data: conn,
        socket: {
          data: (socket, chunk) => this.onData(socket.data, chunk),
          drain: (socket) => this.flush(socket.data),
          close: (socket) => this.onClose(socket.data, 'connection closed'),
          error: (socket, err) => this.onClose(socket.data, err.message),
        },
      });
      conn.socket.setNoDelay(true);
      this.opened++;
      this.open++;
    } catch (err) {
      this.sample(`connect: ${(err as Error).message}`);
      throw err;
    } finally {
      this.opening--;
    }
    this.release(conn);
  }

  private write(conn: Conn, i: number): void {
    const phase = this.phase as Phase;
    conn.busy = i;
    phase.written[i] = performance.now();
    const bytes = phase.requests[i] as Uint8Array;
    const n = conn.socket?.write(bytes) ?? 0;
    conn.unwritten = n < bytes.length ? bytes.subarray(Math.max(0, n)) : undefined;
  }

  private flush(conn: Conn): void {
    if (!conn.unwritten || !conn.socket) return;
    const n = conn.socket.write(conn.unwritten);
    conn.unwritten = n < conn.unwritten.length ? conn.unwritten.subarray(Math.max(0, n)) : undefined;
  }

  private release(conn: Conn): void {
    if (this.waitingHead < this.waiting.length) {
      const next = this.waiting[this.waitingHead++] as number;
      if (this.waitingHead > 4096 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitingHead);
        this.waitingHead = 0;
      }
      this.write(conn, next);
    } else {
      this.idle.push(conn);
    }
  }

  private onData(conn: Conn, chunk: Buffer): void {
    conn.buf = conn.buf ? Buffer.concat([conn.buf, chunk]) : chunk;
    for (;;) {
      const buf: Buffer | undefined = conn.buf;
      if (!buf) return;
      const end: number = buf.indexOf(HEADER_END);
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end + 2);
      const m = CONTENT_LENGTH.exec(head);
      if (!m) {
        this.fail(conn, `no Content-Length in answer: ${head.slice(0, 80)}`);
        conn.socket?.end();
        return;
      }
      const total: number = end + 4 + Number(m[1]);
      if (buf.length < total) return;
      const status = Number(head.slice(9, 12));
      const body = buf.toString('utf8', end + 4, total);
      conn.buf = buf.length > total ? buf.subarray(total) : undefined;
      this.complete(conn, status, body);
      if (/\r\nconnection:\s*close/i.test(head)) conn.socket?.end();
    }
  }

  private complete(conn: Conn, status: number, body: string): void {
    const phase = this.phase as Phase;
    const i = conn.busy;
    if (i < 0) return;
    conn.busy = -1;
    phase.done[i] = performance.now();
    phase.status[i] = status;
    if (status === 202) {
      const at = body.indexOf(RUN_ID);
      if (at >= 0) phase.runId[i] = body.slice(at + RUN_ID.length, at + RUN_ID.length + 36);
    } else this.sample(`HTTP ${status}: ${body.slice(0, 200)}`);
    phase.answered++;
    if (phase.answered === phase.requests.length) phase.onAllAnswered?.();
    this.release(conn);
  }

  private fail(conn: Conn, why: string): void {
    const phase = this.phase as Phase;
    const i = conn.busy;
    this.sample(why);
    if (i < 0) return;
    conn.busy = -1;
    phase.status[i] = 0;
    phase.done[i] = performance.now();
    phase.answered++;
    if (phase.answered === phase.requests.length) phase.onAllAnswered?.();
  }

  private onClose(conn: Conn, why: string): void {
    if (!conn.socket) return;
    conn.socket = undefined;
    this.open--;
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    if (conn.busy >= 0) this.fail(conn, why);
  }

  private sample(why: string): void {
    if (this.errorSamples.length < 5) this.errorSamples.push(why);
  }
}

function newPhase(requests: Uint8Array[]): Phase {
  const n = requests.length;
  return {
    requests,
    due: new Float64Array(n),
    written: new Float64Array(n),
    done: new Float64Array(n),
    status: new Uint16Array(n),
    runId: new Array(n),
    answered: 0,
  };
}

/** Sends the phase's requests open-loop at `rate`, then waits (up to drainMs) for the answers. */
async function runPhase(client: Client, phase: Phase, rate: number, drainMs: number): Promise<number> {
  client.phase = phase;
  const total = phase.requests.length;
  const interval = 1000 / rate;
  const t0 = performance.now() + 5;
  const allAnswered = new Promise<void>((resolve) => {
    phase.onAllAnswered = resolve;
  });
  let next = 0;
  while (next < total) {
    const now = performance.now();
    while (next < total && t0 + next * interval <= now) {
      phase.due[next] = t0 + next * interval;
      client.send(next);
      next++;
    }
    // Timers fire no more often than about every 1.1 ms; a shorter sleep would spin the CPU.
    if (next < total) await Bun.sleep(1);
  }
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, drainMs));
  await Promise.race([allAnswered, timeout]);
  return t0;
}

function quantile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export async function generateLoad(config: LoadgenConfig): Promise<LoadgenResult> {
  const url = new URL(config.url);
  const total = Math.round(config.rate * config.seconds);
  const warmRate = Math.min(config.rate, 500);
  const warmCount = Math.round(warmRate * (config.warmupSeconds ?? 1));
  const warm = newPhase(buildRequests(config, warmCount));
  const timed = newPhase(buildRequests(config, total));
  const client = new Client(url.hostname, Number(url.port), config.maxConnections ?? 512);
  await client.warm(config.connections ?? 16);
  const drainMs = config.drainMs ?? 15_000;
  if (warmCount > 0) await runPhase(client, warm, warmRate, drainMs);
  client.errorSamples = [];

  const cpu0 = process.cpuUsage();
  const t0 = await runPhase(client, timed, config.rate, drainMs);
  const cpu = process.cpuUsage(cpu0);
  client.close();

  const statuses: Record<string, number> = {};
  const latencyMs: number[] = [];
  const serviceMs: number[] = [];
  const runIds: string[] = [];
  const dueEpochMs: number[] = [];
  const lag = new Float64Array(total);
  let lastDone = t0;
  let errors = 0;
  for (let i = 0; i < total; i++) {
    const s = timed.status[i] as number;
    statuses[s] = (statuses[s] ?? 0) + 1;
    lag[i] = (timed.written[i] as number) - (timed.due[i] as number);
    const done = timed.done[i] as number;
    if (done > lastDone) lastDone = done;
    const id = timed.runId[i];
    if (s !== 202 || !id) {
      errors++;
      continue;
    }
    latencyMs.push(done - (timed.due[i] as number));
    serviceMs.push(done - (timed.written[i] as number));
    runIds.push(id);
    dueEpochMs.push(performance.timeOrigin + (timed.due[i] as number));
  }
  lag.sort();
  const unanswered = total - timed.answered;
  if (unanswered > 0)
    client.errorSamples.unshift(`${unanswered} requests had no answer ${drainMs} ms after the last was due`);
  const elapsed = lastDone - t0;
  return {
    rate: config.rate,
    seconds: config.seconds,
    sent: total,
    statuses,
    errors,
    errorSamples: client.errorSamples,
    latencyMs,
    serviceMs,
    runIds,
    dueEpochMs,
    warmupRunIds: warm.runId.filter((id): id is string => id !== undefined),
    achievedRate: elapsed > 0 ? (runIds.length / elapsed) * 1000 : 0,
    sendLagP50Ms: quantile(lag, 50),
    sendLagP99Ms: quantile(lag, 99),
    connectionsOpened: client.opened,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    durationMs: elapsed,
  };
}

const BUN = join(import.meta.dirname, '../../node_modules/.bin/bun');

/** Runs one load in a separate `bun` process and returns its result. */
export async function runLoadgen(config: LoadgenConfig): Promise<LoadgenResult> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-loadgen-'));
  const out = join(dir, 'result.json');
  try {
    const child: ChildProcess = spawn(BUN, [import.meta.filename, JSON.stringify(config), out], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-10_000);
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`loadgen exited with ${code}: ${err}`);
    return JSON.parse(readFileSync(out, 'utf8')) as LoadgenResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const [configJson, out] = process.argv.slice(2);
  if (!configJson || !out) {
    console.error('usage: bun bench/lib/loadgen.ts <config json> <result file>');
    process.exit(2);
  }
  const result = await generateLoad(JSON.parse(configJson) as LoadgenConfig);
  await Bun.write(out, JSON.stringify(result));
  process.exit(0);
}

import Redis, { type RedisOptions } from 'ioredis';
import { BatonError } from '../errors.ts';
import { batcher } from '../util/batcher.ts';
import type { Queue, QueueMessage } from './queue.ts';

const GROUP = 'workers';
/** Lowest wait of a failed claim, so a caller polling with blockMs 0 still cannot spin on a dead Redis. */
const MIN_DOWN_WAIT_MS = 1000;
/** How long close() waits for enqueues still on their way to Redis. */
const CLOSE_DRAIN_MS = 2000;

/**
 * Options for the clients `connect` creates: reconnect forever with a capped backoff (a worker
 * outlives Redis restarts), but fail a queued command after two attempts so callers hear about it.
 */
export const redisClientOptions: RedisOptions = {
  maxRetriesPerRequest: 1,
  // Commands issued in the same tick (a burst of enqueues after a group commit) share one write.
  enableAutoPipelining: true,
  retryStrategy: (times) => Math.min(times * 200, 2000),
};

/** Redis is unreachable; the message names the address and the last connection error. */
export class QueueUnavailableError extends BatonError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('internal', message, options);
  }
}

export interface RedisQueueOptions {
  /** Commands that never block. Quit by close() only when the queue created it. */
  redis: Redis;
  prefix: string;
  /** Approximate cap on the stream length (XADD MAXLEN ~); older entries are trimmed. */
  maxLen?: number;
}

/**
 * Redis Streams: one stream `<prefix>:runs`, one consumer group `workers`.
 * - ack = XACK + XDEL, so the stream holds only unacknowledged entries (bounded memory, and a
 *   group re-created at '0' never replays finished runs); depth() is therefore XLEN.
 * - The blocking XREADGROUP runs on its own connection (a duplicate), so enqueue/ack/touch from
 *   the same process are never stuck behind a BLOCK.
 * - Redis down: claim waits max(blockMs, 1s) in total, then throws QueueUnavailableError; the
 *   clients keep reconnecting in the background, so a later claim works once Redis is back.
 */
export class RedisQueue implements Queue {
  readonly key: string;
  private readonly redis: Redis;
  private readonly blocking: Redis;
  private readonly ownsMain: boolean;
  private readonly maxLen: number;
  /** XAUTOCLAIM cursor: repeated claims walk the whole PEL instead of rescanning its head. */
  private cursor = '0-0';
  private closed = false;
  private shutdown: Promise<void> | undefined;
  private lastConnectionError: Error | undefined;
  private readonly closing = new AbortController();
  private readonly ackBatch: (id: string) => Promise<undefined>;
  private readonly enqueueBatch: (runId: string) => Promise<undefined>;
  /** Enqueues not yet answered by Redis: callers need not wait for them, close() does. */
  private readonly adding = new Set<Promise<undefined>>();

  constructor(options: RedisQueueOptions, ownsMain = false) {
    this.redis = options.redis;
    this.ownsMain = ownsMain;
    this.key = `${options.prefix}:runs`;
    this.maxLen = options.maxLen ?? 100_000;
    this.blocking = this.redis.duplicate({
      connectionName: `${options.prefix}:blocking`,
      enableAutoPipelining: false,
    });
    this.ackBatch = batcher((ids: string[]) => this.ackIds(ids), { maxBatch: 500, concurrency: 1 });
    this.enqueueBatch = batcher((runIds: string[]) => this.addRuns(runIds), {
      maxBatch: 500,
      concurrency: 2,
    });
    const remember = (err: Error) => {
      this.lastConnectionError = err;
    };
    // A listener also keeps ioredis from printing "Unhandled error event" on every reconnect.
    this.blocking.on('error', remember);
    if (ownsMain) this.redis.on('error', remember);
  }

  /** Creates (and on close quits) its own clients. Connects lazily; never throws for a down Redis. */
  static connect(url: string, prefix: string, maxLen?: number): RedisQueue {
    return new RedisQueue({ redis: new Redis(url, redisClientOptions), prefix, maxLen }, true);
  }

  /** Runs committed together (one group-committed INSERT) are added by one command. */
  async enqueue(runId: string): Promise<void> {
    const adding = this.guard(() => this.enqueueBatch(runId));
    this.adding.add(adding);
    try {
      await adding;
    } finally {
      this.adding.delete(adding);
    }
  }

  /**
   * One XADD per run, in order. Several go through one script call: a command each cost the
   * client about 8 µs (its command object, promise, tracing and reply), the script 3 µs a run.
   */
  private async addRuns(runIds: string[]): Promise<undefined[]> {
    if (runIds.length === 1) {
      await this.redis.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', 'runId', runIds[0] as string);
    } else {
      await this.redis.eval(ENQUEUE_SCRIPT, 1, this.key, this.maxLen, ...runIds);
    }
    return runIds.map(() => undefined);
  }

  async claim(
    consumer: string,
    count: number,
    options: { blockMs: number; staleMs: number },
  ): Promise<QueueMessage[]> {
    if (this.closed || count <= 0) return [];
    const started = Date.now();
    try {
      try {
        return await this.claimOnce(consumer, count, options);
      } catch (err) {
        if (!isReply(err, 'NOGROUP')) throw err;
        // First use, or the stream was deleted/FLUSHALLed: recreate the group and try once more.
        await this.ensureGroup();
        return await this.claimOnce(consumer, count, options);
      }
    } catch (err) {
      if (this.closed) return [];
      if (isReplyError(err))
        throw new BatonError('internal', `queue ${this.key}: ${errMessage(err)}`, { cause: err });
      await sleep(Math.max(options.blockMs, MIN_DOWN_WAIT_MS) - (Date.now() - started), this.closing.signal);
      if (this.closed) return [];
      throw this.unavailable(err);
    }
  }

  async touch(consumer: string, messages: QueueMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const ids = messages.map((m) => m.id);
    try {
      await this.guard(() => this.redis.eval(TOUCH_SCRIPT, 1, this.key, GROUP, consumer, ...ids));
    } catch (err) {
      if (!isReply(err, 'NOGROUP')) throw err; // stream gone: nothing left to keep
    }
  }

  /** Acks of runs finishing together go out as one XACK + XDEL. */
  async ack(message: QueueMessage): Promise<void> {
    await this.guard(() => this.ackBatch(message.id));
  }

  private async ackIds(ids: string[]): Promise<undefined[]> {
    const replies = await this.redis
      .multi()
      .xack(this.key, GROUP, ...ids)
      .xdel(this.key, ...ids)
      .exec();
    const failed = replies?.find(([err]) => err)?.[0];
    if (failed) throw failed;
    return ids.map(() => undefined);
  }

  /** The first entry after the group's last-delivered id (entry ids are Redis's clock in ms). */
  async oldestWaiting(): Promise<Date | undefined> {
    return await this.guard(async () => {
      let lastDelivered: string | undefined;
      try {
        const groups = (await this.redis.xinfo('GROUPS', this.key)) as unknown[][];
        for (const group of groups) {
          const fields = Object.fromEntries(pairs(group));
          if (fields.name === GROUP) lastDelivered = String(fields['last-delivered-id']);
        }
      } catch (err) {
        if (isReplyError(err)) return undefined; // no stream yet: nothing waits
        throw err;
      }
      const [first] = (await this.redis.xrange(
        this.key,
        lastDelivered === undefined ? '-' : `(${lastDelivered}`,
        '+',
        'COUNT',
        1,
      )) as [string, string[]][];
      return first ? new Date(Number(first[0].split('-')[0])) : undefined;
    });
  }

  /** Entries not yet acknowledged: waiting plus in flight (acked entries are deleted). */
  async depth(): Promise<number> {
    return await this.guard(() => this.redis.xlen(this.key));
  }

  close(): Promise<void> {
    this.shutdown ??= this.closeOnce();
    return this.shutdown;
  }

  private async closeOnce(): Promise<void> {
    // Enqueues of committed runs go out first; those Redis never answers are left to the reconciler.
    const gaveUp = new AbortController();
    await Promise.race([this.drainEnqueues(), sleep(CLOSE_DRAIN_MS, gaveUp.signal)]);
    gaveUp.abort();
    this.closed = true;
    this.closing.abort();
    // disconnect, not quit: QUIT would queue behind a pending BLOCK.
    this.blocking.disconnect();
    if (this.ownsMain) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async drainEnqueues(): Promise<void> {
    while (this.adding.size > 0) await Promise.allSettled([...this.adding]);
  }

  private async claimOnce(
    consumer: string,
    count: number,
    { blockMs, staleMs }: { blockMs: number; staleMs: number },
  ): Promise<QueueMessage[]> {
    const out = await this.takeOver(consumer, count, staleMs);
    if (out.length >= count || this.closed) return out;
    // Block only when there is nothing to hand back yet.
    const block = out.length === 0 && blockMs > 0 ? ['BLOCK', blockMs] : [];
    const reply = await this.blocking.call(
      'XREADGROUP',
      'GROUP',
      GROUP,
      consumer,
      'COUNT',
      count - out.length,
      ...block,
      'STREAMS',
      this.key,
      '>',
    );
    const streams = (reply ?? []) as [string, unknown[]][];
    for (const [, entries] of streams) out.push(...(await this.parseEntries(entries)));
    return out;
  }

  /** XAUTOCLAIM entries idle longer than staleMs (their consumer is presumed dead). */
  private async takeOver(consumer: string, count: number, staleMs: number): Promise<QueueMessage[]> {
    const [next, entries] = (await this.redis.xautoclaim(
      this.key,
      GROUP,
      consumer,
      staleMs,
      this.cursor,
      'COUNT',
      count,
    )) as [string, unknown[]];
    this.cursor = next;
    // Entries trimmed away come back as null (6.2) or in a third list (7.x): skipped either way.
    return this.parseEntries(entries);
  }

  private async parseEntries(entries: unknown[]): Promise<QueueMessage[]> {
    const out: QueueMessage[] = [];
    for (const entry of entries) {
      if (!Array.isArray(entry)) continue;
      const [id, fields] = entry as [string, string[] | null];
      const at = fields ? fields.indexOf('runId') : -1;
      const runId = at >= 0 && at % 2 === 0 ? fields?.[at + 1] : undefined;
      if (runId) out.push({ id, runId });
      else await this.ack({ id, runId: '' }); // not ours or gone: drop it instead of redelivering forever
    }
    return out;
  }

  private async ensureGroup(): Promise<void> {
    this.cursor = '0-0';
    try {
      // '0', not '$': entries enqueued before the group existed (or racing a re-create) are delivered.
      await this.redis.xgroup('CREATE', this.key, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!isReply(err, 'BUSYGROUP')) throw err;
    }
  }

  /** Connection failures (not Redis replies) become QueueUnavailableError. */
  private async guard<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) throw new QueueUnavailableError(`queue ${this.key} is closed`);
    try {
      return await op();
    } catch (err) {
      throw isReplyError(err) ? err : this.unavailable(err);
    }
  }

  private unavailable(err: unknown): QueueUnavailableError {
    const { host, port, path } = this.redis.options;
    const where = path ?? `${host}:${port}`;
    const why = this.lastConnectionError?.message ?? errMessage(err);
    return new QueueUnavailableError(`queue: Redis at ${where} is unreachable (${why})`, { cause: err });
  }
}

/** XADD of each run id after the first argument (the approximate length cap), in order. */
const ENQUEUE_SCRIPT = `
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'runId', ARGV[i])
end
return #ARGV - 1`;

/**
 * Refreshes idle time only for entries this consumer still owns: a bare XCLAIM would steal back
 * an entry another consumer already took over, and the two would then trade it forever.
 */
const TOUCH_SCRIPT = `
local n = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    n = n + 1
  end
end
return n`;

/** XINFO replies are flat [key, value, key, value, ...] lists. */
function pairs(list: unknown[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([String(list[i]), list[i + 1]]);
  return out;
}

function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

function isReply(err: unknown, code: string): boolean {
  return isReplyError(err) && errMessage(err).startsWith(code);
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

import { MemoryQueue } from './memory-queue.ts';
import type { Queue } from './queue.ts';
import { RedisQueue } from './redis-queue.ts';

/** Redis Streams when a URL is configured (workers may be other processes), else in-process. */
export function openQueue(options: { redisUrl?: string; prefix: string; maxLen?: number }): Queue {
  return options.redisUrl
    ? RedisQueue.connect(options.redisUrl, options.prefix, options.maxLen)
    : new MemoryQueue();
}

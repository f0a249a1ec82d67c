import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

/** A random key prefix per test, so tests sharing one Redis never see each other's keys. */
export function testPrefix(): string {
  return `baton-test-${randomBytes(5).toString('hex')}`;
}

export async function connectRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_TEST_URL, {
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${REDIS_TEST_URL}: start it (see .ci/run) or set REDIS_TEST_URL`, {
      cause: err,
    });
  }
  return redis;
}

/** Deletes every key under a prefix (SCAN, never KEYS). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** dropPrefix on a connection of its own (for cleanup after processes that used the prefix). */
export async function dropTestPrefix(prefix: string): Promise<void> {
  const redis = await connectRedis();
  try {
    await dropPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

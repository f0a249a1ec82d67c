import { randomFillSync } from 'node:crypto';

/** Random bytes drawn a pool at a time: a crypto call per id cost more than the rest of the id. */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** UUID v7: time-ordered, so run ids sort by start time in indexes and listings. */
export function uuidv7(now = Date.now()): string {
  if (offset + 10 > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const r = offset;
  offset += 10;
  // 48-bit milliseconds, big-endian; 2 ** 32 splits it without BigInt.
  const high = Math.floor(now / 2 ** 32);
  const low = now >>> 0;
  const h = (byte: number) => HEX[byte] as string;
  const rb = (i: number) => pool[r + i] as number;
  return (
    h((high >>> 8) & 0xff) +
    h(high & 0xff) +
    h(low >>> 24) +
    h((low >>> 16) & 0xff) +
    '-' +
    h((low >>> 8) & 0xff) +
    h(low & 0xff) +
    '-' +
    h((rb(0) & 0x0f) | 0x70) +
    h(rb(1)) +
    '-' +
    h((rb(2) & 0x3f) | 0x80) +
    h(rb(3)) +
    '-' +
    h(rb(4)) +
    h(rb(5)) +
    h(rb(6)) +
    h(rb(7)) +
    h(rb(8)) +
    h(rb(9))
  );
}

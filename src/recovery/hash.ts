/**
 * The stable 64-bit hash that shards snapshots over partition files.
 *
 * It is FNV-1a 64 over the UTF-8 bytes of its input. It depends on nothing but those bytes: not the
 * process, the platform, nor the library version. Rescaling and restoring backups rely on that, so
 * it must never change. The arithmetic runs on two 32-bit halves so that the hot path allocates no
 * BigInt.
 *
 * @module
 */

const TWO_32 = 4294967296;
const PRIME_LO = 0x1b3; // FNV 64 prime = 2^40 + 0x1b3
let hashHi = 0;
let hashLo = 0;

function reset(): void {
  hashHi = 0xcbf29ce4;
  hashLo = 0x84222325;
}

function mixByte(byte: number): void {
  const lo = (hashLo ^ byte) >>> 0;
  const a = lo * PRIME_LO;
  hashHi = (hashHi * PRIME_LO + Math.floor(a / TWO_32) + ((lo << 8) >>> 0)) >>> 0;
  hashLo = a >>> 0;
}

function mixString(s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      mixByte(c);
    } else {
      // Rare: hash the UTF-8 encoding of the rest of the string.
      for (const b of Buffer.from(s.slice(i), 'utf8')) mixByte(b);
      return;
    }
  }
}

/**
 * FNV-1a 64 of a string's UTF-8 bytes.
 *
 * ## Example
 * ```ts
 * import { stableHash64 } from 'weir/recovery';
 * stableHash64('foobar'); // 0x85944171f73967e8n
 * ```
 * @param s the string to hash
 * @returns the unsigned 64-bit hash
 */
export function stableHash64(s: string): bigint {
  reset();
  mixString(s);
  return (BigInt(hashHi) << 32n) | BigInt(hashLo);
}

/**
 * The partition a piece of state belongs to: the FNV-1a 64 hash of `stepId`, a zero byte and
 * `stateKey`, modulo `partCount`.
 *
 * ## Example
 * ```ts
 * import { partitionFor } from 'weir/recovery';
 * partitionFor('recovery.running_count', 'ALL', 3); // always the same index, everywhere
 * ```
 * @param stepId the full step id
 * @param stateKey the key of the state within the step
 * @param partCount how many partitions the store has (below 2^20)
 * @returns an index in `[0, partCount)`
 */
export function partitionFor(stepId: string, stateKey: string, partCount: number): number {
  if (partCount === 1) return 0;
  reset();
  mixString(stepId);
  mixByte(0);
  mixString(stateKey);
  return hashModulo(partCount);
}

/**
 * {@link partitionFor} of a key given as its UTF-8 bytes `key[start, end)`, as the store keeps it.
 * @internal
 */
export function partitionForBytes(stepId: string, key: Uint8Array, start: number, end: number, partCount: number): number {
  if (partCount === 1) return 0;
  reset();
  mixString(stepId);
  mixByte(0);
  for (let i = start; i < end; i++) mixByte(key[i]!);
  return hashModulo(partCount);
}

/** The 64-bit hash mixed so far, modulo `partCount` (below 2^20, so that no step loses precision). */
function hashModulo(partCount: number): number {
  return ((hashHi % partCount) * TWO_32 + hashLo) % partCount;
}

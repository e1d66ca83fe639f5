/**
 * Writing state keys as UTF-8 bytes, as the store keeps them.
 *
 * @internal
 * @module
 */

const utf8 = new TextEncoder();

/**
 * Writes `key` as UTF-8 into `out` from `pos`, which must have room for `3 * key.length` bytes,
 * and returns how many bytes it wrote. An ASCII key, the common case, is written a character at a
 * time: cheaper for short keys than a call into the encoder.
 */
export function putUtf8(key: string, out: Uint8Array, pos: number): number {
  const n = key.length;
  let i = 0;
  for (; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) break;
    out[pos + i] = c;
  }
  // Not ASCII: encode the whole key.
  return i === n ? n : utf8.encodeInto(key, out.subarray(pos)).written;
}

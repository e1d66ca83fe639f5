/**
 * How state values become bytes in the recovery store, and back.
 *
 * @module
 */
import { deserialize, serialize } from 'node:v8';

/**
 * Turns state values into bytes for the recovery store, and bytes back into values.
 *
 * A serde must round-trip every value a step keeps as state; `deserialize(serialize(v))` must be
 * equivalent to `v`. Throw from `serialize` when a value cannot be stored: the runtime names the
 * step and the key in the error it raises.
 *
 * ## Example
 * ```ts
 * import { RecoveryConfig, type Serde } from 'weir/recovery';
 *
 * const jsonSerde: Serde = {
 *   serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
 *   deserialize: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
 * };
 * const recovery = new RecoveryConfig('db_dir', { serde: jsonSerde });
 * ```
 */
export interface Serde {
  /**
   * Encodes one state value.
   * @param value the state to store
   * @returns its bytes
   */
  serialize(value: unknown): Uint8Array;
  /**
   * Decodes bytes made by {@link Serde.serialize}.
   * @param bytes what `serialize` returned
   * @returns the state value
   */
  deserialize(bytes: Uint8Array): unknown;
}

// The first byte says how the rest is encoded. `node:v8` output always starts with its version
// tag 0xFF, so bytes written by plain `v8.serialize` read back unchanged.
const T_NULL = 0x01;
const T_UNDEFINED = 0x02;
const T_FALSE = 0x03;
const T_TRUE = 0x04;
/** int32, little-endian. */
const T_INT32 = 0x05;
/** float64, little-endian. */
const T_FLOAT64 = 0x06;
/** A well-formed string as UTF-8. */
const T_STRING = 0x07;
/** A plain object or array as UTF-8 JSON text (only values that JSON round-trips exactly). */
const T_JSON = 0x08;
const T_V8 = 0xff;

/** Strings up to this length are encoded by a plain loop when they are ASCII. */
const SHORT_STRING = 48;
/** Longer arrays go to `node:v8`. */
const MAX_JSON_ARRAY = 64;
/** Containers nested deeper than this go to `node:v8`, which checks its own limits. */
const MAX_JSON_DEPTH = 64;

/** Each tag as a one-character string; tags below 0x80 are one byte in UTF-8. */
const TAG_CHARS: readonly string[] = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(i));
const scratch = new DataView(new ArrayBuffer(8));
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const utf8Slice = Buffer.prototype.utf8Slice as (this: Uint8Array, start: number, end: number) => string;

/** Containers already met while checking one value: shared or cyclic references go to `node:v8`. */
const seen = new Set<object>();
let root: object | undefined;

/** Whether `JSON.parse(JSON.stringify(v))` gives back exactly what structured clone would. */
function jsonExact(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      // JSON turns NaN and ±Infinity into null, and -0 into 0.
      return Number.isFinite(v) && !(v === 0 && 1 / v < 0);
    case 'object':
      if (v === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      if (depth > 0) {
        if (seen.size === 0) seen.add(root!);
        if (seen.has(v)) return false;
        seen.add(v);
      }
      return Array.isArray(v) ? arrayExact(v, depth + 1) : objectExact(v as Record<string, unknown>, depth + 1);
    default:
      return false; // undefined, bigint, symbol, function
  }
}

function arrayExact(a: unknown[], depth: number): boolean {
  const n = a.length;
  // Long arrays: node:v8 writes them about as fast as this checks them.
  if (n > MAX_JSON_ARRAY || Object.getPrototypeOf(a) !== Array.prototype) return false;
  // A hole reads as undefined and fails the check below.
  for (let i = 0; i < n; i++) if (!jsonExact(a[i], depth)) return false;
  // Named properties on an array survive structured clone but not JSON.
  return Object.keys(a).length === n;
}

function objectExact(o: Record<string, unknown>, depth: number): boolean {
  const proto = Object.getPrototypeOf(o);
  // Structured clone turns a null-prototype object into a plain one, exactly as JSON.parse does.
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) if (!jsonExact(o[keys[i]!], depth)) return false;
  return true;
}

function isJsonExact(v: object): boolean {
  root = v;
  try {
    return jsonExact(v, 0);
  } finally {
    if (seen.size > 0) seen.clear();
    root = undefined;
  }
}

/** `tag` then the UTF-8 bytes of `s`, which must be well-formed. */
function tagged(tag: number, s: string): Uint8Array {
  const n = s.length;
  if (n <= SHORT_STRING) {
    const out = new Uint8Array(n + 1);
    out[0] = tag;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[i + 1] = c;
    }
    if (i === n) return out;
  }
  return Buffer.from(TAG_CHARS[tag]! + s, 'utf8');
}

/** The most bytes {@link encodeFast} writes. @internal */
export const FAST_MAX = SHORT_STRING + 1;

/**
 * Writes `value` into `out` from `pos` on, byte for byte as {@link serializeValue} encodes it, when
 * it is a number, a boolean, null, undefined or an ASCII string of at most 48 characters: the
 * values that need no allocation to encode. `out` must have {@link FAST_MAX} bytes free at `pos`.
 *
 * @returns where the encoding ends, or -1 for any other value (the bytes at `pos` are then
 *   garbage)
 * @internal
 */
export function encodeFast(value: unknown, out: Uint8Array, pos: number): number {
  switch (typeof value) {
    case 'number':
      if ((value | 0) === value && !(value === 0 && 1 / value < 0)) {
        out[pos] = T_INT32;
        out[pos + 1] = value;
        out[pos + 2] = value >>> 8;
        out[pos + 3] = value >>> 16;
        out[pos + 4] = value >>> 24;
        return pos + 5;
      }
      out[pos] = T_FLOAT64;
      scratch.setFloat64(0, value, true);
      for (let i = 0; i < 8; i++) out[pos + 1 + i] = scratch.getUint8(i);
      return pos + 9;
    case 'string': {
      const n = value.length;
      if (n > SHORT_STRING) return -1;
      out[pos] = T_STRING;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) return -1;
        out[pos + 1 + i] = c;
      }
      return pos + 1 + n;
    }
    case 'boolean':
      out[pos] = value ? T_TRUE : T_FALSE;
      return pos + 1;
    case 'undefined':
      out[pos] = T_UNDEFINED;
      return pos + 1;
    case 'object':
      if (value !== null) return -1;
      out[pos] = T_NULL;
      return pos + 1;
    default:
      return -1;
  }
}

const fastOut = new Uint8Array(FAST_MAX);

/**
 * Encodes a value as {@link v8Serde} does.
 * @internal
 */
export function serializeValue(value: unknown): Uint8Array {
  const end = encodeFast(value, fastOut, 0);
  if (end >= 0) return fastOut.slice(0, end);
  switch (typeof value) {
    case 'string':
      return isWellFormed(value) ? tagged(T_STRING, value) : serialize(value);
    case 'object':
      // JSON.stringify escapes lone surrogates, so its output is always well-formed.
      if (isJsonExact(value as object)) return tagged(T_JSON, JSON.stringify(value));
      return serialize(value);
    default:
      return serialize(value); // bigint; functions and symbols throw here
  }
}

function corrupt(what: string): Error {
  return new Error(`corrupt serialized state: ${what}`);
}

/**
 * Decodes the value in `bytes[start, end)`, as written by {@link serializeValue} or by plain
 * `node:v8` serialize. Reads the common kinds without copying or slicing.
 * @internal
 */
export function deserializeRange(bytes: Uint8Array, start: number, end: number): unknown {
  if (end <= start) throw corrupt('no bytes');
  const tag = bytes[start]!;
  const len = end - start;
  switch (tag) {
    case T_INT32:
      if (len !== 5) break;
      return bytes[start + 1]! | (bytes[start + 2]! << 8) | (bytes[start + 3]! << 16) | (bytes[start + 4]! << 24);
    case T_FLOAT64:
      if (len !== 9) break;
      for (let i = 0; i < 8; i++) scratch.setUint8(i, bytes[start + 1 + i]!);
      return scratch.getFloat64(0, true);
    case T_STRING:
      return utf8Slice.call(bytes, start + 1, end);
    case T_JSON:
      return JSON.parse(utf8Slice.call(bytes, start + 1, end));
    case T_NULL:
    case T_UNDEFINED:
    case T_FALSE:
    case T_TRUE:
      if (len !== 1) break;
      return tag === T_NULL ? null : tag === T_UNDEFINED ? undefined : tag === T_TRUE;
    case T_V8:
      return deserialize(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
    default:
      throw corrupt(`unknown tag 0x${tag.toString(16).padStart(2, '0')}`);
  }
  throw corrupt(`${len} bytes for tag 0x${tag.toString(16).padStart(2, '0')}`);
}

/**
 * The default serde: `node:v8` structured clone, with compact fast paths for common values.
 *
 * State may hold anything structured clone handles: plain objects, arrays, Map, Set, Date, BigInt,
 * RegExp and typed arrays. Functions, symbols and class identity are not preserved.
 *
 * Numbers, booleans, null, undefined and well-formed strings are written as one tag byte and their
 * value. Plain objects and arrays whose contents JSON round-trips exactly (finite numbers other than
 * -0, strings, booleans, null, nested plain objects and arrays, no shared references) are written as
 * a tag byte and JSON text. Everything else is `v8.serialize` output, which starts with 0xFF; such
 * bytes, written by any `node:v8`, also read back.
 *
 * ## Example
 * ```ts
 * import { v8Serde } from 'weir/recovery';
 *
 * const bytes = v8Serde.serialize(new Map([['a', 1n]]));
 * v8Serde.deserialize(bytes); // Map { 'a' => 1n }
 * ```
 */
export const v8Serde: Serde = Object.freeze({
  serialize(value: unknown): Uint8Array {
    return serializeValue(value);
  },
  deserialize(bytes: Uint8Array): unknown {
    return deserializeRange(bytes, 0, bytes.length);
  },
});

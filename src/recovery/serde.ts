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

/**
 * The default serde: `node:v8` structured clone.
 *
 * State may hold anything structured clone handles: plain objects, arrays, Map, Set, Date, BigInt,
 * RegExp and typed arrays. Functions, symbols and class identity are not preserved.
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
    return serialize(value);
  },
  deserialize(bytes: Uint8Array): unknown {
    return deserialize(bytes);
  },
});

/**
 * How record keys and values become bytes for Kafka, and back.
 *
 * @module
 */

/**
 * Turns record keys or values into bytes for Kafka, and bytes back into values.
 *
 * A {@link KafkaSource} uses `deserialize`, a {@link KafkaSink} uses `serialize`; the helpers
 * {@link jsonSerde}, {@link stringSerde} and {@link bytesSerde} implement both. A `null` key or
 * value (a tombstone) is passed through as `null` and never reaches the serde. A `deserialize`
 * that throws sends the record to the error list (`errors: 'stream'`) or fails the run.
 *
 * ## Example
 * ```ts
 * import { KafkaSource, type KafkaSerde } from 'weir/connectors/kafka';
 * const upper: KafkaSerde<string> = {
 *   serialize: (s) => s,
 *   deserialize: (bytes) => bytes.toString('utf8').toUpperCase(),
 * };
 * const source = new KafkaSource(['localhost:9092'], ['words'], { value: upper });
 * ```
 */
export interface KafkaSerde<T> {
  /**
   * Encodes one key or value.
   * @param value the key or value
   * @returns bytes, or a string sent as UTF-8
   */
  serialize(value: T): Buffer | string;
  /**
   * Decodes one key or value. Throw when the bytes are not valid.
   * @param bytes the record's key or value
   * @returns the decoded key or value
   */
  deserialize(bytes: Buffer): T;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 strings. Decoding rejects bytes that are not valid UTF-8.
 *
 * ## Example
 * ```ts
 * import { KafkaSource, stringSerde } from 'weir/connectors/kafka';
 * const source = new KafkaSource(['localhost:9092'], ['lines'], { key: stringSerde, value: stringSerde });
 * ```
 */
export const stringSerde: KafkaSerde<string> = Object.freeze({
  serialize(value: string): string {
    if (typeof value !== 'string') throw new TypeError(`stringSerde expects a string, got ${typeof value}`);
    return value;
  },
  deserialize(bytes: Buffer): string {
    return utf8.decode(bytes);
  },
});

/**
 * Raw bytes, unchanged. The default of both connectors.
 *
 * ## Example
 * ```ts
 * import { KafkaSink, bytesSerde } from 'weir/connectors/kafka';
 * const sink = new KafkaSink(['localhost:9092'], 'blobs', { value: bytesSerde });
 * ```
 */
export const bytesSerde: KafkaSerde<Buffer> = Object.freeze({
  serialize(value: Buffer): Buffer {
    if (!Buffer.isBuffer(value)) throw new TypeError(`bytesSerde expects a Buffer, got ${typeof value}`);
    return value;
  },
  deserialize(bytes: Buffer): Buffer {
    return bytes;
  },
});

/**
 * JSON text in UTF-8. Decoding rejects bytes that are not valid UTF-8 or not valid JSON.
 *
 * The type parameter is not checked at run time: validate decoded values in a step if the
 * producer is not trusted.
 *
 * ## Example
 * ```ts
 * import { KafkaSource, jsonSerde } from 'weir/connectors/kafka';
 * interface Order { id: string; total: number }
 * const source = new KafkaSource(['localhost:9092'], ['orders'], { value: jsonSerde<Order>() });
 * ```
 * @returns a serde for JSON values of type `T`
 */
export function jsonSerde<T = unknown>(): KafkaSerde<T> {
  return {
    serialize(value: T): string {
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`jsonSerde cannot encode ${typeof value}`);
      return text;
    },
    deserialize(bytes: Buffer): T {
      return JSON.parse(utf8.decode(bytes)) as T;
    },
  };
}

import { StepError } from '../errors.js';
import { deserializeRange, v8Serde, type Serde } from '../recovery/serde.js';

/**
 * Decodes one stored state, `bytes[start, end)`, in place when the serde is the default one.
 * @throws {StepError} naming the step and the key when the bytes cannot be decoded
 * @internal
 */
export function decodeState(serde: Serde, stepId: string, key: string, bytes: Uint8Array, start: number, end: number): unknown {
  try {
    return serde === v8Serde ? deserializeRange(bytes, start, end) : serde.deserialize(bytes.subarray(start, end));
  } catch (err) {
    throw new StepError(stepId, `cannot deserialize the stored state: ${(err as Error).message}`, { key, cause: err });
  }
}

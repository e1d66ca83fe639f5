/**
 * Thrown by a source partition to stop the run at once, as a crash would: no final snapshot and no
 * `close()`. `TestingSource.ABORT()` uses it to stand in for a crash in tests.
 *
 * ## Example
 * ```ts
 * import { AbortExecution } from 'weir/inputs';
 * const part = { nextBatch() { throw new AbortExecution(); }, snapshot: () => 0 };
 * ```
 */
export class AbortExecution extends Error {
  override name = 'AbortExecution';
  constructor(message = 'execution aborted') {
    super(message);
  }
}

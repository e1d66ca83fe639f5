import { EOF, FixedPartitionedSource, type StatefulSourcePartition } from '../inputs.js';
import { AbortExecution } from '../runtime/abort.js';

/**
 * A marker that {@link TestingSource} understands, made by `TestingSource.EOF()`, `.ABORT()` or
 * `.PAUSE(ms)`.
 *
 * ## Example
 * ```ts
 * import { TestingSource, type TestingMarker } from 'weir/testing';
 * const stop: TestingMarker = TestingSource.EOF();
 * ```
 */
export interface TestingMarker {
  /** Which marker it is. */
  readonly marker: 'EOF' | 'ABORT' | 'PAUSE';
}

/** The base of every marker, so that one check tells markers from items. */
abstract class Marker implements TestingMarker {
  abstract readonly marker: 'EOF' | 'ABORT' | 'PAUSE';
}
class EofMarker extends Marker {
  readonly marker = 'EOF' as const;
}
class AbortMarker extends Marker {
  readonly marker = 'ABORT' as const;
  /** Set once the marker has fired, so a second run in the same process passes it. */
  triggered = false;
}
class PauseMarker extends Marker {
  readonly marker = 'PAUSE' as const;
  constructor(readonly ms: number) {
    super();
  }
}


class TestingPartition<T> implements StatefulSourcePartition<T, number> {
  private index: number;
  private awake: number | undefined;
  private pending: 'eof' | 'abort' | undefined;

  constructor(
    private readonly items: readonly (T | TestingMarker)[],
    private readonly batchSize: number,
    resume: number | undefined,
  ) {
    this.index = resume ?? 0;
  }

  nextBatch(): T[] | typeof EOF {
    if (this.pending === 'eof') return EOF;
    if (this.pending === 'abort') {
      this.pending = undefined;
      throw new AbortExecution('TestingSource.ABORT() reached');
    }
    this.awake = undefined;
    const batch: T[] = [];
    const items = this.items;
    let i = this.index;
    for (; i < items.length; i++) {
      const x = items[i];
      if (typeof x !== 'object' || x === null || !(x instanceof Marker)) {
        batch.push(x as T);
        if (batch.length >= this.batchSize) {
          i++;
          break;
        }
        continue;
      }
      if (x instanceof EofMarker) {
        this.pending = 'eof';
        i++; // a continuation skips it
        break;
      }
      if (x instanceof AbortMarker) {
        if (!x.triggered) {
          x.triggered = true;
          this.pending = 'abort';
          break; // not skipped: a resume passes it because it has fired
        }
        continue;
      }
      if (x instanceof PauseMarker) {
        this.awake = Date.now() + x.ms;
        i++;
        break;
      }
    }
    this.index = i;
    if (batch.length === 0 && this.pending === undefined && this.awake === undefined && i >= items.length) return EOF;
    return batch;
  }

  nextAwake(): number | undefined {
    return this.awake;
  }

  snapshot(): number {
    return this.index;
  }
}

/**
 * A source over an array, for tests and examples. It is resumable: its state is the index of the
 * next item, so a run that resumes continues where the last complete epoch left off.
 *
 * The array may hold markers:
 * - `TestingSource.EOF()` ends the run there; running again continues after it;
 * - `TestingSource.ABORT()` stops the run at once, with no final snapshot, as a crash would. It
 *   fires once per marker object, so a second run in the same process passes it;
 * - `TestingSource.PAUSE(ms)` waits before the next batch.
 *
 * The array is read live: items pushed onto it between runs are seen by the next run.
 *
 * Delivery: exactly-once state with recovery, since it replays from the stored index.
 *
 * ## Example
 * ```ts
 * import { TestingSource } from 'weir/testing';
 * const src = new TestingSource([1, 2, TestingSource.ABORT(), 3, TestingSource.EOF(), 4], 2);
 * ```
 */
export class TestingSource<T> extends FixedPartitionedSource<T, number> {
  /**
   * @param items the items, with markers
   * @param batchSize the most items per batch; default 1, as in Bytewax
   */
  constructor(
    readonly items: (T | TestingMarker)[],
    readonly batchSize = 1,
  ) {
    super();
    if (!Array.isArray(items)) throw new TypeError('TestingSource needs an array of items');
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError(`TestingSource batchSize must be an integer >= 1, got ${String(batchSize)}`);
  }

  /** A marker that ends the run; a later run continues after it. */
  static EOF(): TestingMarker {
    return new EofMarker();
  }

  /** A marker that stops the run at once, as a crash would; it fires once. */
  static ABORT(): TestingMarker {
    return new AbortMarker();
  }

  /**
   * A marker that pauses the source.
   * @param ms how long to wait before the next batch
   */
  static PAUSE(ms: number): TestingMarker {
    return new PauseMarker(ms);
  }

  listParts(): string[] {
    return ['iterable'];
  }

  buildPart(_stepId: string, _forPart: string, resume: number | undefined): StatefulSourcePartition<T, number> {
    return new TestingPartition<T>(this.items, this.batchSize, resume);
  }
}

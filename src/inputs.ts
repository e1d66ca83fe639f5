/**
 * The source contracts: what a connector implements to feed a dataflow.
 *
 * There are two kinds, as in Bytewax:
 * - a {@link FixedPartitionedSource} has a fixed list of named partitions, each of which can
 *   snapshot its position and resume from it (files, Kafka topic-partitions);
 * - a {@link DynamicSource} builds one stateless partition per worker and never resumes
 *   (an Observable, a socket).
 *
 * @module
 */

/**
 * Returned by `nextBatch()` when a partition has no more data.
 *
 * ## Example
 * ```ts
 * import { EOF, type StatefulSourcePartition } from 'weir/inputs';
 * const part: StatefulSourcePartition<number, number> = {
 *   nextBatch: () => EOF,
 *   snapshot: () => 0,
 * };
 * ```
 */
export const EOF: unique symbol = Symbol.for('weir.EOF');

/**
 * What `nextBatch()` returns: some items (possibly none), or {@link EOF}.
 *
 * ## Example
 * ```ts
 * import { EOF, type BatchResult } from 'weir/inputs';
 * const next = (done: boolean): BatchResult<number> => (done ? EOF : [1, 2, 3]);
 * ```
 */
export type BatchResult<T> = T[] | typeof EOF;

/**
 * One resumable partition of a {@link FixedPartitionedSource}.
 *
 * The runtime calls `nextBatch()` when `nextAwake()` has passed, and `snapshot()` at every epoch
 * close. The snapshot is handed back to `buildPart` on resume.
 *
 * ## Example
 * ```ts
 * import { EOF, type StatefulSourcePartition } from 'weir/inputs';
 * class Counter implements StatefulSourcePartition<number, number> {
 *   constructor(private i: number) {}
 *   nextBatch() { return this.i < 10 ? [this.i++] : EOF; }
 *   snapshot() { return this.i; }
 * }
 * ```
 */
export interface StatefulSourcePartition<T, S, E = never> {
  /** The next batch of items, or {@link EOF}. May be async; it is awaited per batch. */
  nextBatch(): BatchResult<T> | Promise<BatchResult<T>>;
  /**
   * When to call `nextBatch()` next, in ms since the Unix epoch. `undefined` means as soon as
   * possible. Use it to poll without busy waiting.
   */
  nextAwake?(): number | undefined;
  /** The position to resume from. Called at every epoch close, after the epoch's batches. */
  snapshot(): S;
  /**
   * In-band errors (records that could not be decoded, say) found since the last call. The input
   * step emits them on its `.errors` stream. Called after every `nextBatch()`.
   */
  takeErrors?(): E[];
  /**
   * Called once the epoch has been committed to the recovery store (or closed, without recovery):
   * the place to tell an external system about progress, such as a Kafka consumer group.
   * When a partition has this method, every commit is fsynced before it is called.
   */
  epochCommitted?(epoch: number): void | Promise<void>;
  /** Releases resources at a clean end of the run. Not called on abort or crash. */
  close?(): void | Promise<void>;
}

/**
 * One partition of a {@link DynamicSource}. It keeps no position and never resumes.
 *
 * ## Example
 * ```ts
 * import { EOF, type StatelessSourcePartition } from 'weir/inputs';
 * const part: StatelessSourcePartition<string> = { nextBatch: () => EOF };
 * ```
 */
export interface StatelessSourcePartition<T, E = never> {
  /** The next batch of items, or {@link EOF}. May be async. */
  nextBatch(): BatchResult<T> | Promise<BatchResult<T>>;
  /** When to call `nextBatch()` next, in ms since the Unix epoch; `undefined` is now. */
  nextAwake?(): number | undefined;
  /** In-band errors found since the last call, emitted on the input's `.errors` stream. */
  takeErrors?(): E[];
  /** Releases resources at a clean end of the run. */
  close?(): void | Promise<void>;
}

/**
 * A source with a fixed set of named partitions, each resumable from its own snapshot.
 *
 * Delivery: with recovery on, a resumed run replays from the positions stored with the last
 * complete epoch, so state is exactly-once.
 *
 * ## Example
 * ```ts
 * import { EOF, FixedPartitionedSource, type StatefulSourcePartition } from 'weir/inputs';
 * class Range extends FixedPartitionedSource<number, number> {
 *   listParts() { return ['only']; }
 *   buildPart(_step: string, _part: string, resume: number | undefined): StatefulSourcePartition<number, number> {
 *     let i = resume ?? 0;
 *     return { nextBatch: () => (i < 5 ? [i++] : EOF), snapshot: () => i };
 *   }
 * }
 * ```
 */
export abstract class FixedPartitionedSource<T, S = unknown, E = never> {
  /** Discriminates the source kinds at run time. */
  readonly sourceKind = 'partitioned' as const;
  /** The names of every partition. Names must be stable across runs: they key the snapshots. */
  abstract listParts(): string[] | Promise<string[]>;
  /**
   * Builds the partition `forPart`, resuming from `resumeState` when there is one.
   * @param stepId the full id of the input step, for error messages
   * @param forPart one of the names from `listParts()`
   * @param resumeState the partition's last snapshot, or `undefined` on a fresh start
   */
  abstract buildPart(
    stepId: string,
    forPart: string,
    resumeState: S | undefined,
  ): StatefulSourcePartition<T, S, E> | Promise<StatefulSourcePartition<T, S, E>>;
}

/**
 * A source that builds one stateless partition per worker. It is not resumable: after a restart
 * it starts wherever its underlying feed is.
 *
 * ## Example
 * ```ts
 * import { DynamicSource, EOF } from 'weir/inputs';
 * class Once extends DynamicSource<string> {
 *   build() { let done = false; return { nextBatch: () => (done ? EOF : ((done = true), ['hi'])) }; }
 * }
 * ```
 */
export abstract class DynamicSource<T, E = never> {
  /** Discriminates the source kinds at run time. */
  readonly sourceKind = 'dynamic' as const;
  /**
   * Builds this worker's partition.
   * @param stepId the full id of the input step
   * @param workerIndex this worker's index, from 0
   * @param workerCount how many workers run the flow
   */
  abstract build(
    stepId: string,
    workerIndex: number,
    workerCount: number,
  ): StatelessSourcePartition<T, E> | Promise<StatelessSourcePartition<T, E>>;
}

/**
 * Any source `op.input` accepts. `E` is the type of its in-band errors, if it has any.
 *
 * ## Example
 * ```ts
 * import type { Source } from 'weir/inputs';
 * import { TestingSource } from 'weir/testing';
 * const src: Source<number> = new TestingSource([1, 2, 3]);
 * ```
 */
export type Source<T, E = never> = FixedPartitionedSource<T, any, E> | DynamicSource<T, E>;

export { AbortExecution } from './runtime/abort.js';

/**
 * The sink contracts: what a connector implements to receive a dataflow's output.
 *
 * - a {@link FixedPartitionedSink} has a fixed list of named partitions; each item is routed to one
 *   by `partFn`, and each partition snapshots its own state (a file offset, say) at epoch close;
 * - a {@link DynamicSink} builds one stateless partition per worker.
 *
 * @module
 */

import { stableHash64 } from './recovery/hash.js';

/**
 * One partition of a {@link FixedPartitionedSink}.
 *
 * `writeBatch` calls for one partition never overlap: the next waits for the previous one's
 * promise. `snapshot(epoch)` is called after the epoch's last write, and the store commits the
 * epoch only after every snapshot has resolved.
 *
 * ## Example
 * ```ts
 * import type { StatefulSinkPartition } from 'weir/outputs';
 * const lines: string[] = [];
 * const part: StatefulSinkPartition<string, number> = {
 *   writeBatch: (items) => { lines.push(...items); },
 *   snapshot: () => lines.length,
 * };
 * ```
 */
export interface StatefulSinkPartition<T, S> {
  /** Writes one batch. May be async; it is awaited per batch, never per item. */
  writeBatch(items: T[], epoch: number): void | Promise<void>;
  /** The state to resume from, after every write of `epoch`. Flush or fsync here. */
  snapshot(epoch: number): S | Promise<S>;
  /**
   * Called once `epoch` has been committed to the recovery store (or closed, without recovery),
   * before the next epoch's first write: the place to commit an external transaction that the
   * snapshot recorded.
   * When a partition has this method, every commit is fsynced before it is called.
   */
  epochCommitted?(epoch: number): void | Promise<void>;
  /** Releases resources at a clean end of the run. Not called on abort or crash. */
  close?(): void | Promise<void>;
}

/**
 * One partition of a {@link DynamicSink}.
 *
 * ## Example
 * ```ts
 * import type { StatelessSinkPartition } from 'weir/outputs';
 * const part: StatelessSinkPartition<string> = { writeBatch: (items) => console.log(items) };
 * ```
 */
export interface StatelessSinkPartition<T> {
  /** Writes one batch. May be async; it is awaited per batch. */
  writeBatch(items: T[], epoch: number): void | Promise<void>;
  /** Called once an epoch's writes have all been made, before the epoch commits. */
  epochDone?(epoch: number): void | Promise<void>;
  /** Releases resources at a clean end of the run. */
  close?(): void | Promise<void>;
}

/**
 * A sink with a fixed set of named partitions, each with resumable state.
 *
 * The default `partFn` sends everything to the first partition when there is one, and otherwise
 * routes `[key, value]` items by a stable hash of the key.
 *
 * ## Example
 * ```ts
 * import { FixedPartitionedSink, type StatefulSinkPartition } from 'weir/outputs';
 * class Memory extends FixedPartitionedSink<string, number> {
 *   readonly lines: string[] = [];
 *   listParts() { return ['only']; }
 *   buildPart(_s: string, _p: string, resume: number | undefined): StatefulSinkPartition<string, number> {
 *     this.lines.length = resume ?? 0;
 *     return { writeBatch: (xs) => { this.lines.push(...xs); }, snapshot: () => this.lines.length };
 *   }
 * }
 * ```
 */
export abstract class FixedPartitionedSink<T, S = unknown> {
  /** Discriminates the sink kinds at run time. */
  readonly sinkKind = 'partitioned' as const;
  /** The names of every partition. They key the snapshots, so keep them stable. */
  abstract listParts(): string[] | Promise<string[]>;
  /**
   * Builds the partition `forPart`, resuming from `resumeState` when there is one.
   * @param stepId the full id of the output step
   * @param forPart one of the names from `listParts()`
   * @param resumeState the partition's last snapshot, or `undefined` on a fresh start
   */
  abstract buildPart(
    stepId: string,
    forPart: string,
    resumeState: S | undefined,
  ): StatefulSinkPartition<T, S> | Promise<StatefulSinkPartition<T, S>>;
  /**
   * Which partition (an index into `listParts()`) an item goes to.
   * @param item the item
   * @param partCount how many partitions there are
   */
  partFn(item: T, partCount: number): number {
    if (partCount === 1) return 0;
    const key = Array.isArray(item) ? item[0] : undefined;
    if (typeof key !== 'string') {
      throw new TypeError(
        'a sink with several partitions needs [key, value] items with a string key, or its own partFn',
      );
    }
    return Number(stableHash64(key) % BigInt(partCount));
  }
}

/**
 * A sink that builds one stateless partition per worker. Output is at-least-once.
 *
 * ## Example
 * ```ts
 * import { DynamicSink } from 'weir/outputs';
 * class Log extends DynamicSink<unknown> {
 *   build() { return { writeBatch: (xs: unknown[]) => xs.forEach((x) => console.log(x)) }; }
 * }
 * ```
 */
export abstract class DynamicSink<T> {
  /** Discriminates the sink kinds at run time. */
  readonly sinkKind = 'dynamic' as const;
  /**
   * Builds this worker's partition.
   * @param stepId the full id of the output step
   * @param workerIndex this worker's index, from 0
   * @param workerCount how many workers run the flow
   */
  abstract build(
    stepId: string,
    workerIndex: number,
    workerCount: number,
  ): StatelessSinkPartition<T> | Promise<StatelessSinkPartition<T>>;
}

/**
 * Any sink `op.output` accepts.
 *
 * ## Example
 * ```ts
 * import type { Sink } from 'weir/outputs';
 * import { StdOutSink } from 'weir/connectors/stdio';
 * const sink: Sink<unknown> = new StdOutSink();
 * ```
 */
export type Sink<T> = FixedPartitionedSink<T, any> | DynamicSink<T>;

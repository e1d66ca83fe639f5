import { WeirError } from '../errors.js';
import type { KeyedStream } from '../stream.js';
import { type Emit, type Retain, type StatefulBatchLogic, statefulBatch } from './statefulBatch.js';

/**
 * Options of {@link collect}.
 *
 * ## Example
 * ```ts
 * import type { CollectOptions } from 'weir/operators';
 * const o: CollectOptions = { timeout: 10_000, maxSize: 100 };
 * ```
 */
export interface CollectOptions {
  /** Emit a key's list this many ms after its first value, even if it is not full. */
  timeout: number;
  /** Emit a key's list as soon as it holds this many values. */
  maxSize: number;
  /** The clock, in ms since the Unix epoch. Default: the run's clock (`runMain`'s `now`). */
  now?: () => number;
}

interface CollectState<V> {
  acc: V[];
  deadline: number;
}

class CollectLogic<V> implements StatefulBatchLogic<V, V[], CollectState<V>> {
  constructor(
    private state: CollectState<V>,
    private readonly o: Required<CollectOptions>,
  ) {}
  onBatch(values: V[], emit: Emit<V[]>): Retain {
    for (let i = 0; i < values.length; i++) {
      if (this.state.acc.length === 0) this.state.deadline = this.o.now() + this.o.timeout;
      this.state.acc.push(values[i]!);
      if (this.state.acc.length >= this.o.maxSize) {
        emit(this.state.acc);
        this.state = { acc: [], deadline: Infinity };
      }
    }
    return this.state.acc.length === 0 ? 'discard' : 'retain';
  }
  onNotify(emit: Emit<V[]>): Retain {
    if (this.state.acc.length > 0) emit(this.state.acc);
    return 'discard';
  }
  onEof(emit: Emit<V[]>): Retain {
    return this.onNotify(emit);
  }
  notifyAt(): number | undefined {
    return this.state.acc.length > 0 ? this.state.deadline : undefined;
  }
  snapshot(): CollectState<V> {
    return this.state;
  }
}

/**
 * Collects the values of each key into lists, emitting `[key, list]` when a list reaches `maxSize`
 * or `timeout` ms after its first value, whichever comes first. What is left is emitted at EOF.
 * Open lists and their deadlines survive a restart.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const batches = keyed.pipe(op.collect('batch', { timeout: 5_000, maxSize: 100 }));
 * ```
 * @param stepId a step id unique in the flow
 * @param options the timeout in ms and the maximum list size
 * @returns a pipeable operator on keyed streams
 */
export function collect<V>(stepId: string, options: CollectOptions): (up: KeyedStream<V>) => KeyedStream<V[]> {
  const { timeout, maxSize } = options;
  if (!(timeout > 0) || !Number.isFinite(timeout)) throw new WeirError(`collect '${stepId}': timeout must be a number of ms > 0, got ${String(timeout)}`);
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new WeirError(`collect '${stepId}': maxSize must be an integer >= 1, got ${String(maxSize)}`);
  return statefulBatch<V, V[], CollectState<V>>(
    stepId,
    (resume, env) => new CollectLogic<V>(resume ?? { acc: [], deadline: Infinity }, { timeout, maxSize, now: options.now ?? env.now }),
  );
}

import { StepError, WeirError, stepErrorFrom } from '../errors.js';
import type { RunContext, TimerStep } from '../runtime/context.js';
import { ChangedSet } from '../runtime/ChangedSet.js';
import { KeyLog } from '../runtime/KeyLog.js';
import type { ResumeIndex } from '../runtime/ResumeIndex.js';
import { type KeyedStream, type Message, Stream } from '../stream.js';
import { checkKeyed } from './items.js';

/**
 * What a stateful hook answers: keep the key's logic, or drop it (and its state).
 *
 * ## Example
 * ```ts
 * import type { Retain } from 'weir/operators';
 * const answer: Retain = 'discard';
 * ```
 */
export type Retain = 'retain' | 'discard';

/**
 * Emits one value for the key being processed, from inside a stateful hook.
 *
 * ## Example
 * ```ts
 * import type { Emit } from 'weir/operators';
 * const onEof = (emit: Emit<number>) => (emit(42), 'discard' as const);
 * ```
 */
export type Emit<W> = (value: W) => void;

/**
 * The per-key logic of {@link statefulBatch}: the one stateful primitive every stateful operator,
 * windows included, is built on.
 *
 * One logic object exists per key. Each hook emits values for that key through `emit` and answers
 * whether to keep the logic (`'retain'`) or drop the key's state (`'discard'`).
 *
 * ## Example
 * ```ts
 * import type { StatefulBatchLogic } from 'weir/operators';
 * class Sum implements StatefulBatchLogic<number, number, number> {
 *   constructor(private sum = 0) {}
 *   onBatch(values: number[], emit: (w: number) => void) {
 *     for (const v of values) this.sum += v;
 *     emit(this.sum);
 *     return 'retain' as const;
 *   }
 *   snapshot() { return this.sum; }
 * }
 * ```
 */
export interface StatefulBatchLogic<V, W, S> {
  /**
   * Called with the values of one batch for this key, in order. The array is the logic's to keep.
   */
  onBatch(values: V[], emit: Emit<W>): Retain;
  /**
   * Optional: the same as `onBatch([value], emit)`, for one value. When a logic has it, the values of
   * its key are handed over one at a time in item order, which saves grouping a batch by key. Use it
   * only when that gives the same result as `onBatch`.
   */
  onItem?(value: V, emit: Emit<W>): Retain;
  /** Called when the time from `notifyAt()` has come. */
  onNotify?(emit: Emit<W>): Retain;
  /** Called once when the upstream has ended. */
  onEof?(emit: Emit<W>): Retain;
  /**
   * When `onNotify` should next be called, in ms since the Unix epoch, or `undefined` for never.
   * Asked after every hook, and again after a resume, so timers survive a restart.
   */
  notifyAt?(): number | undefined;
  /** The state to store at the close of an epoch in which the key changed. Plain data. */
  snapshot(): S;
}

const EMPTY: never[] = [];

const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * What a stateful builder gets besides the resume state: the run's clock, which tests may inject
 * with `runMain(flow, { now })`. Use it for `notifyAt` times so timers and time agree.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * keyed.pipe(op.statefulBatch('t', (resume: number | undefined, env) => ({
 *   onBatch: () => 'retain',
 *   notifyAt: () => env.now() + 1000,
 *   snapshot: () => resume ?? 0,
 * })));
 * ```
 */
export interface StatefulEnv {
  /** The run's clock, in ms since the Unix epoch. */
  readonly now: () => number;
}

/**
 * One key's logic and bookkeeping. Stable shape; one per live key. A step may make its entries
 * its logics as well (see {@link statefulBatchOf}), which saves following one more object per item.
 * @internal
 */
export class Entry<V, W, S> {
  /** Values of the current batch for this key; a fresh array per batch. */
  buf: V[] = EMPTY as V[];
  /** The round of the step's set of changed keys in which the key last changed (with recovery on); -1 before. */
  changedIn = -1;
  /** Due time of the key's timer; Infinity when none. */
  due = Infinity;
  constructor(
    readonly key: string,
    public logic: StatefulBatchLogic<V, W, S> | undefined,
  ) {}
}

/**
 * The keyed stateful primitive: one {@link StatefulBatchLogic} per key, snapshotted per epoch.
 *
 * `builder` makes the logic for a key: with the key's stored state after a resume, or `undefined`
 * for a new key, and the run's clock in `env`. When an epoch closes, the state of every key that changed in it is snapshotted,
 * and a discarded key leaves a tombstone.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const sums = keyed.pipe(
 *   op.statefulBatch('sum', (resume: number | undefined) => {
 *     let sum = resume ?? 0;
 *     return {
 *       onBatch(values: number[], emit: (w: number) => void) {
 *         for (const v of values) sum += v;
 *         emit(sum);
 *         return 'retain';
 *       },
 *       snapshot: () => sum,
 *     };
 *   }),
 * );
 * ```
 * @param stepId a step id unique in the flow
 * @param builder makes a key's logic from its resume state (or `undefined`) and the run's env
 * @returns a pipeable operator on keyed streams
 */
export function statefulBatch<V, W, S>(
  stepId: string,
  builder: (resumeState: S | undefined, env: StatefulEnv) => StatefulBatchLogic<V, W, S>,
): (up: KeyedStream<V>) => KeyedStream<W> {
  return statefulBatchOf(stepId, builder, false);
}

/**
 * {@link statefulBatch}, with the choice to resume lazily: a key's logic is built from its stored
 * state when the key is first seen again, not when the run starts. Only for logics without
 * `notifyAt`, `onNotify` and `onEof`, which need no logic for a key until it is seen.
 *
 * With `entryOf`, a new key's entry is made by it rather than around the builder's logic: an entry
 * that is its own logic (`entry.logic === entry`). The builder still makes the logic of a key that
 * comes back in the epoch that dropped it.
 * @internal
 */
export function statefulBatchOf<V, W, S>(
  stepId: string,
  builder: (resumeState: S | undefined, env: StatefulEnv) => StatefulBatchLogic<V, W, S>,
  lazyResume: boolean,
  entryOf?: (key: string, resumeState: S | undefined) => Entry<V, W, S>,
): (up: KeyedStream<V>) => KeyedStream<W> {
  return (up) => {
    let out!: KeyedStream<W>;
    up.flow._addStep(stepId, (fullId) => {
      out = new Stream<[string, W]>(up.flow, fullId);
      return (ctx) => {
        const step = new StatefulStep<V, W, S>(fullId, builder, ctx, out.portIndex, lazyResume, entryOf);
        ctx.port<[string, V]>(up.portIndex).listen((m) => step.onMessage(m));
      };
    });
    return out;
  };
}

/**
 * The stateful step of the process's last finished run, emptied (see {@link StatefulStep.retire}).
 * The engine keeps what it learnt of a class's objects (their hidden class, which of their fields
 * change) only while one of them is alive. Without one, each run of a process started afresh: in
 * the middle of the run it threw away the optimised code of the step's per-item path, and compiled
 * it again. With 100,000 keys, keeping it made runs with recovery some 8% faster (paired runs).
 */
let retired: object | undefined;

/** What a retired step has instead of its builder. */
const noBuilder = (): never => {
  throw new WeirError('weir internal: a stateful step was used after its run');
};

class StatefulStep<V, W, S> implements TimerStep {
  private readonly entries = new Map<string, Entry<V, W, S>>();
  /** The keys changed in the open epoch (with recovery on), to snapshot at its close. */
  private readonly changed = new ChangedSet<Entry<V, W, S>>();
  private readonly inBatch: Entry<V, W, S>[] = [];
  /** Per item of the batch in hand, its key's entry as found before the batch (see onBatch). */
  private readonly found: (Entry<V, W, S> | undefined)[] = [];
  private readonly port;
  private outItems: [string, W][] = [];
  private current = '';
  private earliest = Infinity;
  private hasTimers = false;
  private readonly env: StatefulEnv;
  /** With a lazy resume: the stored states not yet taken. */
  private resume: ResumeIndex<S> | undefined;
  /** Whether snapshots are kept (the run has recovery). */
  private readonly recovering: boolean;
  /**
   * Whether the step holds the same keys, in the same order, as when it last snapshotted all of
   * them: no key was added or dropped since. Its next such snapshot then reuses the packed keys.
   */
  private sameKeys = false;
  /**
   * With recovery, and while the step has dropped no key: its keys as UTF-8, written as each was
   * added, in the map's order. The first snapshot of all keys then takes them from it.
   */
  private keyLog: KeyLog | undefined;
  private readonly emit: Emit<W> = (w) => {
    this.outItems.push([this.current, w]);
  };

  constructor(
    private readonly id: string,
    private builder: (resumeState: S | undefined, env: StatefulEnv) => StatefulBatchLogic<V, W, S>,
    private readonly ctx: RunContext,
    portIndex: number,
    private readonly lazy: boolean,
    private entryOf: ((key: string, resumeState: S | undefined) => Entry<V, W, S>) | undefined,
  ) {
    this.env = { now: ctx.now };
    this.recovering = ctx.recovering;
    this.port = ctx.port<[string, W]>(portIndex);
    ctx.timerSteps.push(this);
    ctx.onRelease(() => this.retire());
    if (lazy) this.resume = ctx.resumeIndex<S>(id);
    else {
      for (const [key, state] of ctx.resumeStates<S>(id)) {
        const entry = this.newEntry(key, state);
        this.entries.set(key, entry);
        this.arm(entry);
      }
    }
    // The keys resumed up front are not logged: a resume does not pay for a snapshot that may never come.
    if (this.recovering && this.entries.size === 0) this.keyLog = KeyLog.acquire();
  }

  private newEntry(key: string, state: S | undefined): Entry<V, W, S> {
    if (this.entryOf === undefined) return new Entry<V, W, S>(key, this.build(key, state));
    try {
      return this.entryOf(key, state);
    } catch (err) {
      throw stepErrorFrom(this.id, 'the builder', err, key);
    }
  }

  private build(key: string, state: S | undefined): StatefulBatchLogic<V, W, S> {
    let logic: StatefulBatchLogic<V, W, S>;
    try {
      logic = this.builder(state, this.env);
    } catch (err) {
      throw stepErrorFrom(this.id, 'the builder', err, key);
    }
    if (logic === null || typeof logic !== 'object' || typeof logic.onBatch !== 'function' || typeof logic.snapshot !== 'function') {
      throw new StepError(this.id, 'the builder must return a logic object with onBatch() and snapshot()', { key });
    }
    if (this.lazy && (logic.notifyAt !== undefined || logic.onNotify !== undefined || logic.onEof !== undefined)) {
      throw new StepError(this.id, 'internal: a lazily resumed logic must have no notifyAt, onNotify or onEof', { key });
    }
    return logic;
  }

  onMessage(m: Message<[string, V]>): void {
    if (m.kind === 'batch') this.onBatch(m.items, m.epoch);
    else if (m.kind === 'barrier') this.onBarrier(m.epoch);
    else this.onEof(m.epoch);
  }

  private onBatch(items: [string, V][], epoch: number): void {
    const inBatch = this.inBatch;
    const entries = this.entries;
    const found = this.found;
    // The batch's keys are all looked up first, in a loop that does nothing else: with many keys
    // most lookups miss the processor's caches, and it can then wait for several at once.
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const key = item[0];
      if (typeof key !== 'string' || item.length !== 2) checkKeyed(this.id, item);
      found[i] = entries.get(key);
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const key = item[0];
      let entry = found[i];
      // New, or dropped by an earlier item of the batch: the key's entry is what the map holds now.
      if (entry === undefined || entry.logic === undefined) entry = entries.get(key);
      if (entry === undefined) {
        entry = this.newEntry(key, this.resume?.take(key));
        this.entries.set(key, entry);
        this.keyLog?.append(key);
        this.sameKeys = false;
      } else if (entry.logic === undefined) entry.logic = this.build(key, undefined);
      const logic = entry.logic!;
      if (logic.onItem !== undefined && entry.buf.length === 0) {
        // Item-wise fast path: no grouping.
        this.current = key;
        let r: Retain;
        try {
          r = logic.onItem(item[1], this.emit);
        } catch (err) {
          throw stepErrorFrom(this.id, 'onItem', err, key);
        }
        this.after(entry, r, 'onItem');
        continue;
      }
      if (entry.buf.length === 0) {
        entry.buf = [];
        inBatch.push(entry);
      }
      entry.buf.push(item[1]);
    }
    for (let i = 0; i < inBatch.length; i++) {
      const entry = inBatch[i]!;
      if (entry.logic === undefined) entry.logic = this.build(entry.key, undefined);
      this.current = entry.key;
      const values = entry.buf;
      entry.buf = EMPTY as V[];
      let r: Retain;
      try {
        r = entry.logic.onBatch(values, this.emit);
      } catch (err) {
        throw stepErrorFrom(this.id, 'onBatch', err, entry.key);
      }
      this.after(entry, r, 'onBatch');
    }
    inBatch.length = 0;
    this.flush(epoch);
  }

  /** Applies a hook's answer, and remembers the key for the epoch's snapshot. */
  private after(entry: Entry<V, W, S>, r: Retain, hook: string): void {
    if (r === 'retain') {
      if (entry.logic!.notifyAt !== undefined) this.arm(entry);
    } else if (r === 'discard') {
      entry.logic = undefined;
      entry.due = Infinity;
      if (!this.recovering) this.entries.delete(entry.key);
    } else {
      throw new StepError(this.id, `${hook} must return 'retain' or 'discard', got ${JSON.stringify(r)}`, { key: entry.key });
    }
    if (this.recovering) this.changed.mark(entry);
  }

  private arm(entry: Entry<V, W, S>): void {
    const logic = entry.logic;
    if (logic?.notifyAt === undefined) return;
    let at: number | undefined;
    try {
      at = logic.notifyAt();
    } catch (err) {
      throw stepErrorFrom(this.id, 'notifyAt', err, entry.key);
    }
    entry.due = at === undefined ? Infinity : at;
    if (entry.due !== Infinity) {
      this.hasTimers = true;
      if (entry.due < this.earliest) this.earliest = entry.due;
    }
  }

  private flush(epoch: number): void {
    if (this.outItems.length === 0) return;
    const items = this.outItems;
    this.outItems = [];
    this.port.emit({ kind: 'batch', epoch, items });
  }

  nextDue(): number {
    return this.earliest;
  }

  fire(now: number): void {
    if (!this.hasTimers) {
      this.earliest = Infinity;
      return;
    }
    let earliest = Infinity;
    let any = false;
    for (const entry of this.entries.values()) {
      if (entry.due === Infinity) continue;
      if (entry.due <= now && entry.logic?.onNotify) {
        this.current = entry.key;
        let r: Retain;
        try {
          r = entry.logic.onNotify(this.emit);
        } catch (err) {
          throw stepErrorFrom(this.id, 'onNotify', err, entry.key);
        }
        entry.due = Infinity;
        this.after(entry, r, 'onNotify');
      } else if (entry.due <= now) {
        entry.due = Infinity;
      }
      if (entry.due !== Infinity) {
        any = true;
        if (entry.due < earliest) earliest = entry.due;
      }
    }
    this.hasTimers = any;
    this.earliest = earliest;
    this.flush(this.ctx.epoch);
  }

  private onEof(epoch: number): void {
    // In key order, so that what a finite flow emits at its end does not depend on resumes.
    const ending: Entry<V, W, S>[] = [];
    for (const entry of this.entries.values()) if (entry.logic?.onEof !== undefined) ending.push(entry);
    ending.sort(byKey);
    for (const entry of ending) {
      const logic = entry.logic!;
      this.current = entry.key;
      let r: Retain;
      try {
        r = logic.onEof!(this.emit);
      } catch (err) {
        throw stepErrorFrom(this.id, 'onEof', err, entry.key);
      }
      this.after(entry, r, 'onEof');
    }
    this.flush(epoch);
    this.port.emit({ kind: 'eof', epoch });
  }

  private onBarrier(epoch: number): void {
    const changed = this.changed;
    const entries = this.entries;
    const n = changed.size;
    // Every key held changed: the snapshots are the whole state (keys not yet resumed count as held).
    const full = n > 0 && n === entries.size && (this.resume === undefined || this.resume.exhausted);
    if (changed.listed) for (let i = 0; i < n; i++) this.snapshotKey(changed.at(i));
    else if (full) this.snapshotAll();
    // Too many changed keys to list: a pass over all keys finds them, and costs little more.
    else this.snapshotChanged();
    if (full) this.ctx.snapshotIsFull(this.id);
    changed.clear();
    changed.listLimit = entries.size >> 3;
    this.port.emit({ kind: 'barrier', epoch });
  }

  /**
   * Snapshots every key, all changed, in the order of the map. When the keys are those of the last
   * time, the packer writes them as it did then, and when the step's key log holds them, as they
   * are there: only the states are added.
   */
  private snapshotAll(): void {
    const same = this.sameKeys && this.ctx.snaps.sameKeysAs(this.id);
    const log = this.keyLog;
    // A tombstone drops its key, which makes the keys differ next time.
    this.sameKeys = true;
    if (same) this.snapshotStates();
    else if (log !== undefined && log.count === this.entries.size) this.snapshotStates(log);
    else this.snapshotKeys();
  }

  /**
   * Snapshots every key, as keys and states, and has the packer remember the keys. The passes over
   * all keys use the map's `forEach`: a loop that runs once per barrier would start each run in
   * unoptimised code and wait for the engine to compile it (a first barrier of 100,000 keys took
   * 6–12 ms, not 4–6), where `forEach` is the engine's own loop and the callback, called for every
   * key, stays optimised.
   */
  private snapshotKeys(): void {
    const snaps = this.ctx.snaps;
    const from = snaps.length;
    this.entries.forEach(this.snapshotKeyOf);
    snaps.rememberKeys(this.id, from);
  }

  /** Snapshots every key's state, the keys being those of `log`, or else the packer's remembered ones. */
  private snapshotStates(log?: KeyLog): void {
    const snaps = this.ctx.snaps;
    const from = snaps.length;
    this.entries.forEach(this.snapshotStateOf);
    if (log === undefined) snaps.endSameKeys(this.id, from);
    else snaps.endKeys(this.id, from, log.lens(), log.bytes());
  }

  /** Snapshots the changed keys among all, for a pass over all of them. */
  private snapshotChanged(): void {
    this.entries.forEach(this.snapshotIfChanged);
  }

  private readonly snapshotKeyOf = (entry: Entry<V, W, S>): void => this.snapshotKey(entry);
  private readonly snapshotStateOf = (entry: Entry<V, W, S>): void => this.snapshotState(entry);
  private readonly snapshotIfChanged = (entry: Entry<V, W, S>): void => {
    if (this.changed.has(entry)) this.snapshotKey(entry);
  };

  /** {@link StatefulStep.snapshotKey}, in a run whose keys the packer writes. */
  private snapshotState(entry: Entry<V, W, S>): void {
    this.ctx.snapshotState(this.id, entry.key, this.stateOf(entry));
    if (entry.logic === undefined) this.drop(entry);
  }

  /** Snapshots a changed key: its state, or a tombstone when it was discarded, and then it is dropped. */
  private snapshotKey(entry: Entry<V, W, S>): void {
    this.ctx.snapshot(this.id, entry.key, this.stateOf(entry));
    if (entry.logic === undefined) this.drop(entry);
  }

  /** What a changed key's snapshot records: its logic's state, or `undefined` (a tombstone) when it was discarded. */
  private stateOf(entry: Entry<V, W, S>): S | undefined {
    if (entry.logic === undefined) return undefined;
    try {
      return entry.logic.snapshot();
    } catch (err) {
      throw stepErrorFrom(this.id, 'snapshot', err, entry.key);
    }
  }

  /** Forgets a discarded key, once its tombstone is recorded. */
  private drop(entry: Entry<V, W, S>): void {
    this.entries.delete(entry.key);
    this.sameKeys = false;
    // The map no longer holds the logged keys in order.
    this.keyLog = undefined;
  }

  /**
   * The run is over: lets go of every key, of what is left to resume and of the user's functions,
   * and stays as the process's {@link retired} step until the next run's replaces it.
   */
  private retire(): void {
    this.entries.clear();
    this.changed.clear();
    this.inBatch.length = 0;
    this.found.length = 0;
    this.outItems = [];
    this.resume = undefined;
    this.keyLog?.release();
    this.keyLog = undefined;
    this.builder = noBuilder;
    this.entryOf = undefined;
    retired = this;
  }
}

import { StepError, describeValue, stepErrorFrom } from '../../errors.js';
import type { Emit, Retain, StatefulBatchLogic } from '../../operators/statefulBatch.js';
import type { WindowLogic } from '../WindowLogic.js';
import type { Clock, ClockLogic } from '../clocks/Clock.js';
import type { WindowMeta, Windower, WindowerLogic } from '../windowers/Windower.js';

/** Tag of a late item in the step's output; a down value has no tag. */
export const LATE = 1;
/** Tag of a window's meta. */
export const META = 2;

/** What the window step emits per key: `[id, value]` (down), `[id, item, LATE]`, `[id, meta, META]`. */
export type Tagged = [number, unknown] | [number, unknown, typeof LATE | typeof META];

/** The stored state of one key of a window step. Versioned: `v` is bumped on any change. */
export interface WindowKeyState {
  v: 1;
  clock: unknown;
  windower: unknown;
  /** Each open window's logic state. */
  logics: [number, unknown][];
  /** With `ordered`: on-time items waiting for the watermark, sorted by timestamp. */
  queueValues: unknown[];
  queueTimes: number[];
}

/** Everything a window step's key logic shares. */
export interface WindowConfig<V, W, S> {
  readonly stepId: string;
  readonly clock: Clock<V, unknown>;
  readonly windower: Windower<unknown>;
  readonly builder: (resume: S | undefined) => WindowLogic<V, W, S>;
  readonly ordered: boolean;
}

/** The time source the runtime may hand to a stateful builder. */
export interface BuilderEnv {
  now?: () => number;
}

/**
 * One key of a window step, as a {@link StatefulBatchLogic}: the clock, the windower, the open
 * windows' logics and (with `ordered`) the queue of items waiting for the watermark.
 */
export class WindowKeyLogic<V, W, S> implements StatefulBatchLogic<V, Tagged, WindowKeyState> {
  private readonly clock: ClockLogic<V, unknown>;
  private readonly windower: WindowerLogic<unknown>;
  private readonly logics = new Map<number, WindowLogic<V, W, S>>();
  private qv: V[] = [];
  private qt: number[] = [];
  private head = 0;
  /** Scratch for window ids and closed windows; reused. */
  private readonly ids: number[] = [0, 0, 0, 0];
  private readonly closed: [number, WindowMeta][] = [];
  private lastId = NaN;
  private lastLogic: WindowLogic<V, W, S> | undefined;
  private out: Emit<Tagged> = () => {};
  private cur = 0;
  private readonly emitDown: Emit<W> = (w) => this.out([this.cur, w]);

  constructor(
    private readonly cfg: WindowConfig<V, W, S>,
    resume: WindowKeyState | undefined,
    env: BuilderEnv | undefined,
  ) {
    const id = cfg.stepId;
    if (resume !== undefined && (resume === null || typeof resume !== 'object' || resume.v !== 1)) {
      throw new StepError(id, `cannot resume: the stored window state has an unknown format (${describeValue(resume)}); was it written by another weir version?`);
    }
    try {
      this.clock = cfg.clock.build(resume?.clock, { stepId: id, now: env?.now ?? Date.now });
    } catch (err) {
      throw stepErrorFrom(id, 'the clock', err);
    }
    try {
      this.windower = cfg.windower.build(resume?.windower);
    } catch (err) {
      throw stepErrorFrom(id, 'the windower', err);
    }
    if (resume) {
      for (const [wid, s] of resume.logics) this.logics.set(wid, this.build(s as S));
      this.qv = resume.queueValues as V[];
      this.qt = resume.queueTimes;
    }
  }

  private build(state: S | undefined): WindowLogic<V, W, S> {
    let logic: WindowLogic<V, W, S>;
    try {
      logic = this.cfg.builder(state);
    } catch (err) {
      throw stepErrorFrom(this.cfg.stepId, 'the window builder', err);
    }
    if (logic === null || typeof logic !== 'object' || typeof logic.onValue !== 'function' || typeof logic.onClose !== 'function' || typeof logic.snapshot !== 'function') {
      throw new StepError(this.cfg.stepId, `the window builder must return a logic with onValue(), onClose() and snapshot(), got ${describeValue(logic)}`);
    }
    return logic;
  }

  onBatch(values: V[], emit: Emit<Tagged>): Retain {
    this.out = emit;
    const clock = this.clock;
    clock.beforeBatch();
    const ordered = this.cfg.ordered;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ts = clock.onItem(v);
      const wm = clock.watermark;
      if (ts < wm) this.late(v, ts);
      // In order: an item already due with nothing queued can go in now, as no later item can
      // be both on time and older.
      else if (ordered && (this.head < this.qt.length || ts > wm)) this.enqueue(v, ts);
      else this.insert(v, ts);
    }
    this.flush(clock.watermark);
    return this.answer();
  }

  onNotify(emit: Emit<Tagged>): Retain {
    this.out = emit;
    this.flush(this.clock.onNotify());
    return this.answer();
  }

  onEof(emit: Emit<Tagged>): Retain {
    this.out = emit;
    this.flush(this.clock.onEof());
    return this.answer();
  }

  notifyAt(): number | undefined {
    let t = this.windower.notifyAt() ?? Infinity;
    if (this.head < this.qt.length && this.qt[this.head]! < t) t = this.qt[this.head]!;
    return t === Infinity ? undefined : this.clock.toSystem(t);
  }

  snapshot(): WindowKeyState {
    const logics: [number, unknown][] = [];
    for (const [wid, logic] of this.logics) {
      try {
        logics.push([wid, logic.snapshot()]);
      } catch (err) {
        throw stepErrorFrom(this.cfg.stepId, 'the window logic snapshot', err);
      }
    }
    return {
      v: 1,
      clock: this.clock.snapshot(),
      windower: this.windower.snapshot(),
      logics,
      queueValues: this.qv.slice(this.head),
      queueTimes: this.qt.slice(this.head),
    };
  }

  private answer(): Retain {
    return this.logics.size === 0 && this.head === this.qt.length && this.windower.isEmpty() ? 'discard' : 'retain';
  }

  private late(v: V, ts: number): void {
    const ids = this.ids;
    const n = this.windower.lateFor(ts, ids);
    for (let i = 0; i < n; i++) this.out([ids[i]!, v, LATE]);
  }

  /** Adds an on-time item to the timestamp-sorted queue (stable for equal timestamps). */
  private enqueue(v: V, ts: number): void {
    const qt = this.qt;
    const n = qt.length;
    if (n === this.head || qt[n - 1]! <= ts) {
      this.qv.push(v);
      qt.push(ts);
      return;
    }
    let lo = this.head;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (qt[mid]! <= ts) lo = mid + 1;
      else hi = mid;
    }
    this.qv.splice(lo, 0, v);
    qt.splice(lo, 0, ts);
  }

  /** Applies an on-time item to every window it falls in. */
  private insert(v: V, ts: number): void {
    const ids = this.ids;
    const n = this.windower.openFor(ts, ids);
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      let logic = id === this.lastId ? this.lastLogic : this.logics.get(id);
      if (logic === undefined) {
        logic = this.build(undefined);
        this.logics.set(id, logic);
      }
      this.lastId = id;
      this.lastLogic = logic;
      this.cur = id;
      try {
        logic.onValue(v, this.emitDown);
      } catch (err) {
        throw stepErrorFrom(this.cfg.stepId, 'the window logic onValue', err);
      }
    }
  }

  /** Applies due queued items, then merges, then closes every window the watermark has passed. */
  private flush(watermark: number): void {
    if (this.head < this.qt.length) this.drain(watermark);
    const merges = this.windower.takeMerged();
    for (let i = 0; i < merges.length; i++) this.merge(merges[i]![0], merges[i]![1]);
    const closed = this.closed;
    this.windower.closeFor(watermark, closed);
    if (closed.length === 0) return;
    this.lastId = NaN;
    this.lastLogic = undefined;
    for (let i = 0; i < closed.length; i++) {
      const c = closed[i]!;
      const id = c[0];
      const logic = this.logics.get(id);
      if (logic !== undefined) {
        this.logics.delete(id);
        this.cur = id;
        try {
          logic.onClose(this.emitDown);
        } catch (err) {
          throw stepErrorFrom(this.cfg.stepId, 'the window logic onClose', err);
        }
      }
      this.out([id, c[1], META]);
    }
    clear(closed);
  }

  private drain(watermark: number): void {
    const qv = this.qv;
    const qt = this.qt;
    let h = this.head;
    while (h < qt.length && qt[h]! <= watermark) {
      const v = qv[h]!;
      qv[h] = undefined as V; // release the item
      this.head = ++h;
      this.insert(v, qt[h - 1]!);
    }
    if (h === qt.length) {
      clear(qv);
      clear(qt);
      this.head = 0;
    } else if (h > 1024 && h * 2 > qt.length) {
      qv.splice(0, h);
      qt.splice(0, h);
      this.head = 0;
    }
  }

  private merge(from: number, into: number): void {
    if (from === into) return;
    const orig = this.logics.get(from);
    if (orig === undefined) return;
    this.logics.delete(from);
    this.lastId = NaN;
    this.lastLogic = undefined;
    const target = this.logics.get(into);
    if (target === undefined) {
      this.logics.set(into, orig);
      return;
    }
    if (typeof target.onMerge !== 'function') {
      throw new StepError(this.cfg.stepId, `windows ${from} and ${into} merged, but the window logic has no onMerge(): give it one to use a windower that merges (sessions)`);
    }
    this.cur = into;
    try {
      target.onMerge(orig, this.emitDown);
    } catch (err) {
      throw stepErrorFrom(this.cfg.stepId, 'the window logic onMerge', err);
    }
  }
}

/**
 * Empties an array in place. Setting `length = 0` is a call into the V8 runtime that costs
 * about as much as popping a hundred elements, so short arrays are popped.
 */
function clear(a: unknown[]): void {
  if (a.length > 64) a.length = 0;
  else while (a.length > 0) a.pop();
}

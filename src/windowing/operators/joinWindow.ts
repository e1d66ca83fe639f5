import { flatMapBatch } from '../../operators/flatMapBatch.js';
import type { JoinOptions } from '../../operators/join.js';
import { type EmitMode, type InsertMode, JoinSides, checkJoinModes } from '../../operators/joinSides.js';
import { merge } from '../../operators/merge.js';
import { checkKeyed } from '../../operators/items.js';
import type { Emit } from '../../operators/statefulBatch.js';
import { type KeyedStream, Stream } from '../../stream.js';
import type { WindowLogic, WindowOptions, WindowOut } from '../WindowLogic.js';
import type { Clock, ClockEnv, ClockLogic } from '../clocks/Clock.js';
import type { Windower } from '../windowers/Windower.js';
import { window } from './window.js';

/**
 * Options of {@link joinWindow}: the core `join`'s modes, applied within each window.
 *
 * - `insertMode`: `last` (default), `first`, or `product` (keep every value).
 * - `emitMode`: `final` (default): emit when the window closes; `complete`: emit as soon as
 *   every side has a value, then start over within the window; `running`: emit after every value.
 *
 * ## Example
 * ```ts
 * import type { JoinWindowOptions } from 'weir/windowing';
 * const o: JoinWindowOptions = { insertMode: 'product', emitMode: 'final' };
 * ```
 */
export interface JoinWindowOptions extends JoinOptions, WindowOptions {}

type Row = unknown[];
type Sides = unknown[][];

class JoinWindowLogic implements WindowLogic<[number, unknown], Row, Sides> {
  private readonly j: JoinSides;
  constructor(sides: Sides, insert: InsertMode, emitMode: EmitMode) {
    this.j = new JoinSides(sides, insert, emitMode);
  }

  onValue([side, v]: [number, unknown], emit: Emit<Row>): void {
    this.j.add(side, v, emit);
  }

  onMerge(original: WindowLogic<[number, unknown], Row, Sides>, emit: Emit<Row>): void {
    const other = original.snapshot();
    const sides = this.j.sides;
    for (let i = 0; i < sides.length; i++) {
      const mine = sides[i]!;
      const theirs = other[i] ?? [];
      if (this.j.insert === 'product') sides[i] = mine.concat(theirs);
      // The merged window opened later: its values are the later ones.
      else if (this.j.insert === 'last') sides[i] = theirs.length > 0 ? theirs : mine;
      else sides[i] = mine.length > 0 ? mine : theirs;
    }
    this.j.check(emit);
  }

  onClose(emit: Emit<Row>): void {
    if (this.j.emitMode === 'final' && this.j.any()) this.j.emitAll(emit);
  }

  snapshot(): Sides {
    return this.j.sides;
  }
}

/** Reads timestamps from the value of a `[side, value]` pair with the user's clock. */
class SideClock<V, S> implements Clock<[number, V], S> {
  constructor(private readonly inner: Clock<V, S>) {}
  check(stepId: string): void {
    this.inner.check?.(stepId);
  }
  build(resume: S | undefined, env: ClockEnv): ClockLogic<[number, V], S> {
    const inner = this.inner.build(resume, env);
    return {
      get watermark() {
        return inner.watermark;
      },
      beforeBatch: () => inner.beforeBatch(),
      onItem: (sv) => inner.onItem(sv[1]),
      onNotify: () => inner.onNotify(),
      onEof: () => inner.onEof(),
      toSystem: (t) => inner.toSystem(t),
      snapshot: () => inner.snapshot(),
    };
  }
}

/**
 * Joins keyed streams by key within each window, emitting `[key, [windowId, [a, b, ...]]]`,
 * with `undefined` for a side that had no value. Pipeable: the piped stream is the first side.
 *
 * The clock reads each side's values; late values go to `.late` as `[side, value]`.
 *
 * ## Example
 * ```ts
 * import { EventClock, TumblingWindower, joinWindow } from 'weir/windowing';
 * const clock = new EventClock((e: { at: number }) => e.at, 1_000);
 * const paired = clicks.pipe(joinWindow('click_view', clock, new TumblingWindower(60_000), views, { emitMode: 'final' }));
 * ```
 * @param stepId a step id unique in the flow
 * @param clock the definition of time, over the sides' values
 * @param windower the kind of windows
 * @param args the other sides, optionally followed by {@link JoinWindowOptions}
 * @returns a pipeable operator whose result is `down`, carrying `.down`, `.late` and `.meta`
 */
export function joinWindow(
  stepId: string,
  clock: Clock<any, any>,
  windower: Windower<any>,
  ...args: (KeyedStream<any> | JoinWindowOptions | undefined)[]
): (first: KeyedStream<any>) => WindowOut<[number, unknown], unknown[]> {
  const others = args.filter((x): x is KeyedStream<unknown> => x instanceof Stream);
  const options = (args.find((x) => x !== undefined && !(x instanceof Stream)) ?? {}) as JoinWindowOptions;
  const insert = options.insertMode ?? 'last';
  const emitMode = options.emitMode ?? 'final';
  checkJoinModes('joinWindow', stepId, insert, emitMode);
  return (first) => {
    const sides = [first, ...others];
    const id = `${first.flow.id}.${stepId}`;
    const tagged = sides.map((s, i) =>
      flatMapBatch<[string, unknown], [string, [number, unknown]]>(`${stepId}/side${i}`, (items) => {
        const out = new Array<[string, [number, unknown]]>(items.length);
        for (let j = 0; j < items.length; j++) {
          const x = items[j]!;
          checkKeyed(id, x);
          out[j] = [x[0], [i, x[1]]];
        }
        return out;
      })(s),
    );
    const merged = tagged[0]!.pipe(merge(`${stepId}/merge`, ...tagged.slice(1)));
    const sideClock = clock !== null && typeof clock === 'object' && typeof clock.build === 'function' ? new SideClock(clock) : clock;
    return merged.pipe(
      window<[number, unknown], Row, Sides>(
        stepId,
        sideClock,
        windower,
        (resume) => new JoinWindowLogic(resume ?? sides.map(() => []), insert, emitMode),
        { ordered: options.ordered ?? true },
      ),
    );
  };
}

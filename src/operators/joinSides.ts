import { WeirError } from '../errors.js';
import type { Emit } from './statefulBatch.js';

/** What a join side keeps when a new value arrives. @internal */
export type InsertMode = 'first' | 'last' | 'product';
/** When a join emits. @internal */
export type EmitMode = 'complete' | 'final' | 'running';

/** Checks join modes, naming the operator and step. @internal */
export function checkJoinModes(what: string, stepId: string, insert: string, emitMode: string): void {
  if (!['first', 'last', 'product'].includes(insert)) {
    throw new WeirError(`${what} '${stepId}': insertMode must be 'first', 'last' or 'product', got ${String(insert)}`);
  }
  if (!['complete', 'final', 'running'].includes(emitMode)) {
    throw new WeirError(`${what} '${stepId}': emitMode must be 'complete', 'final' or 'running', got ${String(emitMode)}`);
  }
}

/**
 * The values a join holds for one key (or one window of a key), side by side, and the rules of the
 * insert and emit modes. Shared by `join` and `joinWindow`.
 * @internal
 */
export class JoinSides {
  constructor(
    /** Per side, its values: one at most unless `product`. */
    public sides: unknown[][],
    readonly insert: InsertMode,
    readonly emitMode: EmitMode,
  ) {}

  /** Adds a value to a side, then emits as the emit mode says. */
  add(side: number, v: unknown, emit: Emit<unknown[]>): void {
    const vs = this.sides[side]!;
    if (this.insert === 'product') vs.push(v);
    else if (this.insert === 'last') vs[0] = v;
    else if (vs.length === 0) vs[0] = v;
    this.check(emit);
  }

  /** Emits after a change: every time when `running`; once complete, then forgets, when `complete`. */
  check(emit: Emit<unknown[]>): void {
    if (this.emitMode === 'running') this.emitAll(emit);
    else if (this.emitMode === 'complete' && this.sides.every((s) => s.length > 0)) {
      this.emitAll(emit);
      this.sides = this.sides.map(() => []);
    }
  }

  /** Whether any side holds a value. */
  any(): boolean {
    return this.sides.some((s) => s.length > 0);
  }

  /** Emits the cross product of the sides, with `undefined` for an empty side. */
  emitAll(emit: Emit<unknown[]>): void {
    let rows: unknown[][] = [[]];
    for (const vs of this.sides) {
      const options = vs.length > 0 ? vs : [undefined];
      const next: unknown[][] = [];
      for (const r of rows) for (const v of options) next.push([...r, v]);
      rows = next;
    }
    for (const r of rows) emit(r);
  }
}

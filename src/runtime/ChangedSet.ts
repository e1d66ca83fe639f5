/**
 * The keys a stateful step changed in the open epoch, for its snapshot at the epoch's close.
 *
 * @internal
 * @module
 */

/** What a {@link ChangedSet} holds: anything with a field the set stamps, -1 before it first does. */
export interface Stamped {
  changedIn: number;
}

/** The fewest marked items a {@link ChangedSet} lists, whatever its `listLimit`. */
const MIN_LISTED = 256;

/**
 * A set of objects, marked one at a time as they change, and emptied at once. Marking stamps the
 * object with the set's round (a number, which costs no more than any write of a field that exists)
 * and emptying starts a new round. The object is in the processor's cache already when it is
 * marked: that keeps the cost per item of a stateful step with recovery close to that of one
 * without.
 *
 * The set also lists the marked objects, in the order first marked, up to `listLimit` of them.
 * Beyond that it stops listing, and the owner finds them by passing over all its objects with
 * {@link ChangedSet.has}, which costs little more once many of them changed. Listing every key of
 * a step's first epoch would instead point from an old array to many new objects, which costs the
 * garbage collector more than the marking itself.
 *
 * ```ts
 * const changed = new ChangedSet<{ changedIn: number; key: string }>();
 * const a = { changedIn: -1, key: 'a' };
 * changed.mark(a);
 * changed.mark(a);
 * changed.size; // 1
 * changed.listed && changed.at(0) === a; // true
 * changed.clear();
 * ```
 * @internal
 */
export class ChangedSet<T extends Stamped> {
  /**
   * How many marked objects are listed at most. Set it to a fraction of the objects the owner
   * would otherwise pass over; the set lists at least {@link MIN_LISTED}.
   */
  listLimit = MIN_LISTED;
  private round = 0;
  /** The first marked objects, in marking order. */
  private list: T[] = [];
  private count = 0;

  /** How many objects are marked. */
  get size(): number {
    return this.count;
  }

  /** Whether every marked object is listed, for {@link ChangedSet.at}; if not, find them with {@link ChangedSet.has}. */
  get listed(): boolean {
    return this.count === this.list.length;
  }

  /** Marks `item` as changed; marking it again before {@link ChangedSet.clear} does nothing. */
  mark(item: T): void {
    // Kept this small, so that it is inlined into the per-item path.
    if (item.changedIn !== this.round) this.add(item);
  }

  /** Whether `item` is marked. */
  has(item: T): boolean {
    return item.changedIn === this.round;
  }

  /** The `i`th object marked since the last clear, while {@link ChangedSet.listed}. */
  at(i: number): T {
    return this.list[i]!;
  }

  /**
   * Unmarks everything. Rounds never wrap around, so that an object stamped long ago never passes
   * for marked (with epochs of 0 ms a run can count 2^30 of them in hours; past that the stamps are
   * no longer small integers, only a little slower).
   */
  clear(): void {
    this.round++;
    this.list.length = 0;
    this.count = 0;
  }

  /** Marks an item not marked yet. */
  private add(item: T): void {
    item.changedIn = this.round;
    const list = this.list;
    if (this.count === list.length && list.length < Math.max(this.listLimit, MIN_LISTED)) list.push(item);
    this.count++;
  }
}

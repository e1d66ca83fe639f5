/**
 * The keys a stateful step changed in the open epoch, for its snapshot at the epoch's close.
 *
 * @internal
 * @module
 */

/** What a {@link ChangedSet} holds: anything with a slot number of its own, -1 before it has one. */
export interface Slotted {
  slot: number;
}

/**
 * A set of objects, marked one at a time as they change, that lists them in the order they were
 * first marked and is emptied at once. Marking writes one byte and one number into typed arrays:
 * nothing on the object but its slot, once, and no pointer into an array that the garbage collector
 * would track. That keeps the cost per item of a stateful step with recovery close to that of one
 * without.
 *
 * ```ts
 * const changed = new ChangedSet<{ slot: number; key: string }>();
 * const a = { slot: -1, key: 'a' };
 * changed.mark(a);
 * changed.mark(a);
 * changed.size; // 1
 * changed.at(0) === a; // true
 * changed.clear();
 * ```
 * @internal
 */
export class ChangedSet<T extends Slotted> {
  /** By slot: the object that holds it. */
  private holders: (T | undefined)[] = [];
  /** Slots given back, to be given out again. */
  private free: number[] = [];
  /** By slot: 1 when marked. */
  private marked = new Uint8Array(64);
  /** The marked slots, in marking order. */
  private order = new Int32Array(64);
  private count = 0;

  /** How many objects are marked. */
  get size(): number {
    return this.count;
  }

  /** Marks `item` as changed; marking it again before {@link ChangedSet.clear} does nothing. */
  mark(item: T): void {
    // Kept this small, so that it is inlined into the per-item path.
    const slot = item.slot;
    if (slot < 0 || this.marked[slot] === 0) this.add(item);
  }

  /** The `i`th object marked since the last clear. */
  at(i: number): T {
    return this.holders[this.order[i]!]!;
  }

  /**
   * Gives `item`'s slot back, for an object that is dropped. The set must then be cleared before
   * anything is marked again, as at an epoch's close.
   */
  release(item: T): void {
    const slot = item.slot;
    if (slot < 0) return;
    item.slot = -1;
    this.holders[slot] = undefined;
    this.free.push(slot);
  }

  /** Unmarks everything. */
  clear(): void {
    const marked = this.marked;
    const order = this.order;
    for (let i = 0; i < this.count; i++) marked[order[i]!] = 0;
    this.count = 0;
  }

  /** Marks an item not marked yet. */
  private add(item: T): void {
    let slot = item.slot;
    if (slot < 0) slot = this.assign(item);
    this.marked[slot] = 1;
    this.order[this.count++] = slot;
  }

  private assign(item: T): number {
    const slot = this.free.pop() ?? this.holders.length;
    this.holders[slot] = item;
    item.slot = slot;
    if (slot >= this.marked.length) {
      const marked = new Uint8Array(2 * this.marked.length);
      marked.set(this.marked);
      this.marked = marked;
      const order = new Int32Array(2 * this.order.length);
      order.set(this.order);
      this.order = order;
    }
    return slot;
  }
}

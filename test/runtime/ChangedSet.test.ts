import { describe, expect, it } from 'vitest';
import { ChangedSet } from '../../src/runtime/ChangedSet.js';

interface Item {
  slot: number;
  key: string;
}
const item = (key: string): Item => ({ slot: -1, key });
const keysOf = (set: ChangedSet<Item>) => Array.from({ length: set.size }, (_, i) => set.at(i).key);

describe('ChangedSet', () => {
  it('lists each marked item once, in the order first marked, until cleared', () => {
    const set = new ChangedSet<Item>();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    for (const x of [b, a, b, c, a]) set.mark(x);
    expect(keysOf(set)).toEqual(['b', 'a', 'c']);
    set.clear();
    expect(set.size).toBe(0);
    set.mark(c);
    set.mark(b);
    expect(keysOf(set)).toEqual(['c', 'b']);
  });

  it('grows past its first capacity and gives released slots to new items', () => {
    const set = new ChangedSet<Item>();
    const items = Array.from({ length: 1000 }, (_, i) => item(`k${i}`));
    for (const x of items) set.mark(x);
    for (const x of items) set.mark(x);
    expect(keysOf(set)).toEqual(items.map((x) => x.key));
    const gone = items[10]!;
    const slot = gone.slot;
    set.release(gone);
    expect(gone.slot).toBe(-1);
    set.clear();
    const fresh = item('new');
    set.mark(fresh);
    expect(fresh.slot).toBe(slot);
    set.mark(items[999]!);
    expect(keysOf(set)).toEqual(['new', 'k999']);
    // A released item that comes back gets a slot of its own again.
    set.mark(gone);
    expect(gone.slot).toBe(1000);
    expect(keysOf(set)).toEqual(['new', 'k999', 'k10']);
  });
});

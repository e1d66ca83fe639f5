import { describe, expect, it } from 'vitest';
import { ChangedSet } from '../../src/runtime/ChangedSet.js';

interface Item {
  changedIn: number;
  key: string;
}
const item = (key: string): Item => ({ changedIn: -1, key });
const keysOf = (set: ChangedSet<Item>) => {
  expect(set.listed).toBe(true);
  return Array.from({ length: set.size }, (_, i) => set.at(i).key);
};

describe('ChangedSet', () => {
  it('lists each marked item once, in the order first marked, until cleared', () => {
    const set = new ChangedSet<Item>();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    for (const x of [b, a, b, c, a]) set.mark(x);
    expect(keysOf(set)).toEqual(['b', 'a', 'c']);
    expect([a, b, c].map((x) => set.has(x))).toEqual([true, true, true]);
    set.clear();
    expect(set.size).toBe(0);
    expect([a, b, c].map((x) => set.has(x))).toEqual([false, false, false]);
    set.mark(c);
    set.mark(b);
    expect(keysOf(set)).toEqual(['c', 'b']);
    expect([a, b, c].map((x) => set.has(x))).toEqual([false, true, true]);
  });

  it('stops listing past its limit, and still knows every marked item', () => {
    const set = new ChangedSet<Item>();
    set.listLimit = 300;
    const items = Array.from({ length: 1000 }, (_, i) => item(`k${i}`));
    for (const x of items.slice(0, 300)) set.mark(x);
    expect(keysOf(set)).toEqual(items.slice(0, 300).map((x) => x.key));
    for (const x of items) set.mark(x);
    expect(set.size).toBe(1000);
    expect(set.listed).toBe(false);
    expect(items.every((x) => set.has(x))).toBe(true);
    set.clear();
    expect(items.some((x) => set.has(x))).toBe(false);
    // Listing starts again after a clear; a limit below the minimum still lists 256.
    set.listLimit = 10;
    for (const x of items.slice(0, 256)) set.mark(x);
    expect(set.listed).toBe(true);
    set.mark(items[999]!);
    expect(set.listed).toBe(false);
    expect(set.size).toBe(257);
  });

  it('never takes an object stamped in an old round for marked, however many rounds pass', () => {
    const set = new ChangedSet<Item>();
    const old = item('old');
    set.mark(old);
    // Past 2^30 rounds, where small integers end.
    (set as unknown as { round: number }).round = 2 ** 30 - 2;
    set.clear();
    set.clear();
    expect(set.has(old)).toBe(false);
    const fresh = item('fresh');
    set.mark(fresh);
    set.mark(old);
    expect(keysOf(set)).toEqual(['fresh', 'old']);
    expect(set.has(old) && set.has(fresh)).toBe(true);
  });
});

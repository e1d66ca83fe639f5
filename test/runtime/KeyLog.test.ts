import { describe, expect, it } from 'vitest';
import { KeyLog } from '../../src/runtime/KeyLog.js';

const utf8 = new TextEncoder();

describe('KeyLog', () => {
  it('holds the keys as UTF-8, in the order appended, with each length and item', () => {
    const log = new KeyLog<{ key: string }>();
    const keys = ['a', '', 'bé', 'ключ', '🔑x'];
    const items = keys.map((key) => ({ key }));
    for (const item of items) log.append(item.key, item);
    expect(log.count).toBe(5);
    expect([...log.lens()]).toEqual(keys.map((k) => utf8.encode(k).length));
    expect(Buffer.from(log.bytes()).toString('utf8')).toBe(keys.join(''));
    expect(log.items()).toEqual(items);
    expect(log.items()[2]).toBe(items[2]);
  });

  it('grows past its first buffers, and views given out keep what they showed', () => {
    const log = new KeyLog<number>();
    log.append('first', 0);
    const lens = log.lens();
    const bytes = log.bytes();
    const keys = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `key-${i}` : `ключ-${i}`));
    keys.forEach((k, i) => log.append(k, i + 1));
    expect(log.count).toBe(5001);
    expect(log.items().length).toBe(5001);
    expect(log.items()[5000]).toBe(5000);
    expect(Buffer.from(log.bytes()).toString('utf8')).toBe(['first', ...keys].join(''));
    expect([...log.lens()].slice(1)).toEqual(keys.map((k) => utf8.encode(k).length));
    expect([...lens]).toEqual([5]);
    expect(Buffer.from(bytes).toString('utf8')).toBe('first');
  });

  it('is kept, empty, for the next run once released', () => {
    const log = KeyLog.acquire<object>();
    log.append('a', {});
    log.release();
    const again = KeyLog.acquire<object>();
    expect(again).toBe(log);
    expect(again.count).toBe(0);
    expect(again.bytes().length).toBe(0);
    // It holds on to no item of the last run.
    expect(again.items().length).toBe(0);
    // Only one log is kept: the next acquire makes a new one.
    expect(KeyLog.acquire()).not.toBe(again);
  });
});

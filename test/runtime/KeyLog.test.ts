import { describe, expect, it } from 'vitest';
import { KeyLog } from '../../src/runtime/KeyLog.js';

const utf8 = new TextEncoder();

describe('KeyLog', () => {
  it('holds the keys as UTF-8, in the order appended, with each length', () => {
    const log = new KeyLog();
    const keys = ['a', '', 'bé', 'ключ', '🔑x'];
    for (const k of keys) log.append(k);
    expect(log.count).toBe(5);
    expect([...log.lens()]).toEqual(keys.map((k) => utf8.encode(k).length));
    expect(Buffer.from(log.bytes()).toString('utf8')).toBe(keys.join(''));
  });

  it('grows past its first buffers, and views given out keep what they showed', () => {
    const log = new KeyLog();
    log.append('first');
    const lens = log.lens();
    const bytes = log.bytes();
    const keys = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `key-${i}` : `ключ-${i}`));
    for (const k of keys) log.append(k);
    expect(log.count).toBe(5001);
    expect(Buffer.from(log.bytes()).toString('utf8')).toBe(['first', ...keys].join(''));
    expect([...log.lens()].slice(1)).toEqual(keys.map((k) => utf8.encode(k).length));
    expect([...lens]).toEqual([5]);
    expect(Buffer.from(bytes).toString('utf8')).toBe('first');
  });

  it('is kept, empty, for the next run once released', () => {
    const log = KeyLog.acquire();
    log.append('a');
    log.release();
    const again = KeyLog.acquire();
    expect(again).toBe(log);
    expect(again.count).toBe(0);
    expect(again.bytes().length).toBe(0);
    // Only one log is kept: the next acquire makes a new one.
    expect(KeyLog.acquire()).not.toBe(again);
  });
});

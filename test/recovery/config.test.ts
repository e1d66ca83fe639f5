import { describe, expect, it } from 'vitest';
import { RecoveryConfig, RecoveryError, v8Serde, type Serde } from 'weir/recovery';

describe('RecoveryConfig', () => {
  it('defaults backupInterval to 0 and serde to v8Serde', () => {
    const c = new RecoveryConfig('db_dir');
    expect(c.dbDir).toBe('db_dir');
    expect(c.backupInterval).toBe(0);
    expect(c.serde).toBe(v8Serde);
  });

  it('keeps the options it is given', () => {
    const serde: Serde = { serialize: () => new Uint8Array(), deserialize: () => null };
    const c = new RecoveryConfig('d', { backupInterval: 60_000, serde });
    expect(c.backupInterval).toBe(60_000);
    expect(c.serde).toBe(serde);
  });

  it('rejects an empty dbDir and a bad backupInterval', () => {
    expect(() => new RecoveryConfig('')).toThrow(RecoveryError);
    expect(() => new RecoveryConfig(undefined as unknown as string)).toThrow(/non-empty string/);
    for (const bad of [-1, NaN, Infinity, '5' as unknown as number]) {
      expect(() => new RecoveryConfig('d', { backupInterval: bad })).toThrow(/backupInterval/);
    }
  });
});

describe('v8Serde', () => {
  it('round-trips structured-clone values', () => {
    const value = {
      m: new Map<string, unknown>([['a', 1n]]),
      s: new Set([1, 2]),
      d: new Date(0),
      t: new Float64Array([1.5, 2.5]),
      n: null,
      nested: [1, 'two', { three: 3 }],
    };
    expect(v8Serde.deserialize(v8Serde.serialize(value))).toEqual(value);
  });

  it('throws on values it cannot clone', () => {
    expect(() => v8Serde.serialize({ f: () => 1 })).toThrow();
  });
});

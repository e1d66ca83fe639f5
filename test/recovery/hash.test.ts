import { describe, expect, it } from 'vitest';
import { partitionFor, stableHash64 } from 'weir/recovery';
import { partitionForBytes } from '../../src/recovery/hash.js';

const MASK = (1n << 64n) - 1n;

/** Textbook FNV-1a 64 over bytes, in BigInt. */
function referenceFnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & MASK;
  return h;
}

/** A deterministic PRNG, so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', '0', ' ', '_', '.', 'é', 'ß', '€', '漢', '😀', '\0', '\u007f', '\u0080'];

function randomString(next: () => number): string {
  const len = Math.floor(next() * 12);
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

describe('stableHash64', () => {
  it('matches the published FNV-1a 64 vectors', () => {
    expect(stableHash64('')).toBe(0xcbf29ce484222325n);
    expect(stableHash64('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(stableHash64('foobar')).toBe(0x85944171f73967e8n);
  });

  it('hashes the UTF-8 bytes of non-ASCII strings', () => {
    for (const s of ['é', 'naïve café', 'ab漢字😀z', '€\u0080\u07ff\u0800\uffff']) {
      expect(stableHash64(s)).toBe(referenceFnv1a64(Buffer.from(s, 'utf8')));
    }
  });
});

describe('partitionFor', () => {
  it('is the reference hash of stepId, a zero byte and the key, modulo the count', () => {
    const next = rng(42);
    for (let i = 0; i < 2000; i++) {
      const stepId = randomString(next);
      const key = randomString(next);
      const n = 1 + Math.floor(next() * 1000);
      const expected = Number(referenceFnv1a64(Buffer.from(stepId + '\0' + key, 'utf8')) % BigInt(n));
      expect(partitionFor(stepId, key, n), `${JSON.stringify(stepId)} ${JSON.stringify(key)} % ${n}`).toBe(expected);
    }
  });

  it('agrees for large partition counts', () => {
    const next = rng(7);
    for (const n of [2, 3, 7, 1000, 65_537, (1 << 20) - 1]) {
      for (let i = 0; i < 200; i++) {
        const stepId = `flow.step${i}`;
        const key = randomString(next);
        const expected = Number(referenceFnv1a64(Buffer.from(stepId + '\0' + key, 'utf8')) % BigInt(n));
        expect(partitionFor(stepId, key, n)).toBe(expected);
      }
    }
  });

  it('always returns 0 for one partition', () => {
    expect(partitionFor('s', 'k', 1)).toBe(0);
  });

  it('gives the same partition for a key given as its UTF-8 bytes, as the store routes it', () => {
    const keys = ['', 'a', 'key-12345', 'é', '中文', '😀', 'a\u0000b'];
    for (const key of keys) {
      for (const parts of [1, 2, 3, 7, 1000]) {
        const bytes = Buffer.concat([Buffer.from('xx'), Buffer.from(key), Buffer.from('yy')]);
        expect(partitionForBytes('flow.step', bytes, 2, bytes.length - 2, parts), `${key} ${parts}`).toBe(partitionFor('flow.step', key, parts));
      }
    }
  });
});

/**
 * Statements over many keys at once: a VALUES list or an IN list of up to {@link MAX_BATCH} items,
 * so a write costs a few calls into SQLite instead of one per row.
 *
 * @internal
 * @module
 */
import type Database from 'better-sqlite3';

/** The most items per statement. */
export const MAX_BATCH = 256;

/** One prepared statement for `size` items, with an argument array to fill. */
interface Sized {
  readonly stmt: Database.Statement;
  readonly args: unknown[];
}

/**
 * A statement prepared for each power-of-two item count up to {@link MAX_BATCH}, on first use.
 * Every statement also takes the same named parameters.
 */
export class Batched {
  private readonly sized: (Sized | undefined)[] = [];

  /**
   * @param db the connection
   * @param sql the statement for `n` items
   * @param width positional parameters per item
   */
  constructor(
    private readonly db: Database.Database,
    private readonly sql: (n: number) => string,
    private readonly width: number,
  ) {}

  /**
   * Runs the statements over `n <= MAX_BATCH` items whose positional parameters are
   * `args[0, n * width)`, with `named` for the named parameters. `args` must have exactly
   * `MAX_BATCH * width` elements.
   */
  run(named: object, args: unknown[], n: number): void {
    const w = this.width;
    let done = 0;
    while (done < n) {
      let size = MAX_BATCH;
      while (size > n - done) size >>= 1;
      const s = this.of(size);
      if (size === MAX_BATCH) {
        s.stmt.run(named, args); // then done is 0 and n is MAX_BATCH
      } else {
        for (let j = 0; j < size * w; j++) s.args[j] = args[done * w + j];
        s.stmt.run(named, s.args);
      }
      done += size;
    }
  }

  private of(size: number): Sized {
    const log = Math.log2(size);
    let s = this.sized[log];
    if (s === undefined) {
      s = { stmt: this.db.prepare(this.sql(size)), args: new Array<unknown>(size * this.width) };
      this.sized[log] = s;
    }
    return s;
  }
}

/** `n` copies of `item`, comma-separated. */
export const repeat = (item: string, n: number): string => Array.from({ length: n }, () => item).join(', ');

/**
 * Runs `del`, an IN-list statement of one positional parameter per key, over `keys`, with `named`.
 * `args` is scratch space for {@link MAX_BATCH} items.
 */
export function runKeyList(del: Batched, named: object, keys: readonly string[], args: unknown[]): void {
  for (let i = 0; i < keys.length; ) {
    const n = Math.min(MAX_BATCH, keys.length - i);
    for (let j = 0; j < n; j++) args[j] = keys[i + j];
    del.run(named, args, n);
    i += n;
  }
}

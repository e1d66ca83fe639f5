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

/** The item counts statements are prepared for, largest first. A shorter tail is padded. */
const SIZES = [MAX_BATCH, 64, 16] as const;

/**
 * A statement prepared for a few item counts ({@link MAX_BATCH}, 64 and 16), on first use. Every
 * statement also takes the same named parameters.
 *
 * A count that is not a sum of those sizes is padded by repeating its last item, so only three
 * statements are ever prepared. The statement must therefore give the same result for an item
 * listed twice: a DELETE with an IN list, or an INSERT OR REPLACE of the same row.
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
    if (n === MAX_BATCH) {
      this.of(0).stmt.run(named, args);
      return;
    }
    let done = 0;
    while (done < n) {
      let i = 1;
      while (i < SIZES.length - 1 && SIZES[i]! > n - done) i++;
      const size = SIZES[i]!;
      const s = this.of(i);
      const take = Math.min(size, n - done);
      for (let j = 0; j < take * w; j++) s.args[j] = args[done * w + j];
      // Pad with the last item.
      for (let j = take * w; j < size * w; j++) s.args[j] = args[(done + take - 1) * w + (j % w)];
      s.stmt.run(named, s.args);
      done += take;
    }
  }

  private of(i: number): Sized {
    let s = this.sized[i];
    if (s === undefined) {
      const size = SIZES[i]!;
      s = { stmt: this.db.prepare(this.sql(size)), args: new Array<unknown>(size * this.width) };
      this.sized[i] = s;
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

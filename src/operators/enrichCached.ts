import { stepErrorFrom } from '../errors.js';
import { Stream } from '../stream.js';

/**
 * A cache whose entries expire after a time to live, filled by a getter on a miss.
 *
 * ## Example
 * ```ts
 * import { TTLCache } from 'weir/operators';
 * const cache = new TTLCache((sym: string) => lookupPrice(sym), 60_000);
 * cache.get('ACME');
 * ```
 */
export class TTLCache<DV> {
  private readonly entries = new Map<string, { value: DV; at: number }>();
  /**
   * @param getter fetches the value of a key on a miss or after expiry
   * @param ttl how long an entry stays fresh, in ms
   * @param now the clock, in ms since the Unix epoch
   */
  constructor(
    private readonly getter: (key: string) => DV,
    private readonly ttl: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value of `key`, fetched again when missing or older than the TTL. */
  get(key: string): DV {
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && t - hit.at < this.ttl) return hit.value;
    const value = this.getter(key);
    this.entries.set(key, { value, at: t });
    return value;
  }

  /** Drops `key`, so that the next `get` fetches it. */
  remove(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * Enriches each item with data from a slow lookup, caching lookups for `ttl` ms.
 *
 * The cache is local to the run and not snapshotted: after a restart it fills again.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const priced = trades.pipe(
 *   op.enrichCached('price', (sym: string) => prices[sym], (cache, t: { sym: string }) => ({ ...t, price: cache.get(t.sym) }), { ttl: 60_000 }),
 * );
 * ```
 * @param stepId a step id unique in the flow
 * @param getter fetches the value for a lookup key
 * @param mapper from the cache and an item to the enriched item
 * @param options `ttl` in ms; `now` to inject a clock
 * @returns a pipeable operator
 */
export function enrichCached<T, U, DV>(
  stepId: string,
  getter: (key: string) => DV,
  mapper: (cache: TTLCache<DV>, item: T) => U,
  options: { ttl: number; now?: () => number },
): (up: Stream<T>) => Stream<U> {
  return (up) => {
    let out!: Stream<U>;
    up.flow._addStep(stepId, (fullId) => {
      out = new Stream<U>(up.flow, fullId);
      return (ctx) => {
        const cache = new TTLCache(getter, options.ttl, options.now);
        const port = ctx.port<U>(out.portIndex);
        ctx.port<T>(up.portIndex).listen((m) => {
          if (m.kind !== 'batch') return port.emit(m);
          const items = m.items;
          const res = new Array<U>(items.length);
          let i = 0;
          try {
            for (; i < items.length; i++) res[i] = mapper(cache, items[i]!);
          } catch (err) {
            const x = items[i];
            throw stepErrorFrom(fullId, 'the enrich mapper', err, Array.isArray(x) && typeof x[0] === 'string' ? x[0] : undefined);
          }
          if (res.length > 0) port.emit({ kind: 'batch', epoch: m.epoch, items: res });
        });
      };
    });
    return out;
  };
}

import { StepError, describeValue, stepErrorFrom } from '../errors.js';
import type { KeyedStream, Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';

// The per-item stateless operators, each a flatMapBatch with a loop. A throwing user function is
// reported with the step id, and with the key for keyed items.

function keyOf(item: unknown): string | undefined {
  return Array.isArray(item) && typeof item[0] === 'string' ? item[0] : undefined;
}

function fail(stepId: string, fn: string, err: unknown, item: unknown): never {
  throw stepErrorFrom(stepId, fn, err, keyOf(item));
}

/** Checks that a keyed stream's item is a `[string, value]` pair. */
export function checkKeyed(stepId: string, item: unknown): asserts item is [string, unknown] {
  if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== 'string') {
    const key = Array.isArray(item) ? item[0] : undefined;
    throw new StepError(
      stepId,
      `expected a [key, value] pair with a string key, got ${describeValue(item)}` +
        (key !== undefined ? ` whose key is ${describeValue(key)}` : '') +
        '. Use op.keyOn first, and make the key function return a string.',
    );
  }
}

/**
 * Transforms each item with a function.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const doubled = nums.pipe(op.map('double', (x: number) => x * 2));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from an item to the item to emit
 * @returns a pipeable operator
 */
export function map<T, U>(stepId: string, fn: (item: T) => U): (up: Stream<T>) => Stream<U> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, U>(stepId, (items) => {
      const out = new Array<U>(items.length);
      let i = 0;
      try {
        for (; i < items.length; i++) out[i] = fn(items[i]!);
      } catch (err) {
        fail(id, 'the map function', err, items[i]);
      }
      return out;
    })(up);
  };
}

/**
 * Keeps the items for which `predicate` returns true.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const evens = nums.pipe(op.filter('evens', (x: number) => x % 2 === 0));
 * ```
 * @param stepId a step id unique in the flow
 * @param predicate true keeps the item
 * @returns a pipeable operator
 */
export function filter<T>(stepId: string, predicate: (item: T) => boolean): (up: Stream<T>) => Stream<T> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, T>(stepId, (items) => {
      const out: T[] = [];
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const x = items[i]!;
          const keep = predicate(x);
          if (typeof keep !== 'boolean') {
            throw new StepError(id, `the predicate must return a boolean, got ${describeValue(keep)}`, { key: keyOf(x) });
          }
          if (keep) out.push(x);
        }
      } catch (err) {
        fail(id, 'the predicate', err, items[i]);
      }
      return out;
    })(up);
  };
}

/**
 * Transforms each item into zero or more items.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const words = lines.pipe(op.flatMap('split', (line: string) => line.split(/\s+/)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from an item to an array (or iterable) of items to emit
 * @returns a pipeable operator
 */
export function flatMap<T, U>(stepId: string, fn: (item: T) => Iterable<U>): (up: Stream<T>) => Stream<U> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, U>(stepId, (items) => {
      const out: U[] = [];
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const r = fn(items[i]!);
          if (Array.isArray(r)) {
            for (let j = 0; j < r.length; j++) out.push(r[j]);
          } else if (r != null && typeof (r as Iterable<U>)[Symbol.iterator] === 'function') {
            for (const x of r) out.push(x);
          } else {
            throw new StepError(id, `the flatMap function must return an array or iterable, got ${describeValue(r)}`, {
              key: keyOf(items[i]),
            });
          }
        }
      } catch (err) {
        fail(id, 'the flatMap function', err, items[i]);
      }
      return out;
    })(up);
  };
}

/**
 * Transforms each item and drops those for which `fn` returns `undefined` (Bytewax's `None`).
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const ints = strings.pipe(op.filterMap('parse', (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from an item to the item to emit, or `undefined` to drop it
 * @returns a pipeable operator
 */
export function filterMap<T, U>(stepId: string, fn: (item: T) => U | undefined): (up: Stream<T>) => Stream<U> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, U>(stepId, (items) => {
      const out: U[] = [];
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const r = fn(items[i]!);
          if (r !== undefined) out.push(r);
        }
      } catch (err) {
        fail(id, 'the filterMap function', err, items[i]);
      }
      return out;
    })(up);
  };
}

/**
 * Emits the elements of each array item.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const flat = nested.pipe(op.flatten('flat')); // [[1, 2], [3]] -> 1, 2, 3
 * ```
 * @param stepId a step id unique in the flow
 * @returns a pipeable operator
 */
export function flatten<U>(stepId: string): (up: Stream<Iterable<U>>) => Stream<U> {
  return flatMap<Iterable<U>, U>(stepId, (xs) => xs);
}

/**
 * Calls `fn` with each item and passes it on unchanged. Defaults to printing `stepId: item`.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const same = nums.pipe(op.inspect('peek'));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn called with the full step id and each item
 * @returns a pipeable operator
 */
export function inspect<T>(
  stepId: string,
  fn: (stepId: string, item: T) => void = (s, x) => console.log(`${s}: ${formatItem(x)}`),
): (up: Stream<T>) => Stream<T> {
  return inspectDebug<T>(stepId, (s, x) => fn(s, x));
}

/**
 * Like {@link inspect}, with the epoch and the worker index too.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const same = nums.pipe(op.inspectDebug('peek', (s, x, epoch, worker) => console.log(s, x, epoch, worker)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn called with the full step id, each item, its epoch and the worker index
 * @returns a pipeable operator
 */
export function inspectDebug<T>(
  stepId: string,
  fn: (stepId: string, item: T, epoch: number, worker: number) => void = (s, x, e, w) =>
    console.log(`${s} W${w} @${e}: ${formatItem(x)}`),
): (up: Stream<T>) => Stream<T> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, T>(stepId, (items, epoch) => {
      let i = 0;
      try {
        for (; i < items.length; i++) fn(id, items[i]!, epoch, 0);
      } catch (err) {
        fail(id, 'the inspector', err, items[i]);
      }
      return items;
    })(up);
  };
}

/** Formats an item like Bytewax prints Python values: `['ALL', 3]`. */
export function formatItem(x: unknown): string {
  if (typeof x === 'string') return `'${x.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(x)) return `[${x.map(formatItem).join(', ')}]`;
  if (x === undefined) return 'undefined';
  if (x === null || typeof x !== 'object') return String(x);
  if (x instanceof Date) return x.toISOString();
  if (x instanceof Map) return `Map {${[...x].map(([k, v]) => `${formatItem(k)} => ${formatItem(v)}`).join(', ')}}`;
  if (x instanceof Set) return `Set {${[...x].map(formatItem).join(', ')}}`;
  if (Object.getPrototypeOf(x) === Object.prototype) {
    return `{${Object.entries(x).map(([k, v]) => `${k}: ${formatItem(v)}`).join(', ')}}`;
  }
  return String(x);
}

/**
 * Turns each item into a `[key, item]` pair; `keyFn` must return a string.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const byUser = events.pipe(op.keyOn('by_user', (e: { user: string }) => e.user));
 * ```
 * @param stepId a step id unique in the flow
 * @param keyFn from an item to its string key
 * @returns a pipeable operator to a keyed stream
 */
export function keyOn<T>(stepId: string, keyFn: (item: T) => string): (up: Stream<T>) => KeyedStream<T> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, [string, T]>(stepId, (items) => {
      const out = new Array<[string, T]>(items.length);
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const x = items[i]!;
          const k = keyFn(x);
          if (typeof k !== 'string') {
            throw new StepError(
              id,
              `the key function must return a string, got ${describeValue(k)} for item ${formatItem(x)}. Convert it, e.g. String(key)`,
            );
          }
          out[i] = [k, x];
        }
      } catch (err) {
        throw stepErrorFrom(id, 'the key function', err);
      }
      return out;
    })(up);
  };
}

/**
 * Drops the key of each `[key, value]` pair.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const values = keyed.pipe(op.keyRm('unkey'));
 * ```
 * @param stepId a step id unique in the flow
 * @returns a pipeable operator
 */
export function keyRm<V>(stepId: string): (up: KeyedStream<V>) => Stream<V> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<[string, V], V>(stepId, (items) => {
      const out = new Array<V>(items.length);
      for (let i = 0; i < items.length; i++) {
        const x = items[i]!;
        checkKeyed(id, x);
        out[i] = x[1];
      }
      return out;
    })(up);
  };
}

/**
 * Transforms the value of each `[key, value]` pair, keeping the key.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const cents = prices.pipe(op.mapValue('to_cents', (p: number) => Math.round(p * 100)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from a value to the new value
 * @returns a pipeable operator
 */
export function mapValue<V, W>(stepId: string, fn: (value: V) => W): (up: KeyedStream<V>) => KeyedStream<W> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<[string, V], [string, W]>(stepId, (items) => {
      const out = new Array<[string, W]>(items.length);
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const x = items[i]!;
          checkKeyed(id, x);
          out[i] = [x[0], fn(x[1])];
        }
      } catch (err) {
        fail(id, 'the mapValue function', err, items[i]);
      }
      return out;
    })(up);
  };
}

/**
 * Keeps the `[key, value]` pairs whose value satisfies `predicate`.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const big = amounts.pipe(op.filterValue('big', (v: number) => v > 100));
 * ```
 * @param stepId a step id unique in the flow
 * @param predicate true keeps the pair
 * @returns a pipeable operator
 */
export function filterValue<V>(stepId: string, predicate: (value: V) => boolean): (up: KeyedStream<V>) => KeyedStream<V> {
  return filter<[string, V]>(stepId, (x) => predicate(x[1]));
}

/**
 * Transforms each value into zero or more values, each emitted with the original key.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const words = docs.pipe(op.flatMapValue('split', (text: string) => text.split(' ')));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from a value to an iterable of values
 * @returns a pipeable operator
 */
export function flatMapValue<V, W>(stepId: string, fn: (value: V) => Iterable<W>): (up: KeyedStream<V>) => KeyedStream<W> {
  return flatMap<[string, V], [string, W]>(stepId, function* (x) {
    for (const w of fn(x[1])) yield [x[0], w] as [string, W];
  });
}

/**
 * Transforms each value and drops the pairs for which `fn` returns `undefined`.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const parsed = raw.pipe(op.filterMapValue('parse', (s: string) => (s ? Number(s) : undefined)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from a value to the new value, or `undefined` to drop the pair
 * @returns a pipeable operator
 */
export function filterMapValue<V, W>(stepId: string, fn: (value: V) => W | undefined): (up: KeyedStream<V>) => KeyedStream<W> {
  return filterMap<[string, V], [string, W]>(stepId, (x) => {
    const w = fn(x[1]);
    return w === undefined ? undefined : [x[0], w];
  });
}

/**
 * Fails the run with a step error on the first item it sees. Useful to test error handling.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * nums.pipe(op.raises('boom'));
 * ```
 * @param stepId a step id unique in the flow
 * @returns a pipeable operator
 */
export function raises<T>(stepId: string): (up: Stream<T>) => Stream<never> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, never>(stepId, (items) => {
      throw new StepError(id, `raises: got item ${formatItem(items[0])}`, { key: keyOf(items[0]) });
    })(up);
  };
}

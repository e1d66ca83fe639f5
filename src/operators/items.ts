import { StepError, describeValue, stepErrorFrom } from '../errors.js';

// Helpers shared by the per-item operators: reading keys, reporting user-function errors, and
// printing items as Bytewax prints Python values.

/** The key of a `[key, value]` item, or `undefined` for any other item. */
export function keyOf(item: unknown): string | undefined {
  return Array.isArray(item) && typeof item[0] === 'string' ? item[0] : undefined;
}

/** Rethrows what a user function threw as a StepError naming the step, and the key of a keyed item. */
export function fail(stepId: string, fn: string, err: unknown, item: unknown): never {
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

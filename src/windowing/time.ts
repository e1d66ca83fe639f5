import { StepError, describeValue } from '../errors.js';

// Time helpers shared by clocks and windowers. Internal: not exported from 'weir/windowing'.

/**
 * An item's timestamp, as a clock's `tsGetter` returns it.
 *
 * A `Date`, or a finite number of ms since the Unix epoch; anything else fails the step.
 *
 * ## Example
 * ```ts
 * import type { Timestamp } from 'weir/windowing';
 * const at: Timestamp = new Date('2024-01-01T00:00:05Z');
 * const same: Timestamp = Date.UTC(2024, 0, 1, 0, 0, 5);
 * ```
 */
export type Timestamp = Date | number;

/**
 * Converts a timestamp to ms since the Unix epoch, or throws a {@link StepError} naming the step.
 * The core adds the key when this runs inside a keyed hook.
 */
export function toEventTime(stepId: string, ts: unknown): number {
  if (typeof ts === 'number') {
    if (ts - ts === 0) return ts; // finite
  } else if (ts instanceof Date) {
    const ms = ts.getTime();
    if (ms - ms === 0) return ms;
    throw new StepError(stepId, 'the tsGetter returned an invalid Date; it must return a valid Date or a finite number of ms since the Unix epoch');
  }
  throw new StepError(stepId, `the tsGetter must return a Date or a finite number of ms since the Unix epoch, got ${describeValue(ts)}`);
}

const ISO_ZONED = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/i;
const ISO_LOCAL = /^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?$/;

/**
 * Reads an `alignTo` argument: a `Date`, ms since the Unix epoch, or an ISO 8601 string with an
 * explicit zone. Returns the ms, or a message saying what is wrong.
 */
export function parseAlignTo(owner: string, alignTo: unknown): number | string {
  if (typeof alignTo === 'number') {
    return Number.isFinite(alignTo) ? alignTo : `${owner} alignTo must be a finite number of ms, got ${describeValue(alignTo)}`;
  }
  if (alignTo instanceof Date) {
    const ms = alignTo.getTime();
    return Number.isFinite(ms) ? ms : `${owner} alignTo is an invalid Date`;
  }
  if (typeof alignTo === 'string') {
    const s = alignTo.trim();
    if (ISO_LOCAL.test(s)) {
      return `${owner} alignTo ${JSON.stringify(alignTo)} is a local time, which means different instants on different machines: add 'Z' or an offset such as '+02:00' (e.g. ${JSON.stringify(localToUtcExample(s))})`;
    }
    const ms = ISO_ZONED.test(s) ? Date.parse(s.replace(' ', 'T')) : NaN;
    if (Number.isFinite(ms)) return ms;
    return `${owner} alignTo ${JSON.stringify(alignTo)} is not an ISO 8601 timestamp with a zone, such as '2024-01-01T00:00:00Z'`;
  }
  return `${owner} alignTo must be a Date, a number of ms since the Unix epoch, or an ISO 8601 string with a zone, got ${describeValue(alignTo)}`;
}

function localToUtcExample(s: string): string {
  if (s.length === 7) return `${s}-01T00:00:00Z`;
  if (s.length === 10) return `${s}T00:00:00Z`;
  return `${s.replace(' ', 'T')}Z`;
}

/** Checks a duration in ms that must be greater than zero; returns a message when it is not. */
export function checkPositive(owner: string, name: string, ms: unknown): string | undefined {
  if (typeof ms === 'number' && ms > 0 && Number.isFinite(ms)) return undefined;
  return `${owner} ${name} must be a finite number of ms greater than 0, got ${describeValue(ms)}`;
}

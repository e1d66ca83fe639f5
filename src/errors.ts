/**
 * The base class of every error weir raises.
 *
 * Subclasses carry structured fields (the step, the key, the path, the topic) so that a caller can
 * react to them without parsing the message.
 *
 * ## Example
 * ```ts
 * import { runMain, WeirError } from 'weir';
 * try {
 *   await runMain(flow);
 * } catch (err) {
 *   if (err instanceof WeirError) console.error(err.message);
 * }
 * ```
 */
export class WeirError extends Error {
  override name = 'WeirError';
  /** Whether retrying the same action could succeed. Kept through any wrapping. */
  readonly retriable: boolean;

  /**
   * @param message what went wrong and what to do about it
   * @param options `cause` is the underlying error; `retriable` defaults to the cause's flag or false
   */
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const causeRetriable =
      options.cause instanceof WeirError ? options.cause.retriable : false;
    this.retriable = options.retriable ?? causeRetriable;
  }
}

/**
 * An error raised inside a step: a throwing user function, a mapper that returned the wrong
 * shape, a key that is not a string, or state that cannot be serialized.
 *
 * The message always starts with the step id, and names the key where there is one.
 *
 * ## Example
 * ```ts
 * import { StepError } from 'weir';
 * try {
 *   await runMain(flow);
 * } catch (err) {
 *   if (err instanceof StepError) console.error(err.stepId, err.key);
 * }
 * ```
 */
export class StepError extends WeirError {
  override name = 'StepError';
  /** The full id of the step that failed, for example `recovery.running_count`. */
  readonly stepId: string;
  /** The key being processed, when the step is keyed. */
  readonly key: string | undefined;
  /** The message without the step and key prefix. */
  readonly detail: string;

  /**
   * @param stepId the failing step's full id
   * @param message what went wrong, without the step prefix
   * @param options the key, and the cause
   */
  constructor(
    stepId: string,
    message: string,
    options: { key?: string | undefined; cause?: unknown; retriable?: boolean } = {},
  ) {
    const where = options.key === undefined ? `step '${stepId}'` : `step '${stepId}', key ${JSON.stringify(options.key)}`;
    super(`${where}: ${message}`, options);
    this.stepId = stepId;
    this.key = options.key;
    this.detail = message;
  }
}

/** Describes any value briefly for an error message, e.g. `number 3` or `array of length 3`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const t = typeof value;
  if (t === 'string') {
    const s = value as string;
    return `the string ${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)}`;
  }
  if (t === 'number' || t === 'bigint' || t === 'boolean') return `${t} ${String(value)}`;
  if (t === 'function') return 'a function';
  const ctor = (value as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
}

/** Wraps anything a user function threw in a {@link StepError} naming the step and key. */
export function stepErrorFrom(stepId: string, what: string, err: unknown, key?: string): StepError {
  if (err instanceof StepError) {
    if (err.key !== undefined || key === undefined) return err;
    return new StepError(err.stepId, err.detail, { key, cause: err.cause, retriable: err.retriable });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new StepError(stepId, `${what} threw: ${msg}`, { key, cause: err });
}

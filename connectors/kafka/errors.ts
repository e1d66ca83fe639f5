import { StepError } from '../../src/errors.js';

/**
 * What went wrong in a Kafka connector, as a stable code to branch on.
 *
 * ## Example
 * ```ts
 * import { KafkaConnectorError, type KafkaErrorCode } from 'weir/connectors/kafka';
 * const retryLater: KafkaErrorCode[] = ['unreachable', 'fetch', 'produce', 'commit'];
 * const shouldRetry = (err: unknown) => err instanceof KafkaConnectorError && retryLater.includes(err.code);
 * ```
 *
 * - `config`: bad options (brokers given as a string, an empty topic list, a bad batch size);
 * - `missing_topic`: a topic that does not exist on the cluster;
 * - `unreachable`: no broker answered within the connect deadline;
 * - `decode`: a record whose key or value the deserializer rejected (with `errors: 'fail'`);
 * - `serialize`: a sink serializer threw, or returned something other than bytes or a string;
 * - `message_too_large`: the broker refused a record as larger than its `max.message.bytes`;
 * - `fenced`: another live producer took over this sink's transactional id;
 * - `transaction_lost`: the broker aborted an exactly-once transaction that weir had already
 *   recorded as committed (it timed out while weir was down), so that epoch's output is lost;
 * - `offset_out_of_range`: a stored offset is no longer in the log and `offsetReset` is `'fail'`;
 * - `fetch`, `produce`, `commit`: the broker kept failing for longer than the retry budget.
 */
export type KafkaErrorCode =
  | 'config'
  | 'missing_topic'
  | 'unreachable'
  | 'decode'
  | 'serialize'
  | 'message_too_large'
  | 'fenced'
  | 'transaction_lost'
  | 'offset_out_of_range'
  | 'fetch'
  | 'produce'
  | 'commit';

/**
 * An error of the Kafka connectors: the message names the step (when known) and the topic.
 *
 * It carries structured fields, so a caller can react without parsing the message, and keeps the
 * kafkajs error it wraps as `cause`. `retriable` says whether running again could succeed. It is a
 * `StepError`; errors raised before a step is known (bad options in a constructor, a missing
 * topic found by `listParts()`) have an empty `stepId` and no step prefix.
 *
 * ## Example
 * ```ts
 * import { KafkaConnectorError } from 'weir/connectors/kafka';
 * try {
 *   await runMain(flow);
 * } catch (err) {
 *   if (err instanceof KafkaConnectorError && err.code === 'missing_topic') console.error(err.topic);
 * }
 * ```
 */
export class KafkaConnectorError extends StepError {
  override name = 'KafkaConnectorError';
  /** What went wrong. */
  readonly code: KafkaErrorCode;
  /** The topic concerned. */
  readonly topic: string | undefined;
  /** The Kafka partition concerned. */
  readonly partition: number | undefined;
  /** The offset of the record concerned. */
  readonly offset: number | undefined;

  /**
   * @param code what went wrong
   * @param message what went wrong and what to do, without the step prefix
   * @param where the step, topic, partition and offset, the cause, and whether it is retriable
   */
  constructor(
    code: KafkaErrorCode,
    message: string,
    where: {
      stepId?: string | undefined;
      topic?: string | undefined;
      partition?: number | undefined;
      offset?: number | undefined;
      cause?: unknown;
      retriable?: boolean;
    } = {},
  ) {
    super(where.stepId ?? '', message, {
      cause: where.cause,
      retriable: where.retriable ?? (where.cause as { retriable?: unknown } | undefined)?.retriable === true,
    });
    if (where.stepId === undefined) this.message = message;
    this.code = code;
    this.topic = where.topic;
    this.partition = where.partition;
    this.offset = where.offset;
  }
}

/** The message of any thrown value, for wrapping. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const type = (err as { type?: unknown }).type;
    return typeof type === 'string' && !err.message.includes(type) ? `${err.message} (${type})` : err.message;
  }
  return String(err);
}

/**
 * Whether `err` is worth retrying: it says so, or it is kafkajs giving up its own retries
 * (`KafkaJSNumberOfRetriesExceeded`) on an error that says so, such as a refused connection
 * while a broker restarts. kafkajs marks the give-up itself as not retriable, which would end a
 * run after a few seconds of outage instead of the connector's own deadline.
 */
export function isRetriable(err: unknown): boolean {
  let e = err as { retriable?: unknown; name?: unknown; cause?: unknown; originalError?: unknown } | null | undefined;
  for (let depth = 0; e !== null && e !== undefined && depth < 5; depth++) {
    if (e.retriable === true) return true;
    if (e.name !== 'KafkaJSNumberOfRetriesExceeded') return false;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

/** The kafkajs protocol error type (`'MESSAGE_TOO_LARGE'`, ...) of `err` or of its causes. */
export function kafkaErrorType(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

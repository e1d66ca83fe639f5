import { EOF, type StatefulSourcePartition } from '../../src/inputs.js';
import type { InternalCluster } from './kafkajsInternals.js';
import { isRetriable, KafkaConnectorError, kafkaErrorType, messageOf } from './errors.js';
import type { RecordSet } from './recordSet.js';
import type { PartitionFetcher } from './SourceFetcher.js';
import type { OffsetSpec } from './KafkaSource.js';
import type { KafkaDeadLetter, KafkaSourceMessage } from './KafkaSourceMessage.js';
import type { KafkaSerde } from './serde.js';

/** Checked source options, shared by the partitions of one source. @internal */
export interface SourceSettings<K, V> {
  tail: boolean;
  batchSize: number;
  maxBytes: number;
  pollIntervalMs: number;
  retryTimeoutMs: number;
  connectTimeoutMs: number;
  isolation: number;
  key: Pick<KafkaSerde<K>, 'deserialize'> | undefined;
  value: Pick<KafkaSerde<V>, 'deserialize'> | undefined;
  errors: 'fail' | 'stream';
  groupId: string | undefined;
  offsetReset: 'earliest' | 'latest' | 'fail';
}

/** What {@link KafkaSource.buildPart} hands a partition. @internal */
export interface PartitionInit<K, V> {
  stepId: string;
  topic: string;
  partition: number;
  start: number;
  end: number | undefined;
  cluster: InternalCluster;
  settings: SourceSettings<K, V>;
  /** Fetches the partition's records, sharing requests with the source's other partitions. */
  fetcher: PartitionFetcher;
  lookupOffset(spec: OffsetSpec): Promise<number>;
  release(): Promise<void>;
}

/** What one fetch of a partition returned. @internal */
export interface FetchedRecords {
  /** The records, to read front to back. */
  readonly set: RecordSet;
  /** The partition's high watermark when the broker answered. */
  readonly highWatermark: number;
  /** The last stable offset (read_committed end), when the broker reports it. */
  readonly lastStableOffset: number | undefined;
}

type Outcome = { fetched: FetchedRecords; offset: number } | { error: unknown; offset: number };

/** The most undecodable records a partition keeps for {@link KafkaSourcePartition.takeErrors}. */
const MAX_KEPT_ERRORS = 10_000;

/**
 * One topic-partition of a {@link KafkaSource}: pulls records on demand, snapshots the offset of
 * the next record it has not yet handed out.
 *
 * Beyond the source contract it offers `takeErrors()` (records that could not be decoded, with
 * `errors: 'stream'`) and `epochCommitted(epoch)` (commits the offset stored with that epoch to
 * `groupId`, when set).
 *
 * ## Example
 * ```ts
 * import { EOF } from 'weir/inputs';
 * import { KafkaSource } from 'weir/connectors/kafka';
 * const source = new KafkaSource(['localhost:9092'], ['events'], { tail: false });
 * const part = await source.buildPart('flow.in', 'events/0', undefined);
 * for (let batch = await part.nextBatch(); batch !== EOF; batch = await part.nextBatch()) console.log(batch.length);
 * await part.close();
 * ```
 */
export class KafkaSourcePartition<K = Buffer, V = Buffer> implements StatefulSourcePartition<KafkaSourceMessage<K, V>, number, KafkaDeadLetter> {
  /** The topic. */
  readonly topic: string;
  /** The Kafka partition. */
  readonly partition: number;
  /** With `tail: false`, the offset this partition stops at (EOF); otherwise `undefined`. */
  readonly endOffset: number | undefined;
  /** The last error committing progress to `groupId`, if the latest attempt failed (it is retried next epoch). */
  lastGroupCommitError: unknown;

  private readonly i: PartitionInit<K, V>;
  private readonly s: SourceSettings<K, V>;
  private pos: number;
  /** The fetched records being handed out, if any. */
  private set: RecordSet | undefined;
  /** Where `set` ends: the position once it is read to the end. */
  private setEnd: number;
  /** Whether to wait (`nextAwake`) once `set` is read: the fetch brought nothing new, or all there was. */
  private idleAfterSet = false;
  private fetchOffset: number;
  private inflight: Promise<Outcome> | undefined;
  private settled = false;
  private caughtUp = false;
  private awakeAt: number | undefined;
  private failingSince: number | undefined;
  private failures = 0;
  private snapshotted: number | undefined;
  private committedToGroup: number | undefined;
  private deadLetters: KafkaDeadLetter[] = [];
  private droppedErrors = 0;
  private closed = false;

  /**
   * @internal Built by `KafkaSource.buildPart`.
   * @param init what the source resolved: topic, partition, start and end offsets, the client
   */
  constructor(init: PartitionInit<K, V>) {
    this.i = init;
    this.s = init.settings;
    this.topic = init.topic;
    this.partition = init.partition;
    this.endOffset = init.end;
    this.pos = init.start;
    this.setEnd = init.start;
    this.fetchOffset = init.start;
  }

  /** The offset of the next record this partition will hand out. */
  get position(): number {
    return this.pos;
  }

  /**
   * The next records, at most `batchSize`; an empty array when none are ready yet; EOF at the end
   * offset with `tail: false`. Retriable broker errors are retried (without blocking the flow)
   * for up to `retryTimeoutMs`.
   * @returns the records, or EOF
   */
  async nextBatch(): Promise<KafkaSourceMessage<K, V>[] | typeof EOF> {
    this.awakeAt = undefined;
    if (this.closed) return EOF;
    for (;;) {
      if (this.set !== undefined) {
        const out = this.handOut(this.set);
        if (out !== undefined) return out;
        if (this.idleAfterSet) {
          this.awakeAt = Date.now() + this.s.pollIntervalMs;
          return [];
        }
      }
      if (this.endOffset !== undefined && this.pos >= this.endOffset) {
        this.i.fetcher.finish();
        return EOF;
      }
      this.inflight ??= this.startFetch();
      if (!this.settled && this.caughtUp) {
        this.awakeAt = Date.now() + this.s.pollIntervalMs;
        return [];
      }
      const outcome = await this.inflight;
      this.inflight = undefined;
      if (outcome.offset !== this.fetchOffset) continue; // fetched for a position given up since
      if ('error' in outcome) return this.onFetchError(outcome.error, outcome.offset);
      this.load(outcome.fetched, outcome.offset);
    }
  }

  /** When to call `nextBatch()` again: set while caught up or backing off after an error. */
  nextAwake(): number | undefined {
    return this.awakeAt;
  }

  /**
   * The offset of the next record not yet handed out: where a resumed run starts.
   * @returns the offset
   */
  snapshot(): number {
    this.snapshotted = this.pos;
    return this.pos;
  }

  /**
   * Called by the runtime once `epoch` is committed in the recovery store. With `groupId`, commits
   * the offset stored with that epoch to the group (for lag tools only). A retriable failure is kept
   * in `lastGroupCommitError` and retried next epoch; a group with active members fails the run.
   * @param _epoch the committed epoch
   */
  async epochCommitted(_epoch: number): Promise<void> {
    const groupId = this.s.groupId;
    const offset = this.snapshotted ?? this.pos;
    if (groupId === undefined || offset === this.committedToGroup) return;
    try {
      const coordinator = await this.i.cluster.findGroupCoordinator({ groupId });
      await coordinator.offsetCommit({
        groupId,
        groupGenerationId: -1,
        memberId: '',
        topics: [{ topic: this.topic, partitions: [{ partition: this.partition, offset: String(offset) }] }],
      });
      this.committedToGroup = offset;
      this.lastGroupCommitError = undefined;
    } catch (err) {
      const type = kafkaErrorType(err);
      if (type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID' || type === 'GROUP_AUTHORIZATION_FAILED' || type === 'INVALID_GROUP_ID') {
        throw new KafkaConnectorError(
          'commit',
          `cannot commit progress of ${this.topic}/${this.partition} to consumer group '${groupId}': ${messageOf(err)}; ` +
            'the group must not be used by running consumers (weir reports progress to it, it never joins it)',
          { stepId: this.i.stepId, topic: this.topic, partition: this.partition, cause: err },
        );
      }
      this.lastGroupCommitError = err;
    }
  }

  /**
   * Takes the records that could not be decoded since the last call (with `errors: 'stream'`):
   * the runtime calls it after every `nextBatch()` and emits them on the input's `.errors` stream.
   * At most 10 000 are kept between calls; `errorsDropped` counts any beyond.
   * @returns the dead letters, oldest first
   */
  takeErrors(): KafkaDeadLetter[] {
    const out = this.deadLetters;
    this.deadLetters = [];
    return out;
  }

  /** How many dead letters were dropped because nobody took them in time. */
  get errorsDropped(): number {
    return this.droppedErrors;
  }

  /** Stops fetching and releases the connection (the last partition of a source disconnects it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.i.fetcher.finish();
    await this.inflight;
    this.inflight = undefined;
    await this.i.release();
  }

  private startFetch(): Promise<Outcome> {
    const offset = this.fetchOffset;
    this.settled = false;
    return this.i.fetcher.fetch(offset, this.caughtUp).then(
      (fetched) => {
        this.settled = true;
        return { fetched, offset };
      },
      (error: unknown) => {
        this.settled = true;
        return { error, offset };
      },
    );
  }

  /** Takes fetched records to hand out; starts the next fetch. */
  private load(fetched: FetchedRecords, offset: number): void {
    this.failingSince = undefined;
    this.failures = 0;
    const next = fetched.set.nextOffset;
    this.set = fetched.set;
    this.setEnd = this.endOffset !== undefined && next > this.endOffset ? this.endOffset : next;
    this.fetchOffset = next;
    const stable = this.s.isolation === 1 ? (fetched.lastStableOffset ?? fetched.highWatermark) : fetched.highWatermark;
    const progressed = next > offset;
    this.caughtUp = !progressed || next >= stable;
    this.idleAfterSet = this.caughtUp;
    if (this.endOffset === undefined || this.fetchOffset < this.endOffset) this.inflight = this.startFetch();
    else this.i.fetcher.finish();
  }

  /**
   * Decodes the next records of `set`, at most `batchSize` (undecodable ones count, as dead
   * letters). Once `set` is read to the end the position moves to its end.
   * @returns the records, or `undefined` when `set` had no record left
   */
  private handOut(set: RecordSet): KafkaSourceMessage<K, V>[] | undefined {
    const out: KafkaSourceMessage<K, V>[] = [];
    const { key: keySerde, value: valueSerde, batchSize } = this.s;
    const end = this.endOffset ?? Infinity;
    const { topic, partition } = this;
    let handled = 0;
    for (; handled < batchSize; handled++) {
      if (!set.next() || set.offset >= end) {
        this.set = undefined;
        this.pos = this.setEnd;
        return handled === 0 ? undefined : out;
      }
      const raw = set.key;
      const rawValue = set.value;
      let key: K | null;
      let value: V | null;
      let part: 'key' | 'value' = 'key';
      try {
        key = raw === null ? null : keySerde === undefined ? (raw as K) : keySerde.deserialize(raw);
        part = 'value';
        value = rawValue === null ? null : valueSerde === undefined ? (rawValue as V) : valueSerde.deserialize(rawValue);
      } catch (err) {
        this.onDecodeError(set, part, err);
        continue;
      }
      out.push({ key, value, topic, partition, offset: set.offset, timestamp: set.timestamp, headers: set.headers });
    }
    this.pos = set.offset + 1;
    return out;
  }

  private onDecodeError(r: RecordSet, part: 'key' | 'value', cause: unknown): void {
    const offset = r.offset;
    const where = `${this.topic}/${this.partition} offset ${offset}`;
    if (this.s.errors === 'fail') {
      // Read this record again if asked again: the run stops here, and would stop here again.
      this.set = undefined;
      this.fetchOffset = this.pos;
      throw new KafkaConnectorError(
        'decode',
        `the ${part} of the record at ${where} could not be decoded: ${messageOf(cause)}. ` +
          "The run stops here and will stop here again on resume: set errors: 'stream' on the KafkaSource to route such records to the error stream",
        { stepId: this.i.stepId, topic: this.topic, partition: this.partition, offset, cause },
      );
    }
    const error = new KafkaConnectorError('decode', `the ${part} of the record at ${where} could not be decoded: ${messageOf(cause)}`, {
      stepId: this.i.stepId,
      topic: this.topic,
      partition: this.partition,
      offset,
      cause,
    });
    if (this.deadLetters.length >= MAX_KEPT_ERRORS) {
      this.deadLetters.shift();
      this.droppedErrors++;
    }
    this.deadLetters.push({
      stepId: this.i.stepId,
      topic: this.topic,
      partition: this.partition,
      offset,
      timestamp: r.timestamp,
      key: r.key,
      value: r.value,
      headers: r.headers,
      error,
    });
  }

  private async onFetchError(err: unknown, offset: number): Promise<KafkaSourceMessage<K, V>[]> {
    const where = { stepId: this.i.stepId, topic: this.topic, partition: this.partition, offset, cause: err };
    if (kafkaErrorType(err) === 'OFFSET_OUT_OF_RANGE') {
      if (this.s.offsetReset === 'fail') {
        throw new KafkaConnectorError(
          'offset_out_of_range',
          `offset ${offset} of ${this.topic}/${this.partition} is no longer in the log (retention, or the topic was recreated); ` +
            "set offsetReset: 'earliest' or 'latest' on the KafkaSource to continue from there",
          where,
        );
      }
      const next = await this.i.lookupOffset(this.s.offsetReset);
      this.pos = this.setEnd = this.fetchOffset = next;
      this.set = undefined;
      this.caughtUp = false;
      return [];
    }
    const now = Date.now();
    const retriable = isRetriable(err);
    this.failingSince ??= now;
    if (!retriable || now - this.failingSince > this.s.retryTimeoutMs) {
      throw new KafkaConnectorError(
        'fetch',
        `reading ${this.topic}/${this.partition} at offset ${offset} failed${retriable ? ` for ${Math.round((now - this.failingSince) / 1000)} s` : ''}: ${messageOf(err)}`,
        { ...where, retriable },
      );
    }
    this.failures++;
    this.awakeAt = now + Math.min(100 * 2 ** this.failures, 5_000);
    return [];
  }
}

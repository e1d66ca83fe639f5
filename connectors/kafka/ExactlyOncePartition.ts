import type { RecordMetadata } from 'kafkajs';
import type { StatefulSinkPartition } from '../../src/outputs.js';
import { withDeadline } from './client.js';
import { isRetriable, KafkaConnectorError, kafkaErrorType, messageOf } from './errors.js';
import { transactionOutcome } from './fetchPartition.js';
import type { KafkaSinkItem } from './KafkaSink.js';
import { type EosManager, type InternalCluster, newTransactionalProducer, type SendBatch, TRANSACTION_COORDINATOR } from './kafkajsInternals.js';
import {
  COMMIT_BUDGET_MS,
  COORDINATOR_BUSY,
  FENCED,
  fencedError,
  type KafkaSinkState,
  type PendingTransaction,
  produceError,
  type SinkPartInit,
  type SinkSettings,
  toMessages,
} from './sinkSupport.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One of the two transactional ids of an exactly-once sink partition. */
interface Slot {
  readonly id: string;
  eos: EosManager | undefined;
  sendBatch: SendBatch | undefined;
  /** Set when the kafkajs transaction state is unusable (a commit retried by hand): re-initialise before use. */
  stale: boolean;
}

interface OpenTransaction {
  readonly epoch: number;
  readonly slot: Slot;
  probe: PendingTransaction['probe'];
}

/**
 * A sink partition that writes each epoch in one Kafka transaction and commits it after the
 * recovery store commits the epoch. See the protocol on {@link KafkaSink}.
 * @internal
 */
export class ExactlyOncePartition<K, V> implements StatefulSinkPartition<KafkaSinkItem<K, V>, KafkaSinkState> {
  private readonly slots: [Slot, Slot];
  private open: OpenTransaction | undefined;
  private flushed: { pending: PendingTransaction; slot: Slot } | undefined;

  private constructor(
    private readonly i: SinkPartInit<K, V>,
    private readonly cluster: InternalCluster,
  ) {
    const prefix = i.settings.transactionalIdPrefix ?? `weir.${i.stepId}`;
    this.slots = [0, 1].map((n) => ({ id: `${prefix}.${i.part}.${n}`, eos: undefined, sendBatch: undefined, stale: false })) as [Slot, Slot];
  }

  /**
   * Connects, settles the stored transaction, and initialises (fences) every id the stored state
   * does not name.
   */
  static async build<K, V>(i: SinkPartInit<K, V>, resume: KafkaSinkState | undefined): Promise<ExactlyOncePartition<K, V>> {
    const cluster = await i.client.cluster(i.where, [i.settings.topic], i.settings.connectTimeoutMs);
    const part = new ExactlyOncePartition(i, cluster);
    const pending = resume?.pending ?? null;
    if (pending !== null) await part.settle(pending);
    for (const slot of part.slots) {
      if (pending !== null && slot.id === pending.transactionalId) continue;
      await part.init(slot);
    }
    return part;
  }

  /** The transactional ids this partition writes with: epoch `e` uses `transactionalIds[e % 2]`. */
  get transactionalIds(): [string, string] {
    return [this.slots[0].id, this.slots[1].id];
  }

  /** Sends the batch in epoch `epoch`'s transaction and waits for the acks. */
  async writeBatch(items: KafkaSinkItem<K, V>[], epoch: number): Promise<void> {
    if (items.length === 0) return;
    const s = this.i.settings;
    const messages = toMessages(items, s, this.i.stepId);
    if (this.flushed !== undefined && this.flushed.pending.epoch < epoch) await this.commitFlushed();
    if (this.open !== undefined && this.open.epoch !== epoch) {
      throw new KafkaConnectorError('produce', `internal: epoch ${epoch} written while epoch ${this.open.epoch} was not snapshotted`, {
        stepId: this.i.stepId,
        topic: s.topic,
      });
    }
    if (this.open === undefined) {
      const slot = this.slots[epoch % 2]!;
      if (slot.eos === undefined || slot.stale) await this.init(slot);
      slot.eos!.beginTransaction();
      this.open = { epoch, slot, probe: null };
    }
    const open = this.open;
    let meta: RecordMetadata[];
    try {
      meta = await open.slot.sendBatch!({ topicMessages: [{ topic: s.topic, messages }], acks: -1, compression: s.compression });
    } catch (err) {
      throw produceError(err, messages, s as SinkSettings<unknown, unknown>, this.i.stepId);
    }
    if (open.probe === null) {
      const first = meta.find((m) => m.baseOffset !== undefined && Number(m.baseOffset) >= 0);
      if (first !== undefined) open.probe = { topic: first.topicName, partition: first.partition, offset: Number(first.baseOffset) };
    }
  }

  /**
   * The handle of epoch `epoch`'s transaction, flushed and left open until the store commits it;
   * `pending: null` when the epoch wrote nothing.
   */
  async snapshot(epoch: number): Promise<KafkaSinkState> {
    if (this.flushed !== undefined && this.flushed.pending.epoch < epoch) await this.commitFlushed();
    const open = this.open;
    if (open === undefined || open.epoch !== epoch) return { v: 1, pending: null };
    this.open = undefined;
    const eos = open.slot.eos!;
    const pending: PendingTransaction = {
      epoch,
      transactionalId: open.slot.id,
      producerId: String(eos.getProducerId()),
      producerEpoch: eos.getProducerEpoch(),
      probe: open.probe,
    };
    this.flushed = { pending, slot: open.slot };
    return { v: 1, pending };
  }

  /** Commits epoch `epoch`'s transaction in Kafka: call once the recovery store has committed it. */
  async epochCommitted(epoch: number): Promise<void> {
    if (this.flushed !== undefined && this.flushed.pending.epoch <= epoch) await this.commitFlushed();
  }

  /** Commits the last flushed transaction (the runtime closes after the final store commit) and disconnects. */
  async close(): Promise<void> {
    try {
      if (this.flushed !== undefined) await this.commitFlushed();
      if (this.open !== undefined) await this.open.slot.eos!.abort().catch(() => undefined);
    } finally {
      this.open = undefined;
      await this.i.client.release();
    }
  }

  private async init(slot: Slot): Promise<void> {
    const { eos, sendBatch } = newTransactionalProducer(this.i.client.kafka, this.cluster, slot.id, this.i.settings.transactionTimeoutMs, this.i.settings.retry);
    try {
      await withDeadline(eos.initProducerId(), Math.max(this.i.settings.connectTimeoutMs, COMMIT_BUDGET_MS), () => new Error('the transaction coordinator did not answer'));
    } catch (err) {
      const type = kafkaErrorType(err);
      if (type === 'INVALID_TRANSACTION_TIMEOUT') {
        throw new KafkaConnectorError('config', `transactionTimeoutMs (${this.i.settings.transactionTimeoutMs}) is above the broker's transaction.max.timeout.ms`, {
          stepId: this.i.stepId,
          topic: this.i.settings.topic,
          cause: err,
        });
      }
      throw new KafkaConnectorError('unreachable', `could not initialise the transactional producer '${slot.id}' for topic '${this.i.settings.topic}': ${messageOf(err)}`, {
        stepId: this.i.stepId,
        topic: this.i.settings.topic,
        cause: err,
        retriable: true,
      });
    }
    slot.eos = eos;
    slot.sendBatch = sendBatch;
    slot.stale = false;
  }

  /** Commits the flushed transaction with its producer; falls back to `EndTxn` retries. */
  private async commitFlushed(): Promise<void> {
    const { pending, slot } = this.flushed!;
    try {
      await slot.eos!.commit();
    } catch (err) {
      const type = kafkaErrorType(err);
      if (type !== undefined && FENCED.has(type)) throw fencedError(err, this.i.settings as SinkSettings<unknown, unknown>, this.i.stepId, slot.id);
      slot.stale = true;
      const outcome = await this.endTxn(pending);
      if (outcome === 'fenced') throw fencedError(err, this.i.settings as SinkSettings<unknown, unknown>, this.i.stepId, slot.id);
    }
    this.flushed = undefined;
  }

  /** Settles a stored handle on resume: commit it, or learn from the log that it ended. */
  private async settle(pending: PendingTransaction): Promise<void> {
    if ((await this.endTxn(pending)) === 'committed') return;
    const outcome = pending.probe === null ? 'unknown' : await transactionOutcome(this.cluster, pending.probe, pending.producerId);
    if (outcome !== 'aborted') return;
    if (this.i.settings.onExpiredTransaction === 'continue') return;
    throw new KafkaConnectorError(
      'transaction_lost',
      `the broker aborted the Kafka transaction of epoch ${pending.epoch} (transactional id '${pending.transactionalId}') after weir had recorded it as committed: ` +
        `it outlived transactionTimeoutMs (${this.i.settings.transactionTimeoutMs} ms) while the flow was down, so that epoch's output to topic '${this.i.settings.topic}' is lost. ` +
        "Raise transactionTimeoutMs to survive longer stops; rerun with onExpiredTransaction: 'continue' to accept the loss and go on",
      { stepId: this.i.stepId, topic: this.i.settings.topic },
    );
  }

  /** Sends `EndTxn(commit)` for a handle, retrying while the coordinator is busy. */
  private async endTxn(pending: PendingTransaction): Promise<'committed' | 'fenced'> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const coordinator = await this.cluster.findGroupCoordinator({ groupId: pending.transactionalId, coordinatorType: TRANSACTION_COORDINATOR });
        await coordinator.endTxn({
          producerId: pending.producerId,
          producerEpoch: pending.producerEpoch,
          transactionalId: pending.transactionalId,
          transactionResult: true,
        });
        return 'committed';
      } catch (err) {
        const type = kafkaErrorType(err);
        if (type !== undefined && FENCED.has(type)) return 'fenced';
        if (type === 'INVALID_TXN_STATE') return 'fenced';
        const busy = (type !== undefined && COORDINATOR_BUSY.has(type)) || isRetriable(err);
        if (!busy || Date.now() - started > COMMIT_BUDGET_MS) {
          throw new KafkaConnectorError('commit', `could not commit the Kafka transaction of epoch ${pending.epoch} ('${pending.transactionalId}'): ${messageOf(err)}`, {
            stepId: this.i.stepId,
            topic: this.i.settings.topic,
            cause: err,
            retriable: busy,
          });
        }
        if (type === 'NOT_COORDINATOR' || type === 'COORDINATOR_NOT_AVAILABLE') await this.cluster.refreshMetadata().catch(() => undefined);
        await sleep(Math.min(50 * 2 ** attempt, 1_000));
      }
    }
  }
}

/**
 * One `Fetch` request for one topic-partition, straight to its leader: the pull primitive under
 * {@link KafkaSource} and the sink's transaction probe.
 *
 * @internal
 * @module
 */

import type { InternalCluster, RawRecord } from './kafkajsInternals.js';

/** What one fetch returned. */
export interface FetchedChunk {
  /** Data records at or after the fetch offset: no control records, nothing from aborted transactions. */
  readonly records: RawRecord[];
  /** Every decoded record at or after the fetch offset, control and aborted ones included. */
  readonly raw: RawRecord[];
  /** The offset to fetch next: past the last record batch returned, or the fetch offset when none. */
  readonly nextOffset: number;
  /** The partition's high watermark when the broker answered. */
  readonly highWatermark: number;
  /** The last stable offset (read_committed end), when the broker reports it. */
  readonly lastStableOffset: number | undefined;
}

/** Parameters of {@link fetchPartition}. */
export interface FetchRequest {
  topic: string;
  partition: number;
  offset: number;
  /** 0 = read_uncommitted, 1 = read_committed. */
  isolationLevel: number;
  /** Upper bound of the response for this partition, in bytes (Kafka returns at least one batch). */
  maxBytes: number;
  /** How long the broker may hold the request when there is no data, in ms. */
  maxWaitTime: number;
}

const ABORT_MARKER = Buffer.from([0, 0, 0, 0]);

/**
 * Sends one `Fetch` for one partition to its leader and decodes the answer. Throws kafkajs errors
 * as they come (`OFFSET_OUT_OF_RANGE`, stale leadership, connection errors); on stale leadership
 * it refreshes the metadata first, so that a retry goes to the new leader.
 */
export async function fetchPartition(cluster: InternalCluster, req: FetchRequest): Promise<FetchedChunk> {
  const { topic, partition, offset } = req;
  let data;
  try {
    await cluster.refreshMetadataIfNecessary();
    const leaders = cluster.findLeaderForPartitions(topic, [partition]);
    const nodeId = Object.keys(leaders)[0];
    if (nodeId === undefined) {
      await cluster.refreshMetadata();
      throw Object.assign(new Error(`no leader known for ${topic}/${partition}`), { retriable: true, type: 'LEADER_NOT_AVAILABLE' });
    }
    const broker = await cluster.findBroker({ nodeId });
    const { responses } = await broker.fetch({
      isolationLevel: req.isolationLevel,
      maxWaitTime: req.maxWaitTime,
      minBytes: 1,
      maxBytes: req.maxBytes,
      topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: req.maxBytes }] }],
    });
    data = responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition);
  } catch (err) {
    const type = (err as { type?: unknown }).type;
    const name = (err as { name?: unknown }).name;
    if (
      type === 'NOT_LEADER_FOR_PARTITION' ||
      type === 'LEADER_NOT_AVAILABLE' ||
      type === 'UNKNOWN_TOPIC_OR_PARTITION' ||
      type === 'FENCED_LEADER_EPOCH' ||
      name === 'KafkaJSConnectionError' ||
      name === 'KafkaJSBrokerNotFound'
    ) {
      await cluster.refreshMetadata().catch(() => undefined);
    }
    throw err;
  }
  if (data === undefined) {
    return { records: [], raw: [], nextOffset: offset, highWatermark: offset, lastStableOffset: undefined };
  }
  const raw = data.messages.filter((m) => Number(m.offset) >= offset);
  let nextOffset = offset;
  const last = data.messages[data.messages.length - 1];
  if (last !== undefined) {
    const ctx = last.batchContext;
    const batchEnd = ctx !== undefined && ctx.lastOffsetDelta !== undefined ? Number(ctx.firstOffset) + ctx.lastOffsetDelta + 1 : Number(last.offset) + 1;
    nextOffset = Math.max(offset, batchEnd);
  }
  return {
    records: visibleRecords(raw, data.abortedTransactions),
    raw,
    nextOffset,
    highWatermark: Number(data.highWatermark),
    lastStableOffset: data.lastStableOffset === undefined || Number(data.lastStableOffset) < 0 ? undefined : Number(data.lastStableOffset),
  };
}

/**
 * Drops control records and the records of aborted transactions (the broker lists those only for
 * read_committed fetches), as a Java consumer does.
 */
function visibleRecords(raw: RawRecord[], aborted: { producerId: string; firstOffset: string }[] | undefined): RawRecord[] {
  if (aborted === undefined || aborted.length === 0) {
    let control = false;
    for (const r of raw) if (r.isControlRecord) control = true;
    return control ? raw.filter((r) => !r.isControlRecord) : raw;
  }
  const pending = aborted.map((a) => ({ producerId: a.producerId, firstOffset: Number(a.firstOffset) })).sort((a, b) => a.firstOffset - b.firstOffset);
  const inAborted = new Set<string>();
  const out: RawRecord[] = [];
  let next = 0;
  for (const r of raw) {
    const off = Number(r.offset);
    while (next < pending.length && off >= pending[next]!.firstOffset) inAborted.add(pending[next++]!.producerId);
    const pid = r.batchContext.producerId;
    if (r.isControlRecord) {
      if (r.key !== null && ABORT_MARKER.equals(r.key)) inAborted.delete(pid);
      continue;
    }
    if (r.batchContext.inTransaction && inAborted.has(pid)) continue;
    out.push(r);
  }
  return out;
}

/**
 * The outcome of a transaction, read from its control marker: scans `topic/partition` from
 * `offset` (a record the transaction wrote) with read_uncommitted fetches until the commit or
 * abort marker of `producerId`. `unknown` when the log no longer holds the offset or no marker
 * shows up within `maxScanBytes`.
 */
export async function transactionOutcome(
  cluster: InternalCluster,
  where: { topic: string; partition: number; offset: number },
  producerId: string,
  maxScanBytes = 64 * 1024 * 1024,
): Promise<'committed' | 'aborted' | 'unknown'> {
  let offset = where.offset;
  let scanned = 0;
  while (scanned < maxScanBytes) {
    let chunk: FetchedChunk;
    try {
      chunk = await fetchPartition(cluster, { ...where, offset, isolationLevel: 0, maxBytes: 1024 * 1024, maxWaitTime: 0 });
    } catch (err) {
      if ((err as { type?: unknown }).type === 'OFFSET_OUT_OF_RANGE') return 'unknown';
      throw err;
    }
    for (const r of chunk.raw) {
      if (!r.isControlRecord || r.batchContext.producerId !== producerId || r.key === null || r.key.length < 4) continue;
      return r.key.readInt16BE(2) === 1 ? 'committed' : 'aborted';
    }
    if (chunk.nextOffset <= offset) return 'unknown';
    for (const r of chunk.raw) scanned += (r.value?.length ?? 0) + (r.key?.length ?? 0) + 64;
    offset = chunk.nextOffset;
  }
  return 'unknown';
}

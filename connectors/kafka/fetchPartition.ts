/**
 * One `Fetch` request for one topic-partition, straight to its leader, decoded by kafkajs: the
 * exactly-once sink's transaction probe, which needs control records. (The source reads through
 * `fetchRecords.ts`, which decodes records only as they are handed out.)
 *
 * @internal
 * @module
 */

import { isStaleMetadata, leaderBroker } from './fetchRecords.js';
import type { InternalCluster, RawRecord } from './kafkajsInternals.js';

/** What one fetch returned. */
export interface FetchedChunk {
  /** Every decoded record at or after the fetch offset, control and aborted ones included. */
  readonly raw: RawRecord[];
  /** The offset to fetch next: past the last record batch returned, or the fetch offset when none. */
  readonly nextOffset: number;
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

/**
 * Sends one `Fetch` for one partition to its leader and decodes the answer. Throws kafkajs errors
 * as they come (`OFFSET_OUT_OF_RANGE`, stale leadership, connection errors); on stale leadership
 * it refreshes the metadata first, so that a retry goes to the new leader.
 */
export async function fetchPartition(cluster: InternalCluster, req: FetchRequest): Promise<FetchedChunk> {
  const { topic, partition, offset } = req;
  let data;
  try {
    const { broker } = await leaderBroker(cluster, topic, partition);
    const { responses } = await broker.fetch({
      isolationLevel: req.isolationLevel,
      maxWaitTime: req.maxWaitTime,
      minBytes: 1,
      maxBytes: req.maxBytes,
      topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: req.maxBytes }] }],
    });
    data = responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition);
  } catch (err) {
    if (isStaleMetadata(err)) await cluster.refreshMetadata().catch(() => undefined);
    throw err;
  }
  if (data === undefined) {
    return { raw: [], nextOffset: offset };
  }
  const raw = data.messages.filter((m) => Number(m.offset) >= offset);
  let nextOffset = offset;
  const last = data.messages[data.messages.length - 1];
  if (last !== undefined) {
    const ctx = last.batchContext;
    const batchEnd = ctx !== undefined && ctx.lastOffsetDelta !== undefined ? Number(ctx.firstOffset) + ctx.lastOffsetDelta + 1 : Number(last.offset) + 1;
    nextOffset = Math.max(offset, batchEnd);
  }
  return { raw, nextOffset };
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

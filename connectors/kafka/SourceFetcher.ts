/**
 * The fetch loop of a {@link KafkaSource}: the partitions of a source share one `Fetch` request
 * per leader broker.
 *
 * A partition asks for its next records (`fetch`) as soon as it has taken the previous ones, and
 * keeps reading those while the request is out: one chunk in hand and one in flight, at most.
 * When no request to that partition's leader is in flight, the ask goes out at once; otherwise it
 * waits and goes out with every other ask that came meanwhile, in one request. A broker handles
 * the requests of one connection one after the other, so this is also what keeps a partition with
 * records to read from queueing behind the long polls of partitions that have none.
 *
 * The broker may hold a request for new records (a long poll, up to {@link LONG_POLL_MS}) only
 * when every open partition of the source is caught up; such asks wait for the end of the
 * current turn of the event loop, so that the partitions waiting together poll together.
 *
 * @internal
 * @module
 */

import { type FetchedPartition, type FetchPartitionRequest, type FetchSettings, LONG_POLL_MS } from './fetchRecords.js';
import type { FetchedRecords } from './KafkaSourcePartition.js';
import type { RecordSet } from './recordSet.js';

/** How a fetcher reaches the brokers: injected, so that tests need none. */
export interface FetchTransport<B> {
  /** The leader of a partition: its node id and a handle to send requests to. */
  leader(topic: string, partition: number): Promise<{ nodeId: string; broker: B }>;
  /** Sends one `Fetch`; throws only for the request as a whole. */
  send(broker: B, settings: FetchSettings, partitions: FetchPartitionRequest[]): Promise<FetchedPartition[]>;
  /** The records of a partition's answer. */
  records(fetched: FetchedPartition, offset: number): Promise<RecordSet> | RecordSet;
  /** Refreshes the metadata if `err` says it is stale (leadership moved, broker gone); returns whether it did. */
  onError(err: unknown): Promise<boolean>;
}

/** The fetch handle of one partition. */
export interface PartitionFetcher {
  /**
   * Fetches the partition's records from `offset`.
   * @param offset the offset to read from
   * @param caughtUp whether the partition has read all there was: lets the broker wait for more
   */
  fetch(offset: number, caughtUp: boolean): Promise<FetchedRecords>;
  /** The partition will not fetch again (EOF, or closed): it no longer keeps others from waiting. */
  finish(): void;
}

const MAX_INT32 = 2 ** 31 - 1;

interface Ask {
  req: FetchPartitionRequest;
  caughtUp: boolean;
  resolve(r: FetchedRecords): void;
  reject(err: unknown): void;
}

interface Node<B> {
  broker: B;
  queue: Ask[];
  busy: boolean;
  /** A send is scheduled for the end of this turn of the event loop. */
  scheduled: boolean;
}

/** Coalesces the fetches of a source's partitions, one request per leader broker at a time. */
export class SourceFetcher<B = unknown> {
  private readonly nodes = new Map<string, Node<B>>();
  /** The open partitions still reading a backlog: while there is one, nobody long-polls. */
  private readonly reading = new Set<string>();

  /**
   * @param transport how to reach the brokers
   * @param isolationLevel 0 = read_uncommitted, 1 = read_committed
   * @param maxBytes the most bytes of one partition in one answer
   */
  constructor(
    private readonly transport: FetchTransport<B>,
    private readonly isolationLevel: number,
    private readonly maxBytes: number,
  ) {}

  /**
   * The fetch handle of `topic/partition`.
   * @param topic the topic
   * @param partition the partition
   * @returns a handle to fetch with, and to say when the partition is done
   */
  partition(topic: string, partition: number): PartitionFetcher {
    const key = `${partition}:${topic}`;
    this.reading.add(key);
    return {
      fetch: (offset, caughtUp) => {
        if (caughtUp) this.reading.delete(key);
        else this.reading.add(key);
        return this.ask(topic, partition, offset, caughtUp);
      },
      finish: () => {
        this.reading.delete(key);
      },
    };
  }

  private async ask(topic: string, partition: number, offset: number, caughtUp: boolean): Promise<FetchedRecords> {
    let leader: { nodeId: string; broker: B };
    try {
      leader = await this.transport.leader(topic, partition);
    } catch (err) {
      await this.transport.onError(err);
      throw err;
    }
    let node = this.nodes.get(leader.nodeId);
    if (node === undefined) this.nodes.set(leader.nodeId, (node = { broker: leader.broker, queue: [], busy: false, scheduled: false }));
    node.broker = leader.broker;
    const n = node;
    return new Promise<FetchedRecords>((resolve, reject) => {
      n.queue.push({ req: { topic, partition, offset, maxBytes: this.maxBytes }, caughtUp, resolve, reject });
      this.pump(n);
    });
  }

  /** Sends what is queued for `node` unless a request to it is out (it sends again when done). */
  private pump(node: Node<B>): void {
    if (node.busy || node.scheduled || node.queue.length === 0) return;
    if (this.reading.size > 0) {
      void this.send(node);
      return;
    }
    // Everybody is caught up: let the partitions polled in this turn join one long poll.
    node.scheduled = true;
    setImmediate(() => {
      node.scheduled = false;
      if (!node.busy && node.queue.length > 0) void this.send(node);
    });
  }

  private async send(node: Node<B>): Promise<void> {
    const asks = node.queue;
    node.queue = [];
    node.busy = true;
    const longPoll = this.reading.size === 0 && asks.every((a) => a.caughtUp);
    const settings: FetchSettings = {
      isolationLevel: this.isolationLevel,
      maxWaitTime: longPoll ? LONG_POLL_MS : 0,
      minBytes: 1,
      maxBytes: Math.min(this.maxBytes * asks.length, MAX_INT32),
    };
    try {
      let answers: FetchedPartition[];
      try {
        answers = await this.transport.send(node.broker, settings, asks.map((a) => a.req));
      } catch (err) {
        await this.transport.onError(err);
        for (const a of asks) a.reject(err);
        return;
      }
      let refreshed = false;
      for (let i = 0; i < asks.length; i++) {
        const a = asks[i]!;
        const answer = answers[i]!;
        try {
          if (answer.error !== undefined) throw answer.error;
          const set = await this.transport.records(answer, a.req.offset);
          a.resolve({ set, highWatermark: answer.highWatermark, lastStableOffset: answer.lastStableOffset });
        } catch (err) {
          if (!refreshed) refreshed = await this.transport.onError(err);
          a.reject(err);
        }
      }
    } finally {
      node.busy = false;
      this.pump(node);
    }
  }
}

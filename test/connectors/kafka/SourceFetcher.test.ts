/**
 * The source's shared fetch loop, with the brokers injected: which partitions go in which
 * request, when the broker may hold a request, and where errors go.
 */
import { describe, expect, it } from 'vitest';
import { type FetchedPartition, type FetchPartitionRequest, type FetchSettings, LONG_POLL_MS } from '../../../connectors/kafka/fetchRecords.js';
import { RecordSet } from '../../../connectors/kafka/recordSet.js';
import { type FetchTransport, SourceFetcher } from '../../../connectors/kafka/SourceFetcher.js';

interface Sent {
  broker: string;
  settings: FetchSettings;
  partitions: FetchPartitionRequest[];
  answer(errors?: Record<number, Error>): void;
  fail(err: Error): void;
}

/** Brokers that answer when told: partition p is led by broker `b${p % leaders}`. */
function fakeBrokers(leaders = 1) {
  const sent: Sent[] = [];
  const errors: unknown[] = [];
  const transport: FetchTransport<string> = {
    leader: async (_topic, partition) => ({ nodeId: String(partition % leaders), broker: `b${partition % leaders}` }),
    send: (broker, settings, partitions) =>
      new Promise<FetchedPartition[]>((resolve, reject) => {
        sent.push({
          broker,
          settings,
          partitions,
          answer: (errs = {}) =>
            resolve(
              partitions.map((p) => ({
                topic: p.topic,
                partition: p.partition,
                error: errs[p.partition],
                highWatermark: 1000 + p.partition, // tells the answers apart
                lastStableOffset: undefined,
                aborted: [],
                bytes: undefined,
                records: [],
              })),
            ),
          fail: reject,
        });
      }),
    records: (_f, offset) => RecordSet.empty(offset),
    onError: async (err) => {
      errors.push(err);
      return true;
    },
  };
  return { sent, errors, transport };
}

/** Lets asks reach the fetcher, and its end-of-turn sends go out. */
const tick = () => new Promise<void>((r) => setTimeout(r, 5));
const parts = (s: Sent) => s.partitions.map((p) => `${p.partition}@${p.offset}`);

describe('SourceFetcher', () => {
  it('sends the first ask at once and everything asked meanwhile in the next request', async () => {
    const { sent, transport } = fakeBrokers();
    const f = new SourceFetcher(transport, 1, 100);
    const [p0, p1, p2] = [0, 1, 2].map((p) => f.partition('t', p));
    const a0 = p0!.fetch(10, false);
    await tick();
    expect(sent.map(parts)).toEqual([['0@10']]);
    const a1 = p1!.fetch(20, false);
    const a2 = p2!.fetch(30, false);
    await tick();
    expect(sent).toHaveLength(1); // waiting for the one in flight
    sent[0]!.answer();
    expect((await a0).highWatermark).toBe(1000);
    await tick();
    expect(sent.map(parts)).toEqual([['0@10'], ['1@20', '2@30']]);
    expect(sent[1]!.settings).toMatchObject({ maxWaitTime: 0, minBytes: 1, maxBytes: 200, isolationLevel: 1 });
    sent[1]!.answer();
    expect([(await a1).highWatermark, (await a2).highWatermark]).toEqual([1001, 1002]);
  });

  it('long-polls only when every open partition is caught up, and then in one request', async () => {
    const { sent, transport } = fakeBrokers();
    const f = new SourceFetcher(transport, 0, 100);
    const [p0, p1] = [0, 1].map((p) => f.partition('t', p));
    // p1 has not fetched yet: it may have a backlog, so p0 must not hold the connection.
    const a = p0!.fetch(5, true);
    await tick();
    expect(sent[0]!.settings.maxWaitTime).toBe(0);
    sent[0]!.answer();
    await a;
    const b = [p0!.fetch(5, true), p1!.fetch(7, true)];
    await tick();
    expect(sent.map(parts).slice(1)).toEqual([['0@5', '1@7']]);
    expect(sent[1]!.settings.maxWaitTime).toBe(LONG_POLL_MS);
    sent[1]!.answer();
    await Promise.all(b);
    // A partition that finished (EOF, closed) does not count.
    const c = f.partition('t', 2);
    const d = p0!.fetch(6, true);
    await tick();
    expect(sent[2]!.settings.maxWaitTime).toBe(0);
    sent[2]!.answer();
    await d;
    c.finish();
    const e = p0!.fetch(6, true);
    await tick();
    expect(sent[3]!.settings.maxWaitTime).toBe(LONG_POLL_MS);
    sent[3]!.answer();
    await e;
  });

  it('sends to each leader separately, in parallel', async () => {
    const { sent, transport } = fakeBrokers(2);
    const f = new SourceFetcher(transport, 1, 100);
    const asks = [0, 1, 2, 3].map((p) => f.partition('t', p).fetch(p, false));
    await tick();
    expect(sent.map((s) => [s.broker, ...parts(s)])).toEqual([
      ['b0', '0@0'],
      ['b1', '1@1'],
    ]);
    sent[0]!.answer();
    sent[1]!.answer();
    await tick();
    expect(sent.slice(2).map((s) => [s.broker, ...parts(s)])).toEqual([
      ['b0', '2@2'],
      ['b1', '3@3'],
    ]);
    sent[2]!.answer();
    sent[3]!.answer();
    expect((await Promise.all(asks)).map((r) => r.highWatermark)).toEqual([1000, 1001, 1002, 1003]);
  });

  it("fails only the partition a partition error is about, and every ask of a failed request", async () => {
    const { sent, errors, transport } = fakeBrokers();
    const f = new SourceFetcher(transport, 1, 100);
    const [p0, p1, p2] = [0, 1, 2].map((p) => f.partition('t', p));
    const first = p0!.fetch(0, false);
    const [a1, a2] = [p1!.fetch(0, false), p2!.fetch(0, false)];
    await tick();
    sent[0]!.answer();
    await first;
    await tick();
    const notLeader = Object.assign(new Error('not leader'), { type: 'NOT_LEADER_FOR_PARTITION' });
    sent[1]!.answer({ 2: notLeader });
    expect((await a1).highWatermark).toBe(1001);
    await expect(a2).rejects.toBe(notLeader);
    expect(errors).toEqual([notLeader]);
    const [b0, b1] = [p0!.fetch(1, false), p1!.fetch(1, false)];
    await tick();
    const down = new Error('connection closed');
    sent[2]!.fail(down);
    await expect(b0).rejects.toBe(down);
    await tick();
    sent[3]!.fail(down);
    await expect(b1).rejects.toBe(down);
    expect(errors).toEqual([notLeader, down, down]);
    // The fetcher goes on.
    const c = p2!.fetch(0, false);
    await tick();
    sent[4]!.answer();
    expect((await c).highWatermark).toBe(1002);
  });
});

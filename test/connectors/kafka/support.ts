/**
 * Shared pieces of the end-to-end Kafka tests: keyed test data whose per-key order is
 * deterministic, and what a correct run must produce from it.
 *
 * Every record of key `k<j>` goes to Kafka partition `j % partitions`, so the records of one key
 * are read in offset order whatever the interleaving of partitions: per-key sequences of running
 * aggregates can be compared exactly between runs.
 *
 * @module
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EOF } from 'weir/inputs';
import { KafkaSource, stringSerde } from 'weir/connectors/kafka';
import { jarsCached, kafkaCacheDir } from '../../support/kafka/broker.js';
import { withProducer } from '../../support/kafka/helpers.js';

/** How many distinct keys the test data has. */
export const KEYS = 97;

/** The key index of record `i`. */
export const keyIndex = (i: number): number => (i * 7919) % KEYS;

/**
 * Produces `count` records `k<j> → value(i)` to `topic`, record `i` to partition `j % partitions`,
 * in chunks, with an idempotent producer (a retried request never writes twice).
 */
export async function produceKeyed(
  brokers: string[],
  topic: string,
  count: number,
  partitions: number,
  value: (i: number) => string,
  timestamp?: (i: number) => number,
): Promise<void> {
  await withProducer(
    brokers,
    async (p) => {
      for (let start = 0; start < count; start += 10_000) {
        const messages = [];
        for (let i = start; i < Math.min(count, start + 10_000); i++) {
          const j = keyIndex(i);
          messages.push({
            key: `k${j}`,
            value: value(i),
            partition: j % partitions,
            ...(timestamp === undefined ? {} : { timestamp: String(timestamp(i)) }),
          });
        }
        await p.send({ topic, messages, acks: -1 });
      }
    },
    { idempotent: true, maxInFlightRequests: 1 },
  );
}

/** Per key, the records' values in the order a correct reader sees them. */
export function valuesByKey(count: number, value: (i: number) => string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < count; i++) {
    const key = `k${keyIndex(i)}`;
    let list = out.get(key);
    if (list === undefined) out.set(key, (list = []));
    list.push(value(i));
  }
  return out;
}

/** Groups lines `<key>,<rest>` by key, keeping their order. */
export function linesByKey(lines: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of lines) {
    const comma = line.indexOf(',');
    const key = line.slice(0, comma);
    let list = out.get(key);
    if (list === undefined) out.set(key, (list = []));
    list.push(line.slice(comma + 1));
  }
  return out;
}

/** Counts each string. */
export function multiset(values: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

/** The entries of a multiset whose count differs from the expected one, at most `limit` of them. */
export function multisetDiff(got: Map<string, number>, want: Map<string, number>, limit = 10): string[] {
  const out: string[] = [];
  for (const [v, n] of want) if ((got.get(v) ?? 0) !== n && out.length < limit) out.push(`${v}: want ${n}, got ${got.get(v) ?? 0}`);
  for (const [v, n] of got) if (!want.has(v) && out.length < limit) out.push(`${v}: want 0, got ${n}`);
  return out;
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/**
 * A read_committed consumer in Java, the reference client: assigns every partition of a topic,
 * reads from the beginning to the end offsets (the last stable offsets, under read_committed)
 * and prints each value on a line.
 */
const JAVA_READER = `
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class ReadCommitted {
  public static void main(String[] a) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", a[0]);
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", "false");
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (var info : c.partitionsFor(a[1])) tps.add(new TopicPartition(a[1], info.partition()));
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      StringBuilder out = new StringBuilder();
      long deadline = System.currentTimeMillis() + 60_000;
      while (System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) out.append(r.value()).append('\\n');
        boolean done = true;
        for (TopicPartition tp : tps) if (c.position(tp) < end.get(tp)) done = false;
        if (done) break;
      }
      System.out.print(out);
    }
  }
}
`;

/**
 * Every value of `topic` as a `read_committed` consumer sees it, read to the end.
 *
 * It uses Kafka's Java client from the test broker's jars when they are cached (the reference
 * implementation of read_committed), else weir's own `KafkaSource`. Not the kafkajs consumer:
 * kafkajs 2.2.4 assumes a fetch response lists its aborted transactions in offset order, which
 * Kafka does not promise, and so shows records of aborted transactions when several producers'
 * transactions interleave in one partition.
 */
export async function readCommitted(brokers: string[], topic: string): Promise<string[]> {
  if (jarsCached() && spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0) {
    const dir = mkdtempSync(join(tmpdir(), 'weir-reader-'));
    try {
      writeFileSync(join(dir, 'ReadCommitted.java'), JAVA_READER);
      const r = spawnSync('java', ['-cp', join(kafkaCacheDir(), 'jars', '*'), '-Dlog4j.configuration=file:/dev/null', join(dir, 'ReadCommitted.java'), brokers.join(','), topic], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        timeout: 120_000,
      });
      if (r.status !== 0) throw new Error(`the Java read_committed reader failed (${r.error?.message ?? `status ${r.status}`}): ${r.stderr.slice(-2000)}`);
      return r.stdout.split('\n').filter((l) => l !== '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const src = new KafkaSource<Buffer, string>(brokers, [topic], { tail: false, value: stringSerde, isolationLevel: 'read_committed' });
  const out: string[] = [];
  for (const name of await src.listParts()) {
    const part = await src.buildPart('test.reader', name, undefined);
    try {
      for (;;) {
        const batch = await part.nextBatch();
        if (batch === EOF) break;
        for (const m of batch) out.push(m.value ?? '');
        const awake = part.nextAwake();
        if (awake !== undefined) await new Promise((r) => setTimeout(r, Math.max(0, awake - Date.now())));
      }
    } finally {
      await part.close();
    }
  }
  return out;
}

/**
 * Kafka consumers with recovery: counts per key and 10-second window of event time, from one
 * Kafka topic to another, exactly once.
 *
 * Each record of WEIR_IN_TOPIC counts for its key (a record without a key counts for its value)
 * in the 10-second window of its Kafka timestamp. When the watermark (the latest timestamp seen,
 * minus WEIR_LATENESS_MS, plus the system time since) passes a window's end, one record per key
 * goes to WEIR_OUT_TOPIC: key = the counted key, value = JSON
 * `{"key":"u1","start":"2024-05-01T12:00:00.000Z","end":"...","count":42}`, timestamp = the
 * window's end. Records later than that go to standard output as `late ...` lines.
 *
 *   export KAFKA_BROKERS=localhost:9092 WEIR_IN_TOPIC=clicks WEIR_OUT_TOPIC=click-counts
 *   npx weir recovery init db_dir 1
 *   npx weir run examples/kafka_counts.ts -r db_dir -s 1 -b 0                  # tails the topic
 *   npx weir run "examples/kafka_counts.ts:getFlow(false)" -r db_dir -s 1 -b 0  # to the end, then stops
 *
 * Kill it (`kill -9`) at any moment and run it again: the offsets, the open windows' counts and the
 * watermark come back from db_dir, and the sink's Kafka transactions commit in step with them,
 * so a `read_committed` consumer of WEIR_OUT_TOPIC sees every window's count exactly once.
 * Both topics must exist; weir never creates topics.
 */
import { Dataflow } from 'weir';
import { KafkaSink, KafkaSource, type KafkaSinkMessage, type KafkaSourceMessage, jsonSerde, stringSerde } from 'weir/connectors/kafka';
import { StdOutSink } from 'weir/connectors/stdio';
import * as op from 'weir/operators';
import { EventClock, TumblingWindower, countWindow } from 'weir/windowing';

/** One output record's value. */
export interface WindowCount {
  key: string;
  /** The window's start, ISO 8601. */
  start: string;
  /** The window's end (exclusive), ISO 8601. */
  end: string;
  count: number;
}

const WINDOW_MS = 10_000;

const env = (name: string, fallback: string) => process.env[name]?.trim() || fallback;

/**
 * Builds the flow from the environment: KAFKA_BROKERS (comma-separated, default
 * `localhost:9092`), WEIR_IN_TOPIC (default `weir-in`), WEIR_OUT_TOPIC (default `weir-out`),
 * WEIR_LATENESS_MS (how long to wait for out-of-order records, default 5000).
 * @param tail `true` (the default) to keep reading as records arrive; `false` to stop at the end
 *   offsets seen at start, closing every open window
 */
export function getFlow(tail = true): Dataflow {
  const brokers = env('KAFKA_BROKERS', 'localhost:9092').split(',').map((b) => b.trim());
  const inTopic = env('WEIR_IN_TOPIC', 'weir-in');
  const outTopic = env('WEIR_OUT_TOPIC', 'weir-out');
  const lateness = Number(env('WEIR_LATENESS_MS', '5000'));

  const flow = new Dataflow('kafka_counts');
  const records = flow.pipe(op.input('in', new KafkaSource<string, string>(brokers, [inTopic], { tail, key: stringSerde, value: stringSerde })));
  const clock = new EventClock((m: KafkaSourceMessage<string, string>) => m.timestamp, lateness);
  const counts = records.pipe(countWindow('count', clock, new TumblingWindower(WINDOW_MS, 0), (m) => m.key ?? m.value ?? ''));
  counts.pipe(
    op.map('to_record', ([key, [windowId, count]]: [string, [number, number]]): KafkaSinkMessage<string, WindowCount> => {
      const start = windowId * WINDOW_MS;
      return {
        key,
        value: { key, start: new Date(start).toISOString(), end: new Date(start + WINDOW_MS).toISOString(), count },
        timestamp: start + WINDOW_MS,
      };
    }),
    op.output(
      'out',
      new KafkaSink<string, WindowCount>(brokers, outTopic, {
        exactlyOnce: true,
        // Stable across restarts, unique to this flow and output topic.
        transactionalIdPrefix: `weir.kafka_counts.${outTopic}`,
        key: stringSerde,
        value: jsonSerde(),
      }),
    ),
  );
  counts.late.pipe(
    op.map('format_late', ([key, [windowId, m]]: [string, [number, KafkaSourceMessage<string, string>]]) => `late ${key} window ${windowId} ${m.topic}/${m.partition}@${m.offset}`),
    op.output('late', new StdOutSink()),
  );
  return flow;
}

export const flow = getFlow();

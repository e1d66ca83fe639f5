/**
 * The vitest global setup of the `kafka` project: one Kafka broker for the whole test run.
 *
 * - `KAFKA_BROKERS=host:port,...` points the tests at an existing broker; nothing is started.
 * - Otherwise a broker is started from the cached Maven Central jars (see `broker.ts`) and stopped
 *   when the run ends.
 * - With no Java (or no Maven and no cached jars) the Kafka tests skip with one loud line, except
 *   under `CI=true`, where that is an error: Kafka tests must run in CI.
 *
 * Tests read the addresses with `kafkaBrokers()` from `./helpers.ts`; an empty list means skip.
 *
 * @module
 */

import type { TestProject } from 'vitest/node';
import { brokerUnavailableReason, startBroker } from './broker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The bootstrap addresses of the test broker; empty when the Kafka tests are skipped. */
    kafkaBrokers: string[];
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) {
    project.provide('kafkaBrokers', fromEnv.split(',').map((b) => b.trim()).filter((b) => b !== ''));
    return undefined;
  }
  const missing = brokerUnavailableReason();
  if (missing !== undefined) {
    if (process.env.CI === 'true') {
      throw new Error(`Kafka tests must run under CI=true, but there is ${missing}: install Java 17+ and Maven, or set KAFKA_BROKERS`);
    }
    console.warn(`*** Kafka tests SKIPPED: ${missing}; set KAFKA_BROKERS or install Java ***`);
    project.provide('kafkaBrokers', []);
    return undefined;
  }
  const started = Date.now();
  const broker = await startBroker();
  console.log(`weir: Kafka broker on ${broker.brokers.join(',')} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${broker.dir})`);
  project.provide('kafkaBrokers', broker.brokers);
  return async () => {
    await broker.dispose();
  };
}

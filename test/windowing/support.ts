import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { Dataflow, type KeyedStream, type Stream, runMain } from 'weir';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { TestingSink, TestingSource, type TestingMarker } from 'weir/testing';
import type { WindowOut } from 'weir/windowing';

/** A system time that tests set by hand; shared by the clocks and by runMain, so nothing sleeps. */
export class FakeTime {
  constructor(public t = Date.UTC(2030, 0, 1)) {}
  readonly now = (): number => this.t;
}

/** 2024-01-01T00:00:00Z, the origin the tests align windows to. */
export const ALIGN = Date.UTC(2024, 0, 1);
/** Seconds after ALIGN, in ms. */
export const s = (sec: number): number => ALIGN + sec * 1000;

/**
 * An input event. `sys` is the system time at which it arrives: an upstream inspect step sets
 * the fake time to it, so a replay after a resume sees the same times. A `tick` only moves time.
 */
export interface Ev {
  key: string;
  at: number;
  sys?: number;
  tick?: boolean;
  v?: unknown;
}

export const ev = (key: string, sec: number, sys?: number, v?: unknown): Ev => ({ key, at: s(sec), sys, v });
export const tick = (sys: number): Ev => ({ key: '', at: 0, sys, tick: true });

export interface Recorded {
  down: [number, [string, [number, unknown]]][];
  late: [number, [string, [number, unknown]]][];
  meta: [number, [string, [number, { openTime: number; closeTime: number; mergedIds?: number[] }]]][];
}

/**
 * Runs `events` through a keyed window operator made by `make`, recording each output with the
 * fake system time at which it came out.
 */
export async function runWindow(
  events: (Ev | TestingMarker)[],
  make: (keyed: KeyedStream<Ev>, time: FakeTime) => WindowOut<any, any>,
  opts: { time?: FakeTime; dbDir?: string; rec?: Recorded; epochInterval?: number; batchSize?: number } = {},
): Promise<Recorded> {
  const time = opts.time ?? new FakeTime();
  const rec: Recorded = opts.rec ?? { down: [], late: [], meta: [] };
  const flow = new Dataflow('w');
  const keyed = (flow.pipe(op.input('in', new TestingSource(events, opts.batchSize ?? 1))) as Stream<Ev>).pipe(
    op.inspect('time', (_id: string, e: Ev) => {
      if (e.sys !== undefined) time.t = e.sys;
    }),
    op.filter('no_ticks', (e: Ev) => e.tick !== true),
    op.keyOn('key', (e: Ev) => e.key),
  );
  const out = make(keyed, time);
  // Recorded in an inspect step, synchronously, with the system time at which each came out.
  const record = <T>(name: string, stream: Stream<T>, arr: [number, T][]) =>
    stream.pipe(
      op.inspect(`rec_${name}`, (_id: string, x: T) => void arr.push([time.t, x])),
      op.output(name, new TestingSink<T>([])),
    );
  record('down', out.down, rec.down);
  record('late', out.late, rec.late);
  record('meta', out.meta, rec.meta);
  await runMain(flow, {
    now: time.now,
    epochInterval: opts.epochInterval ?? 0,
    recovery: opts.dbDir ? new RecoveryConfig(opts.dbDir) : undefined,
  });
  return rec;
}

/** `[key, windowId, value]` of the down stream, without times. */
export const downs = (r: Recorded) => r.down.map(([, [k, [id, v]]]) => [k, id, v]);
export const lates = (r: Recorded) => r.late.map(([, [k, [id, v]]]) => [k, id, (v as Ev).at === undefined ? v : ((v as Ev).at - ALIGN) / 1000]);
/** `[key, windowId, open s, close s, mergedIds]` of the meta stream. */
export const metas = (r: Recorded) =>
  r.meta.map(([, [k, [id, m]]]) => [k, id, (m.openTime - ALIGN) / 1000, (m.closeTime - ALIGN) / 1000, m.mergedIds ?? []]);
/** Seconds after ALIGN, for collected events. */
export const secs = (vs: unknown) => (vs as Ev[]).map((e) => (e.at - ALIGN) / 1000);

const dirs: string[] = [];
export function tempDb(parts = 1): string {
  const d = mkdtempSync(join(tmpdir(), 'weir-win-'));
  dirs.push(d);
  initDbDir(d, parts);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Event-time word counts over 5-second tumbling windows: the Bytewax migration guide's flow.
 *
 * Each line of `examples/data/words.txt` is `<ISO timestamp> <text>`. Words are counted per
 * window of event time, aligned to midnight UTC; a window's counts print once the watermark
 * (the latest timestamp seen minus 10 s, plus the system time since) passes its end, and every
 * window still open prints at the end of the input.
 *
 *   npx weir recovery init db_dir 1
 *   npx weir run examples/windowed_counts.ts -r db_dir -s 1 -b 0
 *   # ['00:00:00', 'to', 3] ... one line per word and window
 *
 * The counts of open windows, the watermark and the pending close times are snapshotted at every
 * epoch, so a run that is killed and restarted prints the same counts (lines of the resume epoch
 * may print twice). `getFlow(pauseMs)` pauses between lines, to leave time for a kill:
 *
 *   npx weir run "examples/windowed_counts.ts:getFlow(200)" -r db_dir -s 1 -b 0
 */
import { readFileSync } from 'node:fs';
import { Dataflow } from 'weir';
import { StdOutSink } from 'weir/connectors/stdio';
import * as op from 'weir/operators';
import { TestingSource, type TestingMarker } from 'weir/testing';
import { EventClock, TumblingWindower, countWindow } from 'weir/windowing';

/** A word and the time of the line it came from. */
export interface Word {
  at: Date;
  word: string;
}

const ALIGN = '2024-01-01T00:00:00Z';
const LENGTH = 5_000;

/** The lines of the data file. */
export function readLines(): string[] {
  const text = readFileSync(new URL('./data/words.txt', import.meta.url), 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '');
}

/**
 * Builds the flow.
 * @param pauseMs ms to pause between lines, 0 for none
 */
export function getFlow(pauseMs = 0): Dataflow {
  const lines: (string | TestingMarker)[] = [];
  for (const l of readLines()) {
    lines.push(l);
    if (pauseMs > 0) lines.push(TestingSource.PAUSE(pauseMs));
  }
  const flow = new Dataflow('windowed_counts');
  const words = flow.pipe(
    op.input('lines', new TestingSource(lines)),
    op.flatMap('split', (line: string): Word[] => {
      const [ts, ...text] = line.split(' ');
      const at = new Date(ts!);
      return text.map((word) => ({ at, word: word.toLowerCase() }));
    }),
  );
  const counts = words.pipe(
    countWindow('count', new EventClock((w: Word) => w.at, 10_000), new TumblingWindower(LENGTH, ALIGN), (w) => w.word),
  );
  const start = Date.parse(ALIGN);
  counts.pipe(
    op.map('format', ([word, [id, n]]: [string, [number, number]]) => [new Date(start + id * LENGTH).toISOString().slice(11, 19), word, n]),
    op.output('out', new StdOutSink()),
  );
  counts.late.pipe(
    op.map('format_late', ([word, [id]]: [string, [number, Word]]) => `late for window ${id}: ${word}`),
    op.output('late', new StdOutSink()),
  );
  return flow;
}

export const flow = getFlow();

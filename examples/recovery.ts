/**
 * The seed tutorial: a running sum over a list, with recovery.
 *
 *   npx weir recovery init db_dir 1
 *   npx weir run examples/recovery.ts -r db_dir -s 30 -b 0            # ['ALL', 0] ['ALL', 1] ['ALL', 3]
 *   npx weir run "examples/recovery.ts:getFlow(3, 4)" -r db_dir -s 30 -b 0   # ['ALL', 6] ['ALL', 10]
 *
 * The second run appends 3 and 4 to the input. The state (the sum, 3) and the input position
 * (index 3) resume from the store, so only the new items are read and the sum continues.
 */
import { Dataflow } from 'weir';
import { StdOutSink } from 'weir/connectors/stdio';
import * as op from 'weir/operators';
import { TestingSource } from 'weir/testing';

/** Builds the flow over `[0, 1, 2, ...extra]`. */
export function getFlow(...extra: number[]): Dataflow {
  const inp = [0, 1, 2, ...extra];
  const flow = new Dataflow('recovery');
  flow.pipe(
    op.input('inp', new TestingSource(inp)),
    op.keyOn('key_stream', () => 'ALL'),
    op.statefulMap('running_count', (sum: number | undefined, x: number) => {
      const next = (sum ?? 0) + x;
      return [next, next];
    }),
    op.output('out', new StdOutSink()),
  );
  return flow;
}

export const flow = getFlow();

import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import { EOF, FixedPartitionedSource, type StatefulSourcePartition } from 'weir/inputs';
import * as op from 'weir/operators';
import { DynamicSink } from 'weir/outputs';

/** A source that produces batches as fast as it is asked, counting them. */
class FastSource extends FixedPartitionedSource<number, number> {
  produced = 0;
  constructor(private readonly batches: number) {
    super();
  }
  listParts() {
    return ['p'];
  }
  buildPart(): StatefulSourcePartition<number, number> {
    return {
      nextBatch: () => (this.produced < this.batches ? (this.produced++, new Array<number>(100).fill(1)) : EOF),
      snapshot: () => this.produced,
    };
  }
}

/** A sink that takes a while for every batch, recording how far the source got ahead of it. */
class SlowSink extends DynamicSink<number> {
  written = 0;
  maxAhead = 0;
  constructor(private readonly source: FastSource) {
    super();
  }
  build() {
    return {
      writeBatch: async () => {
        this.maxAhead = Math.max(this.maxAhead, this.source.produced - this.written);
        await new Promise((r) => setTimeout(r, 1));
        this.written++;
      },
    };
  }
}

describe('backpressure', () => {
  it('a fast source feeding a slow async sink stays a bounded number of batches ahead', async () => {
    const source = new FastSource(300);
    const sink = new SlowSink(source);
    const flow = new Dataflow('bp');
    flow.pipe(op.input('in', source), op.map('m', (x: number) => x + 1), op.output('out', sink));
    await runMain(flow, { epochInterval: 60_000, maxPendingBatches: 8 });
    expect(sink.written).toBe(300);
    // Without backpressure the source would be ~300 batches ahead.
    expect(sink.maxAhead).toBeLessThanOrEqual(10);
  });
});

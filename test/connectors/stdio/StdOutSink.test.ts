import { afterEach, describe, expect, it, vi } from 'vitest';
import { Dataflow, StepError, runMain } from 'weir';
import * as op from 'weir/operators';
import { StdOutSink } from 'weir/connectors/stdio';
import { TestingSource } from 'weir/testing';

/** Captures what is written to stdout, completing each write. */
function captureStdout(fail?: Error) {
  let text = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
    text += String(chunk);
    const cb = rest.find((x) => typeof x === 'function') as ((err?: Error | null) => void) | undefined;
    cb?.(fail ?? null);
    return true;
  }) as typeof process.stdout.write);
  return { spy, text: () => text };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('StdOutSink', () => {
  it("prints each item on its own line as Bytewax prints Python values: ['ALL', 3]", async () => {
    const out = captureStdout();
    const flow = new Dataflow('recovery');
    flow.pipe(
      op.input('inp', new TestingSource([0, 1, 2])),
      op.keyOn('key_stream', () => 'ALL'),
      op.statefulMap('running_count', (sum: number | undefined, x: number) => [(sum ?? 0) + x, (sum ?? 0) + x]),
      op.output('out', new StdOutSink()),
    );
    await runMain(flow);
    expect(out.text()).toBe("['ALL', 0]\n['ALL', 1]\n['ALL', 3]\n");
  });

  it('formats strings, nested arrays, objects, null and undefined', async () => {
    const out = captureStdout();
    const flow = new Dataflow('fmt');
    flow.pipe(
      op.input('inp', new TestingSource<unknown>(["it's", ['a', [1, true]], { n: 1, s: 'x' }, null, undefined], 5)),
      op.output('out', new StdOutSink()),
    );
    await runMain(flow);
    expect(out.text()).toBe("'it\\'s'\n['a', [1, true]]\n{n: 1, s: 'x'}\nnull\nundefined\n");
  });

  it('uses a custom formatter', async () => {
    const out = captureStdout();
    const flow = new Dataflow('fmt');
    flow.pipe(op.input('inp', new TestingSource([1, 2])), op.output('out', new StdOutSink((x: number) => `n=${x}`)));
    await runMain(flow);
    expect(out.text()).toBe('n=1\nn=2\n');
  });

  it('a failing write fails the run naming the step', async () => {
    captureStdout(new Error('EPIPE'));
    const flow = new Dataflow('fmt');
    flow.pipe(op.input('inp', new TestingSource([1])), op.output('out', new StdOutSink()));
    const err = await runMain(flow).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toMatch(/^step 'fmt\.out': .*EPIPE/);
  });
});

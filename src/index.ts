/**
 * weir: an RxJS-native stream processor. Build a {@link Dataflow} from pipeable operators and run
 * it with {@link runMain}; with recovery on, keyed state and source positions are snapshotted at
 * epoch boundaries and a restarted run resumes from the last complete epoch.
 *
 * ## Example
 * ```ts
 * import { Dataflow, runMain } from 'weir';
 * import * as op from 'weir/operators';
 * import { TestingSource } from 'weir/testing';
 * import { StdOutSink } from 'weir/connectors/stdio';
 * const flow = new Dataflow('hello');
 * flow.pipe(op.input('in', new TestingSource([1, 2, 3])), op.output('out', new StdOutSink()));
 * await runMain(flow);
 * ```
 * @module
 */
export { Dataflow } from './dataflow.js';
export { Stream, type KeyedStream, type Message, type Batch, type Barrier, type EndOfStream, type Pipeable, type UnaryFunction } from './stream.js';
export { runMain, type RunOptions, type RunResult, type Progress } from './runtime/runMain.js';
export { WeirError, StepError } from './errors.js';

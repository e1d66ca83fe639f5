import type { Dataflow } from '../dataflow.js';
import { StepError, WeirError } from '../errors.js';
import type { Source } from '../inputs.js';
import type { InputRunner, PartRunner } from '../runtime/context.js';
import { Stream } from '../stream.js';

/**
 * Adds an input step: the stream of items a source produces.
 *
 * A `FixedPartitionedSource` resumes each partition from the position stored with the last
 * complete epoch; a `DynamicSource` starts afresh.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { TestingSource } from 'weir/testing';
 * const nums = new Dataflow('ex').pipe(op.input('inp', new TestingSource([1, 2, 3])));
 * ```
 * @param stepId a step id unique in the flow
 * @param source the source
 * @returns an operator from a {@link Dataflow} to the stream of the source's items, with `.errors`
 */
export function input<T, E = never>(stepId: string, source: Source<T, E>): (flow: Dataflow) => InputStream<T, E> {
  return (flow) => {
    let out!: InputStream<T, E>;
    flow._addStep(stepId, (fullId) => {
      const errors = new Stream<E>(flow, fullId);
      out = Object.assign(new Stream<T>(flow, fullId), { errors });
      return async (ctx) => {
        const parts = await buildParts(fullId, source as Source<unknown>, ctx.resumeStates<unknown>(fullId));
        const runner: InputRunner = { stepId: fullId, port: ctx.port(out.portIndex), errors: ctx.port(errors.portIndex), parts };
        ctx.inputs.push(runner);
      };
    });
    return out;
  };
}

/**
 * The stream an input step makes, with its in-band errors (records a source could not decode, for
 * example) attached as `.errors`. A source without in-band errors leaves `.errors` empty.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const records = flow.pipe(op.input('in', source));
 * records.errors.pipe(op.output('dead_letters', deadLetterSink));
 * ```
 */
export type InputStream<T, E = never> = Stream<T> & {
  /** In-band errors reported by the source's partitions. */
  readonly errors: Stream<E>;
};

async function buildParts(stepId: string, source: Source<unknown>, resume: Map<string, unknown>): Promise<PartRunner[]> {
  const kind = (source as { sourceKind?: unknown } | null)?.sourceKind;
  try {
    if (kind === 'partitioned') {
      const src = source as Extract<Source<unknown>, { sourceKind: 'partitioned' }>;
      const keys = await src.listParts();
      if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) {
        throw new StepError(stepId, 'listParts() must return an array of strings');
      }
      if (new Set(keys).size !== keys.length) throw new StepError(stepId, `listParts() returned duplicate names: ${keys.join(', ')}`);
      const parts: PartRunner[] = [];
      for (const key of keys) {
        const part = await src.buildPart(stepId, key, resume.get(key));
        parts.push({ key, part, resumable: true, eof: false, awakeAt: 0 });
      }
      return parts;
    }
    if (kind === 'dynamic') {
      const src = source as Extract<Source<unknown>, { sourceKind: 'dynamic' }>;
      const part = await src.build(stepId, 0, 1);
      return [{ key: 'worker-0', part, resumable: false, eof: false, awakeAt: 0 }];
    }
  } catch (err) {
    // A StepError without a step id (a source's listParts() gets none) is given this input's.
    if (err instanceof StepError && err.stepId !== '') throw err;
    const msg = err instanceof StepError ? err.detail : ((err as Error)?.message ?? String(err));
    throw new StepError(stepId, err instanceof WeirError ? msg : `building the source failed: ${msg}`, {
      cause: err,
      retriable: err instanceof WeirError ? err.retriable : false,
    });
  }
  throw new StepError(stepId, 'op.input needs a FixedPartitionedSource or a DynamicSource (from weir/inputs)');
}

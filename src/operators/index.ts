/**
 * Every operator, pipeable where it takes one stream.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * flow.pipe(op.input('in', source), op.map('double', (x: number) => x * 2), op.output('out', sink));
 * ```
 * @module
 */
export { input, type InputStream } from './input.js';
export { output } from './output.js';
export { flatMapBatch } from './flatMapBatch.js';
export {
  map,
  filter,
  flatMap,
  filterMap,
  flatten,
  inspect,
  inspectDebug,
  keyOn,
  keyRm,
  mapValue,
  filterValue,
  flatMapValue,
  filterMapValue,
  raises,
} from './stateless.js';
export { statefulBatch, type StatefulBatchLogic, type Retain, type Emit, type StatefulEnv } from './statefulBatch.js';
export { stateful, statefulMap, statefulFlatMap, type StatefulLogic } from './stateful.js';
export { foldFinal, reduceFinal, countFinal, maxFinal, minFinal } from './finals.js';
export { collect, type CollectOptions } from './collect.js';
export { enrichCached, TTLCache } from './enrichCached.js';
export { merge } from './merge.js';
export { join, type JoinOptions } from './join.js';
export { branch, type BranchOut } from './branch.js';
export { redistribute } from './redistribute.js';

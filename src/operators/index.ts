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
export { map } from './map.js';
export { filter } from './filter.js';
export { flatMap } from './flatMap.js';
export { filterMap } from './filterMap.js';
export { flatten } from './flatten.js';
export { inspect, inspectDebug } from './inspect.js';
export { keyOn } from './keyOn.js';
export { keyRm } from './keyRm.js';
export { mapValue } from './mapValue.js';
export { filterValue } from './filterValue.js';
export { flatMapValue } from './flatMapValue.js';
export { filterMapValue } from './filterMapValue.js';
export { raises } from './raises.js';
export { statefulBatch, type StatefulBatchLogic, type Retain, type Emit, type StatefulEnv } from './statefulBatch.js';
export { stateful, statefulMap, statefulFlatMap, type StatefulLogic } from './stateful.js';
export { foldFinal, reduceFinal, countFinal, maxFinal, minFinal } from './finals.js';
export { collect, type CollectOptions } from './collect.js';
export { enrichCached, TTLCache } from './enrichCached.js';
export { merge } from './merge.js';
export { join, type JoinOptions } from './join.js';
export { branch, type BranchOut } from './branch.js';
export { redistribute } from './redistribute.js';

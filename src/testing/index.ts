/**
 * Sources and sinks for tests, and `runMain` again for convenience.
 *
 * ## Example
 * ```ts
 * import { TestingSource, TestingSink, runMain } from 'weir/testing';
 * ```
 * @module
 */
export { TestingSource, type TestingMarker } from './TestingSource.js';
export { TestingSink, type Pushable } from './TestingSink.js';
export { runMain, type RunOptions, type RunResult } from '../runtime/runMain.js';

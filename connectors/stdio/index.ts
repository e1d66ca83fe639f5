/**
 * Standard-output sinks.
 *
 * ## Example
 * ```ts
 * import { StdOutSink } from 'weir/connectors/stdio';
 * ```
 * @module
 */
export { StdOutSink } from './StdOutSink.js';

/**
 * Bridges between weir and plain RxJS: a source from any Observable or async iterable, a sink into
 * any Observer or Subject, and a flow's output as an Observable.
 *
 * ## Example
 * ```ts
 * import { ObservableSource, ObserverSink, runToObservable } from 'weir/connectors/rxjs';
 * ```
 * @module
 */
export { ObservableSource, type ObservableSourceOptions } from './ObservableSource.js';
export { ObserverSink } from './ObserverSink.js';
export { runToObservable } from './runToObservable.js';

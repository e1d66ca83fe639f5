import { Stream } from '../stream.js';

/**
 * Merges streams into one. The barrier of an epoch passes only after every upstream has closed
 * that epoch (aligned barriers), and the end of stream after every upstream has ended.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const all = clicks.pipe(op.merge('all', views, purchases));
 * ```
 * @param stepId a step id unique in the flow
 * @param others the streams merged with the piped one
 * @returns a pipeable operator
 */
export function merge<T>(stepId: string, ...others: Stream<T>[]): (up: Stream<T>) => Stream<T> {
  return (up) => {
    const ups = [up, ...others];
    let out!: Stream<T>;
    up.flow._addStep(stepId, (fullId) => {
      out = new Stream<T>(up.flow, fullId);
      return (ctx) => {
        const port = ctx.port<T>(out.portIndex);
        const barriers = new Map<number, number>();
        let eofs = 0;
        for (const s of ups) {
          ctx.port<T>(s.portIndex).listen((m) => {
            if (m.kind === 'batch') return port.emit(m);
            if (m.kind === 'eof') {
              if (++eofs === ups.length) port.emit(m);
              return;
            }
            const n = (barriers.get(m.epoch) ?? 0) + 1;
            if (n === ups.length) {
              barriers.delete(m.epoch);
              port.emit(m);
            } else barriers.set(m.epoch, n);
          });
        }
      };
    });
    return out;
  };
}

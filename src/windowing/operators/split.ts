import { type KeyedStream, Stream } from '../../stream.js';
import type { WindowOut } from '../WindowLogic.js';
import type { WindowMeta } from '../windowers/Windower.js';
import { LATE, type Tagged } from './keyLogic.js';

/**
 * Splits a window step's tagged output into `down`, `late` and `meta` in one step, and attaches
 * `late` and `meta` (and `down` itself) to `down`. Items are forwarded, not copied; a tagged pair is
 * replaced by a plain `[windowId, value]` pair.
 */
export function splitWindowEvents<V, W>(stepId: string, up: KeyedStream<Tagged>): WindowOut<V, W> {
  let down!: KeyedStream<[number, W]>;
  let late!: KeyedStream<[number, V]>;
  let meta!: KeyedStream<[number, WindowMeta]>;
  up.flow._addStep(`${stepId}/split`, (fullId) => {
    down = new Stream(up.flow, fullId);
    late = new Stream(up.flow, fullId);
    meta = new Stream(up.flow, fullId);
    return (ctx) => {
      const d = ctx.port<[string, Tagged]>(down.portIndex);
      const l = ctx.port<[string, Tagged]>(late.portIndex);
      const m = ctx.port<[string, Tagged]>(meta.portIndex);
      ctx.port<[string, Tagged]>(up.portIndex).listen((msg) => {
        if (msg.kind !== 'batch') {
          d.emit(msg);
          l.emit(msg);
          m.emit(msg);
          return;
        }
        const items = msg.items;
        let tagged = 0;
        for (let i = 0; i < items.length; i++) if (items[i]![1].length !== 2) tagged++;
        if (tagged === 0) return d.emit(msg);
        const downs: [string, Tagged][] = [];
        const lates: [string, Tagged][] = [];
        const metas: [string, Tagged][] = [];
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!;
          const pair = item[1];
          if (pair.length === 2) {
            downs.push(item);
            continue;
          }
          // A fresh pair without the tag: cheaper than truncating the tagged one.
          item[1] = [pair[0], pair[1]];
          (pair[2] === LATE ? lates : metas).push(item);
        }
        if (downs.length) d.emit({ kind: 'batch', epoch: msg.epoch, items: downs });
        if (lates.length) l.emit({ kind: 'batch', epoch: msg.epoch, items: lates });
        if (metas.length) m.emit({ kind: 'batch', epoch: msg.epoch, items: metas });
      });
    };
  });
  Object.defineProperties(down, {
    down: { value: down, enumerable: true },
    late: { value: late, enumerable: true },
    meta: { value: meta, enumerable: true },
  });
  return down as WindowOut<V, W>;
}

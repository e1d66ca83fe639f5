/**
 * A weir flow embedded in an ordinary RxJS app: an Observable in, a Subject out.
 *
 *   npx tsx examples/rxjs_app.ts
 *
 * The app has a stream of page views as an Observable. weir keys them by user and keeps a running
 * count per user; the counts come back out on a Subject that the rest of the app subscribes to,
 * with ordinary RxJS operators.
 */
import { Subject, filter, from, map } from 'rxjs';
import { Dataflow, runMain } from 'weir';
import { ObservableSource, ObserverSink } from 'weir/connectors/rxjs';
import * as op from 'weir/operators';

interface View {
  user: string;
  page: string;
}

const views$ = from<View[]>([
  { user: 'ada', page: '/' },
  { user: 'bob', page: '/docs' },
  { user: 'ada', page: '/docs' },
  { user: 'ada', page: '/api' },
  { user: 'bob', page: '/' },
]);

const counts$ = new Subject<[string, number]>();

const flow = new Dataflow('views');
flow.pipe(
  op.input('views', new ObservableSource(views$)),
  op.keyOn('by_user', (v: View) => v.user),
  op.statefulMap('count', (n: number | undefined) => [(n ?? 0) + 1, (n ?? 0) + 1]),
  op.output('counts', new ObserverSink(counts$)),
);

// The rest of the app: plain RxJS on the Subject.
counts$
  .pipe(
    filter(([, n]) => n >= 2),
    map(([user, n]) => `${user} has viewed ${n} pages`),
  )
  .subscribe({ next: (line) => console.log(line), complete: () => console.log('done') });

await runMain(flow, { epochInterval: 100 });

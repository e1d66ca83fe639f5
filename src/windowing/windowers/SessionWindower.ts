import { StepError, WeirError } from '../../errors.js';
import { checkPositive } from '../time.js';
import { NO_MERGES, type WindowMeta, type Windower, type WindowerLogic } from './Windower.js';

/**
 * The window id given to late items by windowers whose windows do not exist before items open
 * them (sessions, counts): a late item cannot say which window it missed.
 *
 * ## Example
 * ```ts
 * import { LATE_SESSION_ID } from 'weir/windowing';
 * const missed = (lateItem: [string, [number, unknown]]) => lateItem[1][0] === LATE_SESSION_ID;
 * ```
 */
export const LATE_SESSION_ID = -1;

/**
 * The stored state of a {@link SessionWindower}'s logic.
 *
 * ## Example
 * ```ts
 * import type { SessionState } from 'weir/windowing';
 * const s: SessionState = { maxId: 0, sessions: [[0, { openTime: 0, closeTime: 5_000 }]] };
 * ```
 */
export interface SessionState {
  /** The last session id given out; ids count up from 0 per key. */
  maxId: number;
  /** The open sessions. */
  sessions: [number, WindowMeta][];
}

class SessionLogic implements WindowerLogic<SessionState> {
  private maxId: number;
  private readonly sessions = new Map<number, WindowMeta>();
  private merges: [number, number][] = [];

  constructor(
    private readonly gap: number,
    resume: SessionState | undefined,
  ) {
    this.maxId = resume ? resume.maxId : LATE_SESSION_ID;
    if (resume) for (const [id, meta] of resume.sessions) this.sessions.set(id, meta);
  }

  openFor(ts: number, ids: number[]): number {
    const end = ts + this.gap;
    for (const [id, s] of this.sessions) {
      if (ts < s.closeTime && end > s.openTime) {
        let changed = false;
        if (ts < s.openTime) {
          s.openTime = ts;
          changed = true;
        }
        if (end > s.closeTime) {
          s.closeTime = end;
          changed = true;
        }
        if (changed && this.sessions.size > 1) this.findMerges();
        ids[0] = id;
        return 1;
      }
    }
    const id = ++this.maxId;
    this.sessions.set(id, { openTime: ts, closeTime: end });
    ids[0] = id;
    return 1;
  }

  /** Merges sessions that now overlap into the earliest-opened one. */
  private findMerges(): void {
    const sorted = [...this.sessions].sort((a, b) => a[1].openTime - b[1].openTime);
    let [lastId, last] = sorted[0]!;
    for (let i = 1; i < sorted.length; i++) {
      const [id, s] = sorted[i]!;
      if (s.openTime < last.closeTime) {
        if (s.closeTime > last.closeTime) last.closeTime = s.closeTime;
        (last.mergedIds ??= []).push(id, ...(s.mergedIds ?? []));
        this.sessions.delete(id);
        this.merges.push([id, lastId]);
      } else {
        lastId = id;
        last = s;
      }
    }
  }

  lateFor(_ts: number, ids: number[]): number {
    ids[0] = LATE_SESSION_ID;
    return 1;
  }

  takeMerged(): readonly (readonly [number, number])[] {
    if (this.merges.length === 0) return NO_MERGES;
    const m = this.merges;
    this.merges = [];
    return m;
  }

  closeFor(watermark: number, closed: [number, WindowMeta][]): void {
    const start = closed.length;
    for (const [id, s] of this.sessions) {
      if (s.closeTime <= watermark) {
        this.sessions.delete(id);
        closed.push([id, s]);
      }
    }
    if (closed.length - start > 1) {
      const mine = closed.splice(start).sort((a, b) => a[1].openTime - b[1].openTime);
      for (const c of mine) closed.push(c);
    }
  }

  notifyAt(): number | undefined {
    let min = Infinity;
    for (const s of this.sessions.values()) if (s.closeTime < min) min = s.closeTime;
    return min === Infinity ? undefined : min;
  }

  /** Never empty: the key keeps counting session ids, so an id is never given out twice. */
  isEmpty(): boolean {
    return false;
  }

  snapshot(): SessionState {
    return { maxId: this.maxId, sessions: [...this.sessions] };
  }
}

/**
 * Session windows: a key's items belong to one session while each comes less than `gap` ms
 * after the previous one (in timestamp order).
 *
 * Each item stands for the span `[ts, ts + gap)`; a session is the union of overlapping spans,
 * so its meta is `[first item, last item + gap)` and it closes once the watermark reaches the
 * last item plus the gap. An item that bridges two sessions merges them into the earlier one;
 * the merged ids appear in the meta's `mergedIds`. Session ids count up from 0 per key. A late
 * item never reopens or bridges sessions: it goes to `.late` with id {@link LATE_SESSION_ID}.
 *
 * Unlike Bytewax, an item exactly `gap` after a session starts a new one (as in Flink), so a
 * session closes exactly at its `closeTime`.
 *
 * ## Example
 * ```ts
 * import { EventClock, SessionWindower, collectWindow } from 'weir/windowing';
 * const clicks = new EventClock((c: { at: number }) => c.at, 0);
 * const sessions = byUser.pipe(collectWindow('sessions', clicks, new SessionWindower(30 * 60_000)));
 * ```
 */
export class SessionWindower implements Windower<SessionState> {
  readonly merges = true;
  private readonly problem: string | undefined;

  /** @param gap the inactivity in ms that ends a session, > 0 */
  constructor(readonly gap: number) {
    this.problem = checkPositive('SessionWindower', 'gap', gap);
  }

  /**
   * Throws a {@link StepError} naming the step if the gap is invalid.
   * @param stepId the window step's full id
   */
  check(stepId: string): void {
    if (this.problem) throw new StepError(stepId, this.problem);
  }

  /**
   * @param resume the key's stored sessions, or `undefined`
   * @returns the key's windower logic
   */
  build(resume: SessionState | undefined): WindowerLogic<SessionState> {
    if (this.problem) throw new WeirError(this.problem);
    return new SessionLogic(this.gap, resume);
  }
}

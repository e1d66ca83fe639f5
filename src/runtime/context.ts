import { StepError, WeirError, describeValue } from '../errors.js';
import { LoadedStates } from '../recovery/loaded.js';
import type { Serde } from '../recovery/serde.js';
import { SnapshotPacker } from '../recovery/SnapshotPacker.js';
import { decodeState } from './decodeState.js';
import { Port } from './port.js';
import { ResumeIndex } from './ResumeIndex.js';

/** A step with timers (`notifyAt`), fired by the run loop. @internal */
export interface TimerStep {
  /** The earliest due time, ms since the Unix epoch; `Infinity` when none. */
  nextDue(): number;
  /** Fires every timer due at or before `now`. */
  fire(now: number): void;
}

/** A source's partitions as the run loop drives them. @internal */
export interface InputRunner {
  readonly stepId: string;
  readonly port: Port<unknown>;
  /** Where the partitions' in-band errors go. */
  readonly errors: Port<unknown>;
  readonly parts: PartRunner[];
}

/** One source partition as the run loop drives it. @internal */
export interface PartRunner {
  readonly key: string;
  readonly part: {
    nextBatch(): unknown;
    nextAwake?(): number | undefined;
    snapshot?(): unknown;
    takeErrors?(): unknown[];
    close?(): void | Promise<void>;
    epochCommitted?(epoch: number): void | Promise<void>;
  };
  readonly resumable: boolean;
  eof: boolean;
  awakeAt: number;
}

/** A sink as the run loop sees it. @internal */
export interface SinkRunner {
  readonly stepId: string;
  /** Resolves when every write and snapshot queued so far is done. */
  settle(): Promise<void>;
  /** How many batches are queued and not yet written. */
  pending(): number;
  /** Tells every partition that the epoch is committed. */
  epochCommitted(epoch: number): Promise<void>;
  /** Whether a partition acts on {@link SinkRunner.epochCommitted}, so that commits must be durable. */
  readonly actsOnCommit: boolean;
  close(): Promise<void>;
}

/**
 * What one run of a flow shares between its steps: the ports, the current epoch, the resume state
 * and the snapshots taken for the closing epoch.
 * @internal
 */
export class RunContext {
  readonly ports: Port<unknown>[];
  /** The open epoch. */
  epoch: number;
  readonly inputs: InputRunner[] = [];
  readonly sinks: SinkRunner[] = [];
  readonly timerSteps: TimerStep[] = [];
  /** Snapshots taken for the closing epoch, committed together once every sink has settled. */
  readonly snaps: SnapshotPacker;
  /** Items read from sources so far in this run. */
  itemsIn = 0;
  private readonly releasers: (() => void)[] = [];

  constructor(
    portCount: number,
    firstEpoch: number,
    /** Whether snapshots are kept at all. Without recovery, steps skip that work. */
    readonly recovering: boolean,
    readonly serde: Serde,
    readonly now: () => number,
    private readonly resume: Map<string, Map<string, Uint8Array>>,
  ) {
    this.ports = Array.from({ length: portCount }, () => new Port<unknown>());
    this.epoch = firstEpoch;
    this.snaps = SnapshotPacker.acquire(serde);
  }

  port<T>(index: number): Port<T> {
    const p = this.ports[index];
    if (!p) throw new WeirError(`internal: no port ${index}`);
    return p as Port<T>;
  }

  /** The resume states of one step, deserialized, by state key. */
  resumeStates<S>(stepId: string): Map<string, S> {
    const raw = this.resume.get(stepId);
    const out = new Map<string, S>();
    if (!raw) return out;
    const serde = this.serde;
    // The store's packed chunks are decoded in place, without a view per key.
    const chunks = raw instanceof LoadedStates ? raw.takeChunks() : [];
    for (const [key, bytes] of raw) out.set(key, decodeState(serde, stepId, key, bytes, 0, bytes.length) as S);
    for (const { keys, lens, bytes } of chunks) {
      for (let i = 0, off = 0; i < keys.length; off += lens[i]!, i++) {
        out.set(keys[i]!, decodeState(serde, stepId, keys[i]!, bytes, off, off + lens[i]!) as S);
      }
    }
    this.resume.delete(stepId);
    return out;
  }

  /**
   * The resume states of one step, to be decoded key by key on first use; `undefined` when the step
   * has none. For steps that need no state before a key is seen again (no timers, no end hook).
   */
  resumeIndex<S>(stepId: string): ResumeIndex<S> | undefined {
    const raw = this.resume.get(stepId);
    if (!raw) return undefined;
    this.resume.delete(stepId);
    return new ResumeIndex<S>(stepId, raw, this.serde);
  }

  /**
   * Says that the snapshots `stepId` just recorded for the closing epoch are its whole state (see
   * `SnapshotPacker.markFull`).
   */
  snapshotIsFull(stepId: string): void {
    this.snaps.markFull(stepId);
  }

  /** Calls `fn` at the end of the run, from {@link RunContext.release}. */
  onRelease(fn: () => void): void {
    this.releasers.push(fn);
  }

  /**
   * Ends the run: the steps let go of what they hold, the run's snapshot buffers go to the next run,
   * and the context drops its ports' listeners, its runners and what was left to resume. Whatever
   * still points at the context after the run then holds nothing of it.
   */
  release(): void {
    for (const fn of this.releasers) fn();
    this.releasers.length = 0;
    this.snaps.release();
    for (const p of this.ports) p.clear();
    this.inputs.length = 0;
    this.sinks.length = 0;
    this.timerSteps.length = 0;
    this.resume.clear();
  }

  /** Records the state of `key` at the closing epoch; `undefined` records a tombstone. */
  snapshot(stepId: string, key: string, state: unknown): void {
    try {
      this.snaps.add(stepId, key, state);
    } catch (err) {
      throw unserializable(stepId, key, state, err);
    }
  }

  /**
   * {@link RunContext.snapshot} in a run of the step's snapshots whose keys the packer writes (see
   * `SnapshotPacker.sameKeysAs`): `key` only names the key in an error.
   */
  snapshotState(stepId: string, key: string, state: unknown): void {
    try {
      this.snaps.addState(state);
    } catch (err) {
      throw unserializable(stepId, key, state, err);
    }
  }
}

function unserializable(stepId: string, key: string, state: unknown, err: unknown): StepError {
  // The cause's message may end with a full stop of its own; a serde may throw something else than an Error.
  const cause = (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');
  return new StepError(
    stepId,
    `state cannot be serialized (${describeValue(state)}): ${cause}. ` +
      'Keep state to plain data (objects, arrays, Map, Set, Date, BigInt, typed arrays) or give RecoveryConfig a serde.',
    { key, cause: err },
  );
}

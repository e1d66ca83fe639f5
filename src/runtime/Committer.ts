import { BackgroundWriter } from '../recovery/BackgroundWriter.js';
import type { SnapshotPacker } from '../recovery/SnapshotPacker.js';
import type { RecoveryStore } from '../recovery/store.js';

/**
 * Commits epochs to the recovery store: on the main thread while commits are small, and on a
 * writer thread from the first commit of `backgroundFrom` records on. A background commit runs
 * while the flow goes on with the next epoch; the run loop does not close that epoch before the
 * commit is done, so at most one commit is ever in flight.
 * @internal
 */
export class Committer {
  private writer: BackgroundWriter | undefined;
  /** The store that handed its commits to the writer: closed once the writer has the files open too. */
  private handedOff: RecoveryStore | undefined;
  /** The packer whose buffers the commit in flight holds, to give them back to. */
  private lender: SnapshotPacker | undefined;

  constructor(
    private store: RecoveryStore | undefined,
    private readonly backgroundFrom: number,
  ) {}

  /** Whether a background commit is still running. */
  get busy(): boolean {
    return this.writer?.busy ?? false;
  }

  /**
   * Commits one epoch's snapshots, or starts committing them in the background, and clears `snaps`.
   * The `last` commit of a run merges no segments, so that the run ends as soon as its state is
   * safe; without a writer thread yet, it runs here whatever its size (a thread would only add its
   * start-up).
   * @returns `true` when the commit is done, `false` when it runs in the background: await
   *   {@link Committer.settled} before relying on it
   */
  commit(epoch: number, snaps: SnapshotPacker, gcEpoch: number, last = false): boolean {
    try {
      if (this.writer === undefined) {
        const store = this.store;
        if (store === undefined) return true;
        if (snaps.length < this.backgroundFrom || last) {
          store.commitPacked(epoch, snaps.view(), gcEpoch, 0, !last);
          return true;
        }
        this.store = undefined;
        this.handedOff = store;
        this.writer = BackgroundWriter.start(store.handOff());
      }
      const { packed, transfer } = snaps.lend();
      this.lender = snaps;
      this.writer.commit(epoch, packed, transfer, gcEpoch, !last, last);
      return false;
    } finally {
      snaps.clear();
    }
  }

  /** Resolves once the background commit, if any, is done or failed; {@link Committer.settled} tells which. */
  async idle(): Promise<void> {
    await this.writer?.idle();
  }

  /**
   * Waits for the background commit, if any. Rejects when it failed.
   * @param block at the end of a run: first wait without yielding to the event loop, a short while
   */
  async settled(block = false): Promise<void> {
    try {
      const lent = await this.writer?.settled(block);
      if (lent !== undefined) this.lender?.takeBack(lent);
    } finally {
      this.closeHandedOff();
    }
  }

  /** Waits for the background commit, if any, then closes the store. */
  async close(): Promise<void> {
    try {
      if (this.writer !== undefined) await this.writer.close();
      else this.store?.close();
    } finally {
      this.closeHandedOff();
    }
  }

  /** After the writer's first answer: its commit opened the files, so this close makes no checkpoint. */
  private closeHandedOff(): void {
    const store = this.handedOff;
    this.handedOff = undefined;
    store?.close();
  }
}

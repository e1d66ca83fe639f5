/**
 * The resume epoch of a whole store, and the check that every partition can still serve it.
 *
 * Each partition records every execution's progress, so each knows how far the store got when it
 * was last written. A partition restored from an older backup reports an older frontier, and the
 * store resumes from the oldest one. That is only sound while no partition has collected the
 * snapshots that epoch needs, i.e. while every GC watermark stays below it.
 *
 * @internal
 * @module
 */
import { InconsistentPartitionsError } from './errors.js';
import type { PartitionProgress } from './partition.js';

/**
 * The epoch to resume from: the lowest partition frontier.
 *
 * @throws {InconsistentPartitionsError} when a partition's GC watermark is at or beyond it
 */
export function resumeEpochOf(progress: readonly PartitionProgress[]): number {
  let resumeEpoch = Infinity;
  for (const p of progress) resumeEpoch = Math.min(resumeEpoch, p.frontier);
  if (!Number.isFinite(resumeEpoch)) return 1;
  const collected = progress.filter((p) => p.commitEpoch >= resumeEpoch);
  if (collected.length > 0) {
    const laggards = progress
      .filter((p) => p.frontier === resumeEpoch)
      .map((p) => `partition ${p.partIndex} (${p.path})`);
    throw new InconsistentPartitionsError(
      resumeEpoch,
      collected.map((p) => ({ partIndex: p.partIndex, path: p.path, commitEpoch: p.commitEpoch })),
      laggards,
    );
  }
  return resumeEpoch;
}

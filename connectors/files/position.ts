import { closeSync, openSync, readSync } from 'node:fs';
import { FileConnectorError } from './errors.js';

const BOM = [0xef, 0xbb, 0xbf];

/** Reads up to `length` bytes at `position`, synchronously. For the few bytes checked at build time. */
function peek(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, position);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function hasBom(path: string): boolean {
  const head = peek(path, 0, 3);
  return head.length === 3 && head[0] === BOM[0] && head[1] === BOM[1] && head[2] === BOM[2];
}

/**
 * Where a source partition starts reading: after a UTF-8 byte order mark on a fresh start, or at
 * the stored offset on resume. A stored offset that no longer fits the file (past its end, or not
 * at the start of a line) is reported, never read from.
 * @internal
 */
export function startOffset(stepId: string, path: string, size: number, resume: unknown, what: string): number {
  if (resume === undefined) return hasBom(path) ? 3 : 0;
  if (typeof resume !== 'number' || !Number.isSafeInteger(resume) || resume < 0) {
    throw new FileConnectorError(stepId, path, `the stored position for '${path}' is not a byte offset (got ${JSON.stringify(resume)}); start with a fresh recovery directory`);
  }
  if (resume > size) {
    throw new FileConnectorError(
      stepId,
      path,
      `'${path}' is ${size} bytes long, but the last snapshot stored byte offset ${resume}: the file shrank or was replaced since then. ` +
        'Restore the file, or start with a fresh recovery directory',
    );
  }
  if (resume > 0 && resume < size && !(resume === 3 && hasBom(path))) {
    const prev = peek(path, resume - 1, 1)[0];
    if (prev !== 10 && prev !== 13) {
      throw new FileConnectorError(
        stepId,
        path,
        `the stored byte offset ${resume} in '${path}' is not at the start of a ${what}: the file was changed since the last snapshot. ` +
          'Restore the file, or start with a fresh recovery directory',
      );
    }
  }
  return resume;
}

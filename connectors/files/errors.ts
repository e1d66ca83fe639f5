import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StepError } from '../../src/errors.js';

/**
 * An error of a file connector: the message names the step and the path.
 *
 * Raised when a partition is built (a missing file, a directory where a file is expected, an
 * unreadable file, a sink directory that does not exist, a stored position that no longer fits the
 * file) and while reading (a CSV row with the wrong number of fields, with its line number).
 *
 * ## Example
 * ```ts
 * import { FileConnectorError } from 'weir/connectors/files';
 * try {
 *   await runMain(flow);
 * } catch (err) {
 *   if (err instanceof FileConnectorError) console.error(err.stepId, err.path, err.line);
 * }
 * ```
 */
export class FileConnectorError extends StepError {
  override name = 'FileConnectorError';
  /** The file or directory concerned, as the user gave it. */
  readonly path: string;
  /** The 1-based line number, for errors about one line or CSV row. */
  readonly line: number | undefined;

  /**
   * @param stepId the full id of the step
   * @param path the file or directory concerned
   * @param message what went wrong and what to do, without the step prefix
   * @param options the line number, and the cause
   */
  constructor(stepId: string, path: string, message: string, options: { line?: number; cause?: unknown } = {}) {
    super(stepId, message, { cause: options.cause });
    this.path = path;
    this.line = options.line;
  }
}

/** Says in words what a file-system error code means. */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return code ? `${(err as Error).message}` : String((err as Error)?.message ?? err);
  }
}

/**
 * Checks that `path` is a regular file this process can open for reading, and returns its size.
 * Throws a {@link FileConnectorError} naming the step and the path otherwise.
 */
export function checkReadableFile(stepId: string, path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new FileConnectorError(stepId, path, `cannot read '${path}': ${fsReason(err)}`, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new FileConnectorError(stepId, path, `cannot read '${path}': it is a directory, not a file; use DirSource for a directory`);
    if (!st.isFile()) throw new FileConnectorError(stepId, path, `cannot read '${path}': it is not a regular file`);
    return st.size;
  } finally {
    closeSync(fd);
  }
}

/** Checks that the directory an output file goes into exists, and that the path is not a directory. */
export function checkWritablePath(stepId: string, path: string): void {
  const dir = dirname(path);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new FileConnectorError(stepId, path, `cannot write '${path}': its directory '${dir}' does not exist (${fsReason(err)}); create it first`, {
      cause: err,
    });
  }
  if (!isDir) throw new FileConnectorError(stepId, path, `cannot write '${path}': '${dir}' is not a directory`);
  try {
    if (statSync(path).isDirectory()) throw new FileConnectorError(stepId, path, `cannot write '${path}': it is a directory, not a file`);
  } catch (err) {
    if (err instanceof FileConnectorError) throw err;
    // A missing file is fine: it is created.
  }
}

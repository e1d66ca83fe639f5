import { read } from 'node:fs';

/**
 * Reads up to `length` bytes at file position `position` into `buf` at `offset`.
 * Resolves with the number of bytes read, 0 at the end of the file. One promise per chunk.
 * @internal
 */
export function readChunk(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

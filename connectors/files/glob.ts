import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Turns a glob into a regular expression over `/`-separated relative paths.
 *
 * `*` matches within one path segment, `?` one character, `**` any number of segments,
 * `[abc]` / `[!abc]` a character class and `{a,b}` either alternative.
 * @internal
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
      } else {
        let cls = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (cls[0] === '!') cls = '^' + cls.slice(1);
        re += `[${cls}]`;
        i = end;
      }
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) {
      re += '|';
    } else {
      re += c.replace(/[.+^$()|\\\]{}]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/**
 * Every regular file under `dir` whose path relative to it matches `glob`, sorted, as
 * `/`-separated relative paths. Symbolic links to files count; links to directories are not
 * followed.
 * @internal
 */
export function listMatching(dir: string, glob: string): string[] {
  const re = globToRegExp(glob);
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(rel === '' ? dir : join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if ((e.isFile() || (e.isSymbolicLink() && isFile(join(dir, path)))) && re.test(path)) found.push(path);
    }
  };
  walk('');
  return found.sort();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

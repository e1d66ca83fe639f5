/**
 * The word count of Bytewax's migration guide, as a file-to-file flow with recovery.
 *
 * It reads lines from WEIR_WORDCOUNT_INPUT (default examples/data/wordcount.txt), counts each
 * lower-cased word, and at the end of the input writes one `word,count` line per word into
 * WEIR_WORDCOUNT_OUTPUT (default examples/data/wordcount.out.txt):
 *
 *   npx weir recovery init wc_db 1
 *   npx weir run examples/wordcount_files.ts -r wc_db -s 1 -b 0
 *
 * Kill it (even with `kill -9`) and run the same command again: the input resumes at the byte
 * offset stored with the last complete epoch, the counts resume from their snapshot, and the
 * output file is truncated to its stored length, so it ends with every word's count once, as an
 * uninterrupted run's does (after a resume, countFinal may emit the words in another order).
 */
import { Dataflow } from 'weir';
import { FileSink, FileSource } from 'weir/connectors/files';
import * as op from 'weir/operators';

const input = process.env.WEIR_WORDCOUNT_INPUT ?? 'examples/data/wordcount.txt';
const output = process.env.WEIR_WORDCOUNT_OUTPUT ?? 'examples/data/wordcount.out.txt';

/** Splits a line into words, as the guide's `re.findall(r'[^\s!,.?":;0-9]+', line)` does. */
function tokenize(line: string): string[] {
  return line.match(/[^\s!,.?":;0-9]+/g) ?? [];
}

export const flow = new Dataflow('wordcount');
flow.pipe(
  op.input('inp', new FileSource(input)),
  op.map('lowercase_words', (line: string) => line.toLowerCase()),
  op.flatMap('tokenize_input', tokenize),
  op.countFinal('count', (word: string) => word),
  op.output('out', new FileSink<[string, number]>(output, { format: ([word, n]) => `${word},${n}` })),
);

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Dataflow } from '../dataflow.js';
import { WeirError } from '../errors.js';

/** A parsed `<file>[:<variable>|:<factory>(args)]` spec. */
export interface FlowSpec {
  file: string;
  name: string;
  args: unknown[] | undefined;
}

/**
 * Parses `file.ts`, `file.ts:name` or `file.ts:factory(1, "a")`. Arguments are JSON values;
 * single-quoted strings are accepted too.
 */
export function parseFlowSpec(spec: string): FlowSpec {
  const m = /^(.*?\.(?:[cm]?[jt]s))(?::([A-Za-z_$][\w$]*)(?:\((.*)\))?)?$/s.exec(spec);
  if (!m) {
    throw new WeirError(
      `cannot read the flow '${spec}': expected <file>.ts or .js, optionally followed by :variable or :factory(args)`,
    );
  }
  const [, file, name = 'flow', rawArgs] = m;
  let args: unknown[] | undefined;
  if (rawArgs !== undefined) {
    const json = rawArgs.replace(/'((?:[^'\\]|\\.)*)'/g, (_all, s: string) => JSON.stringify(s.replace(/\\'/g, "'")));
    try {
      args = JSON.parse(`[${json}]`) as unknown[];
    } catch {
      throw new WeirError(`cannot parse the arguments of ${name}(${rawArgs}): write them as JSON values, e.g. ${name}(3, "a")`);
    }
  }
  return { file: file!, name, args };
}

function isDataflow(x: unknown): x is Dataflow {
  return typeof x === 'object' && x !== null && Array.isArray((x as Dataflow)._steps) && typeof (x as Dataflow).id === 'string';
}

let tsRegistered = false;

/** Imports the flow's module (TypeScript runs directly) and returns the named flow. */
export async function loadFlow(spec: string): Promise<Dataflow> {
  const { file, name, args } = parseFlowSpec(spec);
  const path = resolve(file);
  if (!existsSync(path)) throw new WeirError(`flow file not found: ${file}`);
  if (!statSync(path).isFile()) throw new WeirError(`flow file is not a file: ${file}`);
  if (/\.[cm]?ts$/.test(path) && !tsRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsRegistered = true;
  }
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  if (!(name in mod)) {
    const names = Object.keys(mod).filter((k) => isDataflow(mod[k]) || typeof mod[k] === 'function');
    throw new WeirError(
      `${file} does not export '${name}'` + (names.length ? `; it exports: ${names.join(', ')}` : '') +
        (name === 'flow' ? `. Name the flow variable: weir run ${file}:<variable>` : ''),
    );
  }
  let value = mod[name];
  if (args !== undefined || (typeof value === 'function' && !isDataflow(value))) {
    if (typeof value !== 'function') throw new WeirError(`'${name}' in ${file} is not a function, so it cannot be called with arguments`);
    value = await (value as (...a: unknown[]) => unknown)(...(args ?? []));
  }
  if (!isDataflow(value)) {
    throw new WeirError(`'${name}' in ${file} is not a Dataflow${args !== undefined || typeof mod[name] === 'function' ? ' (the factory must return one)' : ''}`);
  }
  return value;
}

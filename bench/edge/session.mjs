// What every bench run shares: where the repo and the build are, numbers from the
// environment, a temp dir (the process groups it starts are recorded there, so run.sh can
// sweep them), the report's lines, and one way to give up.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordGroupsIn } from './procs.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The build to measure: the first argument, `BENCH_BUILD`, or build/. */
export const BUILD = resolve(ROOT, process.argv[2] || process.env.BENCH_BUILD || 'build');

/** A whole number from the environment, `dflt` when unset or not a number. */
export const envInt = (name, dflt) => {
  const n = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isNaN(n) ? dflt : n;
};

/** `BENCH_TMP` when run.sh set it, else a temp dir of our own, removed at exit. */
export function benchSession(prefix) {
  const own = !process.env.BENCH_TMP;
  const tmp = process.env.BENCH_TMP || mkdtempSync(join(tmpdir(), prefix));
  recordGroupsIn(tmp);
  process.on('exit', () => own && rmSync(tmp, { recursive: true, force: true }));
  const lines = [];
  const out = (s = '') => {
    console.log(s);
    lines.push(s);
  };
  return { tmp, lines, out };
}

/** A reason to stop the bench, printed without a stack. */
export class Fatal extends Error {}
export const die = (msg) => {
  throw new Fatal(msg);
};

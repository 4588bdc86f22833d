// What every bench run shares: a temp dir (the process groups it starts are recorded there,
// so run.sh can sweep them), the report's lines, and one way to give up.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordGroupsIn } from './procs.mjs';

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

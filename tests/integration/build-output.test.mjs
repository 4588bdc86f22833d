// The built glue: the post-build step (scripts/microtask-fallback.mjs) ran,
// so js-sys's executor schedules with Promise.then, and the step refuses a
// glue it does not recognise rather than shipping it unpatched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './harness.mjs';

const run = promisify(execFile);
const STEP = join(ROOT, 'scripts', 'microtask-fallback.mjs');
const GLUE = join(ROOT, 'build', 'index.js');
const getters = (glue) => glue.match(/__wbg_queueMicrotask_[0-9a-f]+:function\([\w$]*\)\{return[^}]*\}/g) ?? [];

test('the built glue hides queueMicrotask from the executor', () => {
  const found = getters(readFileSync(GLUE, 'utf8'));
  assert.equal(found.length, 1, 'one queueMicrotask getter in build/index.js');
  assert.match(found[0], /\{return void 0\}$/);
});

test('the step patches a fresh glue once, and leaves a patched one alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glue-'));
  const file = join(dir, 'index.js');
  // A minifier may name the parameter `$`.
  writeFileSync(file, 'x={__wbg_queueMicrotask_1e85:function($){return $.queueMicrotask},__wbg_queueMicrotask_4a1a:function($){queueMicrotask($)}}');
  await run('node', [STEP, file]);
  const patched = readFileSync(file, 'utf8');
  assert.equal(patched, 'x={__wbg_queueMicrotask_1e85:function($){return void 0},__wbg_queueMicrotask_4a1a:function($){queueMicrotask($)}}');
  await run('node', [STEP, file]);
  assert.equal(readFileSync(file, 'utf8'), patched);
});

test('the step fails the build on a glue it does not recognise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glue-'));
  const file = join(dir, 'index.js');
  writeFileSync(file, 'x={__wbg_queueMicrotask_4a1a:function(t){queueMicrotask(t)}}');
  await assert.rejects(run('node', [STEP, file]), (e) => e.code === 1 && /expected one queueMicrotask getter/.test(e.stderr));
});

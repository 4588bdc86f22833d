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

// The project's shim (scripts/lean-shim.mjs) replaced worker-build's: no
// Proxy per request or per method access. That it still recovers from a
// panic is panic-recovery.test.mjs's job.
const LEAN_STEP = join(ROOT, 'scripts', 'lean-shim.mjs');
const WORKER_BUILD_SHIM =
  'Error.stackTraceLimit=100;var h=Y();function J(){h.criticalError&&(console.log("Reinitializing Wasm application"),C(),h.criticalError=!1,h.instanceId++)}' +
  'var B=class extends mt{};B.prototype.fetch=function(t){return Z.call(this,t,this.env,this.ctx)};' +
  'var T={construct(r,t,e){return new Proxy({},{})}},Ft=new Proxy(B,T),St=new Proxy(x,T);export{St as CallBoard,Ft as default};';

test('the built worker has the lean shim and no Proxy', () => {
  const built = readFileSync(GLUE, 'utf8');
  assert.match(built, /\/\* callkit-edge lean shim \*\//);
  assert.doesNotMatch(built, /new Proxy\(/);
  assert.match(built, /export default __ck\.Entrypoint;/);
  assert.match(built, /export const CallBoard=__ck\.classes\.CallBoard;/);
});

test('the shim step rewrites worker-build\'s shim once, keeping every handler and class', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glue-'));
  const file = join(dir, 'index.js');
  writeFileSync(file, `var glue=1;${WORKER_BUILD_SHIM}`);
  await run('node', [LEAN_STEP, file]);
  const once = readFileSync(file, 'utf8');
  assert.ok(once.startsWith('var glue=1;/* callkit-edge lean shim */'));
  assert.match(once, /const __ck=leanShim\(Y,C,mt,\{"fetch":Z\},\{"CallBoard":x\}\);/);
  assert.doesNotMatch(once, /new Proxy\(/);
  await run('node', [LEAN_STEP, file]);
  assert.equal(readFileSync(file, 'utf8'), once);
});

test('the shim step fails the build on a handler or export it does not know', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glue-'));
  const file = join(dir, 'index.js');
  const cases = [
    WORKER_BUILD_SHIM.replace('};var T=', '};B.prototype.queue=Q.queue;var T='),
    WORKER_BUILD_SHIM.replace('Ft as default', 'Ft as default,Zz as Other'),
    WORKER_BUILD_SHIM.replace('console.log("Reinitializing Wasm application"),', ''),
  ];
  for (const shim of cases) {
    writeFileSync(file, `var glue=1;${shim}`);
    await assert.rejects(run('node', [LEAN_STEP, file]), (e) => e.code === 1 && /worker-build's shim changed/.test(e.stderr), shim);
  }
});

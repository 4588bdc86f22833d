// A panic in a handler must not poison the isolate: the request that
// panicked fails, and the next ones, on the edge and on the board's Durable
// Object in the same isolate, are served by a fresh wasm instance. The panic
// comes from the probe (src/api/panic_probe.rs), which only a worker started
// with PANIC_PROBE=on has. Bare workerd, so one process is one isolate and
// nothing restarts it behind the test's back.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoSecrets, collectSecrets, httpRequest, sleep, startEmulator } from './harness.mjs';
import { startBareWorker } from './bare-workerd.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';

const PROBE = { 'x-panic-probe': '1' };
const admin = mintUserSig('admin1');
let emulator;
let probed;
let plain;

before(async () => {
  emulator = await startEmulator();
  [probed, plain] = await Promise.all([
    startBareWorker({ emulator, vars: { PANIC_PROBE: 'on' }, callBoard: true }),
    startBareWorker({ emulator }),
  ]);
});

after(async () => {
  await probed?.stop();
  await plain?.stop();
  await emulator?.stop();
});

const get = (worker, path, headers = {}) => httpRequest(`${worker.url}${path}`, { headers });
const board = (worker) => get(worker, '/api/v1/live/calls', { authorization: `Bearer ${admin}` });
const log = (worker) => readFileSync(join(worker.dir, 'workerd.log'), 'utf8');

test('without PANIC_PROBE=on the probe header does nothing', async () => {
  assert.equal((await get(plain, '/api/v1/health', PROBE)).status, 200);
  assert.doesNotMatch(log(plain), /panic probe/);
});

test('after a panic in a handler the same isolate serves the edge and the board again', async () => {
  assert.equal((await get(probed, '/api/v1/health')).status, 200);
  assert.equal((await board(probed)).status, 200, 'the board object exists before the panic');

  const panicked = await get(probed, '/api/v1/health', PROBE);
  assert.equal(panicked.status, 500);
  assertNoSecrets(panicked.text, collectSecrets({ secretKey: DEMO_KEY, tokens: [admin], emulatorUrl: emulator.url }), 'the panicked answer');

  for (let i = 0; i < 3; i++) {
    const health = await get(probed, '/api/v1/health');
    assert.equal(health.status, 200, `health after the panic (${i}): ${health.text}`);
    assert.equal(JSON.parse(health.text).status, 'ok');
  }
  const calls = await board(probed);
  assert.equal(calls.status, 200, `the board after the panic: ${calls.text}`);
  const sig = await httpRequest(`${probed.url}/api/v1/usersig`, {
    method: 'POST',
    headers: { authorization: `Bearer ${mintUserSig('alice')}` },
    body: '{}',
  });
  assert.equal(sig.status, 200, `a signed-in upstream route after the panic: ${sig.text}`);

  await sleep(200); // workerd writes its log asynchronously
  const text = log(probed);
  assert.match(text, /Rust panic: panicked at [^\n]*\n\s*panic probe/);
  assert.match(text, /Reinitializing Wasm application/);
});

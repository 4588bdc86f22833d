// The relay under faults (docs/relay.md): two backends behind the built
// worker's real local queue, one of them misbehaving. Each case counts the
// distinct webhook-ids that reached each sink: every event arrives, under
// one id, nothing else; repeats are at-least-once and are reported.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCleanWorker, collectSecrets, sentTokens, sleep, startEmulator, startWorker } from './harness.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';
import { startSink } from './relay-sink.mjs';
import { FORWARD_SECRET, TOKEN, URL_KEY, assertAllOnce, deliverMany, relayVars } from './relay-common.mjs';

let emulator;
let worker;
let flaky;
let steady;

before(async () => {
  emulator = await startEmulator();
  flaky = await startSink({ secret: FORWARD_SECRET, label: 'flaky sink' });
  steady = await startSink({ secret: FORWARD_SECRET, label: 'steady sink' });
  worker = await startWorker({ emulator, vars: relayVars([flaky, steady]) });
});

after(async () => {
  await worker?.stop();
  await emulator?.stop();
  await flaky?.stop();
  await steady?.stop();
});

/** Milliseconds from each webhook's answer to the sink's receipt, p50 and max. */
function latency(sink, callIds, sentAt) {
  const first = new Map();
  for (const r of sink.received) {
    const call = JSON.parse(r.body).CallInfo?.CallId;
    if (callIds.includes(call) && !first.has(call)) first.set(call, r.at - sentAt.get(call));
  }
  const ms = [...first.values()].sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)], max: ms[ms.length - 1] };
}

/** Delivers `n` events spaced `gapMs` apart, noting when each was answered. */
async function paced(n, gapMs, prefix) {
  const ids = [];
  const sentAt = new Map();
  for (let i = 0; i < n; i++) {
    const [id] = await deliverMany(worker, 1, prefix);
    sentAt.set(id, Date.now());
    ids.push(id);
    await sleep(gapMs);
  }
  return { ids, sentAt };
}

test('a sink down for 60 s, then back: everything arrives, once per event', { timeout: 300_000 }, async () => {
  flaky.mode('ok');
  await flaky.down();
  const downAt = Date.now();
  const { ids, sentAt } = await paced(30, 300, 'down');
  await sleep(Math.max(0, 60_000 - (Date.now() - downAt)));
  await flaky.up();
  const counts = await assertAllOnce(flaky, ids, 150_000).catch(async (error) => {
    // What the log says, for the report: statuses and attempts of the flaky URL.
    const page = await worker.request('GET', `/api/v1/relay/deliveries?url=${encodeURIComponent(`${flaky.url}/hook`)}`, { token: mintUserSig('administrator') });
    const by = {};
    for (const d of page.json?.deliveries ?? []) by[`${d.status}/${d.attempts}/${d.lastError ?? d.lastStatus}`] = (by[`${d.status}/${d.attempts}/${d.lastError ?? d.lastStatus}`] ?? 0) + 1;
    throw new Error(`${error.message}; the log: ${JSON.stringify(by)}`);
  });
  const other = await assertAllOnce(steady, ids, 10_000);
  const { max } = latency(steady, ids, sentAt);
  assert.ok(max < 5_000, `the steady sink waited ${max} ms`);
  console.log(`# sink down 60 s: ${JSON.stringify(counts)}; steady sink ${JSON.stringify(other)}, slowest ${max} ms`);
});

test('a sink answering 500 to a third of the deliveries', { timeout: 400_000 }, async () => {
  flaky.mode('random500', 1 / 3);
  const ids = await deliverMany(worker, 150, 'random');
  // The unluckiest of 150 may fail 6 times in a row (150 × 3⁻⁶ ≈ 0.2): its 7th attempt
  // comes 2 + 4 + … + 64 = 126 s later, its 8th 254 s later.
  const counts = await assertAllOnce(flaky, ids, 300_000);
  await assertAllOnce(steady, ids, 10_000);
  const failed = flaky.received.filter((r) => r.status === 500 && ids.includes(JSON.parse(r.body).CallInfo?.CallId)).length;
  assert.ok(failed > 20, `only ${failed} of the deliveries failed: the fault did not bite`);
  console.log(`# random 500s: ${JSON.stringify(counts)}, 500s answered ${failed}`);
  flaky.mode('ok');
});

test('a sink that hangs holds up neither the other sink nor, once it answers, its own events', { timeout: 300_000 }, async () => {
  flaky.mode('hang');
  const { ids, sentAt } = await paced(20, 500, 'hang');
  await assertAllOnce(steady, ids, 15_000);
  const steadyLatency = latency(steady, ids, sentAt);
  assert.ok(steadyLatency.max < 5_000, `the steady sink waited up to ${steadyLatency.max} ms`);
  flaky.mode('ok');
  const counts = await assertAllOnce(flaky, ids, 120_000);
  console.log(`# hanging sink: ${JSON.stringify(counts)}; steady sink p50 ${steadyLatency.p50} ms, max ${steadyLatency.max} ms`);
});

test('two URLs, one dead: the live one gets everything at once', { timeout: 300_000 }, async () => {
  await flaky.down();
  const { ids, sentAt } = await paced(40, 100, 'dead');
  const counts = await assertAllOnce(steady, ids, 15_000);
  const { p50, max } = latency(steady, ids, sentAt);
  assert.ok(max < 5_000, `the live sink waited up to ${max} ms`);
  console.log(`# one dead URL: live sink ${JSON.stringify(counts)}, p50 ${p50} ms, max ${max} ms`);
  await flaky.up();
});

test('no answer or log line carries a secret', async () => {
  const secrets = collectSecrets({
    secretKey: DEMO_KEY,
    tokens: sentTokens(worker),
    emulatorUrl: emulator.url,
    extra: [TOKEN, URL_KEY, FORWARD_SECRET, FORWARD_SECRET.slice('whsec_'.length)],
  });
  await assertCleanWorker(worker, secrets, 'faults worker');
});

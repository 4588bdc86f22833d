// make bench-relay: the webhook relay (docs/relay.md) of the built worker under
// `wrangler dev`, whose Miniflare runs the queue, its consumer and the
// RelayLog object locally. Webhooks go in, deliveries come out at local sinks
// (tests/integration/relay-sink.mjs, which verify each one with the
// `standardwebhooks` library). Measures:
//   - deliveries per second, first webhook sent → last delivery received;
//   - latency from a webhook's 200 to each sink receiving it, p50 / p99;
//   - webhooks/s the receiver answers with the relay on, and with it off.
// Knobs: BENCH_EVENTS (2000), BENCH_URLS (5 sinks), BENCH_CONCURRENCY (16).

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { startEmulator, startWorker } from '../../tests/integration/harness.mjs';
import { startSink } from '../../tests/integration/relay-sink.mjs';
import { FORWARD_SECRET, URL_KEY, newCallId, relayVars, startEvent } from '../../tests/integration/relay-common.mjs';
import { DEMO_SDKAPPID } from '../../tests/integration/tokens.mjs';

const int = (name, fallback) => Math.max(1, Number.parseInt(process.env[name] ?? '', 10) || fallback);
const EVENTS = int('BENCH_EVENTS', 2000);
const URLS = Math.min(5, int('BENCH_URLS', 5));
const CONCURRENCY = int('BENCH_CONCURRENCY', 16);
const TARGET_RATE = 1000;

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** Sends `n` start webhooks, `CONCURRENCY` at a time; returns when each was answered. */
async function send(worker, n, prefix) {
  const answered = new Map();
  const path = `/api/v1/webhooks/tencent?${new URLSearchParams({ SdkAppid: String(DEMO_SDKAPPID), key: URL_KEY })}`;
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < n) {
      next += 1;
      const callId = newCallId(prefix);
      const res = await fetch(`${worker.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(startEvent(callId)),
      });
      await res.arrayBuffer();
      if (res.status === 200) answered.set(callId, performance.timeOrigin + performance.now());
      else failed += 1;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return { answered, failed, secs: (Date.now() - started) / 1000, started };
}

/** Waits until every sink holds every event of `answered`, or gives up after `ms`. */
async function drained(sinks, answered, ms) {
  const deadline = Date.now() + ms;
  const want = answered.size;
  for (;;) {
    const counts = sinks.map((s) => new Set(s.received.filter((r) => r.status === 204 && answered.has(JSON.parse(r.body).CallInfo.CallId)).map((r) => r.id)).size);
    if (counts.every((c) => c >= want)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function measure(sinks, run) {
  const latencies = [];
  let last = 0;
  let unverified = 0;
  for (const sink of sinks) {
    const seen = new Set();
    for (const r of sink.received) {
      const call = JSON.parse(r.body).CallInfo.CallId;
      if (!run.answered.has(call) || seen.has(r.id)) continue;
      seen.add(r.id);
      if (!r.verified) unverified += 1;
      latencies.push(r.at - run.answered.get(call));
      last = Math.max(last, r.at);
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    deliveries: latencies.length,
    perSec: latencies.length / ((last - run.started) / 1000),
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    unverified,
  };
}

const shm = mkdtempSync(join('/dev/shm', 'bench-relay-'));
const emulator = await startEmulator();
const sinks = await Promise.all(Array.from({ length: URLS }, (_, i) => startSink({ secret: FORWARD_SECRET, label: `sink ${i}` })));
const workers = [];
let ok = true;
try {
  const on = await startWorker({ emulator, vars: relayVars(sinks), persistDir: join(shm, 'on') });
  workers.push(on);
  await drained(sinks, (await send(on, 50, 'warm')).answered, 30_000);
  const run = await send(on, EVENTS, 'bench');
  if (!(await drained(sinks, run.answered, 120_000))) {
    console.error('bench-relay: not every event reached every sink within 120 s');
    ok = false;
  }
  const m = measure(sinks, run);
  await on.stop();

  const off = await startWorker({ emulator, vars: { WEBHOOK_URL_KEY: URL_KEY }, persistDir: join(shm, 'off') });
  workers.push(off);
  await send(off, 50, 'warm-off');
  const plain = await send(off, EVENTS, 'off');
  await off.stop();

  if (run.failed || plain.failed || m.unverified) ok = false;
  console.log(`bench-relay: ${EVENTS} webhooks × ${URLS} URLs, ${CONCURRENCY} in flight, wrangler dev (Miniflare queue), ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`);
  console.log(`  deliveries/s (first webhook sent → last delivery received): ${m.perSec.toFixed(0)} (${m.deliveries} deliveries; target ≥ ${TARGET_RATE})`);
  console.log(`  webhook answered → sink received: p50 ${m.p50} ms, p99 ${m.p99} ms`);
  console.log(`  webhooks answered/s: relay on ${(run.answered.size / run.secs).toFixed(0)}, relay off ${(plain.answered.size / plain.secs).toFixed(0)}`);
  console.log(`  failed webhooks: on ${run.failed}, off ${plain.failed}; deliveries failing standardwebhooks: ${m.unverified}`);
} finally {
  for (const w of workers) await w.stop();
  for (const s of sinks) await s.stop();
  await emulator.stop();
  rmSync(shm, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);

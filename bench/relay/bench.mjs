// make bench-relay: the webhook relay (docs/relay.md) of the built worker in
// bare `workerd serve` (./bare.mjs: the queues through Miniflare's broker, the
// board and the RelayLog object on tmpfs), or under `wrangler dev` with
// BENCH_RUNTIME=wrangler (whose proxy caps a worker at a few hundred requests
// per second). Webhooks go in, deliveries come out at local sinks
// (tests/integration/relay-sink.mjs, which verify each one with the
// `standardwebhooks` library). Measures:
//   - deliveries per second, first webhook sent → last delivery received;
//   - latency from a webhook's 200 to each sink receiving it, p50 / p99;
//   - webhooks/s the receiver answers (the board's ingest) with the relay on, and off.
// Knobs: BENCH_EVENTS (2000), BENCH_URLS (5 sinks), BENCH_CONCURRENCY (16),
// BENCH_RUNTIME (workerd | wrangler), BENCH_BATCH_SIZE (wrangler.toml's max_batch_size).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { startEmulator, startWorker } from '../../tests/integration/harness.mjs';
import { startSinkThread } from './sinks.mjs';
import { startBareRelayWorker } from './bare.mjs';
import { inspectorSession, summarizeAll } from '../edge/profile.mjs';
import { ROOT } from '../edge/session.mjs';
import { FORWARD_SECRET, URL_KEY, newCallId, relayVars, startEvent } from '../../tests/integration/relay-common.mjs';
import { DEMO_SDKAPPID } from '../../tests/integration/tokens.mjs';

const int = (name, fallback) => Math.max(1, Number.parseInt(process.env[name] ?? '', 10) || fallback);
const EVENTS = int('BENCH_EVENTS', 2000);
const URLS = Math.min(5, int('BENCH_URLS', 5));
const CONCURRENCY = int('BENCH_CONCURRENCY', 16);
const RUNTIME = process.env.BENCH_RUNTIME || 'workerd';
const BATCH_SIZE = process.env.BENCH_BATCH_SIZE ? int('BENCH_BATCH_SIZE', 100) : undefined;
// Samples every isolate of workerd (the worker and the queue broker) during the relay-on run.
const PROFILE = process.env.BENCH_PROFILE === '1' && (process.env.BENCH_RUNTIME || 'workerd') === 'workerd';
if (!['workerd', 'wrangler'].includes(RUNTIME)) {
  console.error(`bench-relay: BENCH_RUNTIME=${RUNTIME}: want workerd or wrangler`);
  process.exit(2);
}

/** The built worker with `vars`, in the runtime chosen; its state under `dir` (wrangler). */
const start = (emulator, vars, dir) => (RUNTIME === 'wrangler'
  ? startWorker({ emulator, vars, persistDir: dir })
  : startBareRelayWorker({ emulatorUrl: emulator.url, vars, maxBatchSize: BATCH_SIZE, inspector: PROFILE }));

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
/** CPU ms (user + system, all threads) process `pid` has used so far; NaN when unknown (wrangler). */
function cpuMs(pid) {
  if (!pid) return NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}
/** `work()`'s result, with the CPU ms workerd (`pid`) and this process spent on it. */
async function costed(pid, work) {
  const [w0, n0] = [cpuMs(pid), process.cpuUsage()];
  const result = await work();
  const n = process.cpuUsage(n0);
  return { ...result, workerdCpuMs: cpuMs(pid) - w0, nodeCpuMs: (n.user + n.system) / 1000 };
}

/** Runs `load()` while every isolate behind `port` is sampled; prints where the time went. */
async function profiled(port, load) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const sessions = await Promise.all(targets.map((t) => inspectorSession(ROOT, port, (all) => all.find((x) => x.id === t.id))));
  for (const s of sessions) {
    await s.send('Profiler.enable');
    await s.send('Profiler.setSamplingInterval', { interval: 500 });
    await s.send('Profiler.start');
  }
  const result = await load();
  const profiles = [];
  for (const s of sessions) {
    profiles.push((await s.send('Profiler.stop')).profile);
    s.close();
  }
  const pctOf = ([name, share]) => `    ${(share * 100).toFixed(1).padStart(5)} %  ${name}`;
  for (const [i, profile] of profiles.entries()) {
    const { samples, categories } = summarizeAll([profile]);
    console.log(`  profile, isolate ${sessions[i].target.title || sessions[i].target.id}: ${samples} samples`);
    categories.forEach((c) => console.log(pctOf(c)));
    if (i === 0) summarizeAll([profile]).top.forEach((f) => console.log(`  ${pctOf(f)}`));
  }
  const all = summarizeAll(profiles);
  console.log(`  profile, all isolates: ${all.samples} samples; top functions (self time):`);
  all.top.forEach((f) => console.log(pctOf(f)));
  return result;
}
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
const sinkThread = await startSinkThread(URLS, FORWARD_SECRET);
const { sinks } = sinkThread;
const workers = [];
let ok = true;
try {
  const on = await start(emulator, relayVars(sinks), join(shm, 'on'));
  workers.push(on);
  await drained(sinks, (await send(on, 50, 'warm')).answered, 30_000);
  const measured = async () => {
    const sent = await send(on, EVENTS, 'bench');
    if (!(await drained(sinks, sent.answered, 120_000))) {
      console.error('bench-relay: not every event reached every sink within 120 s');
      ok = false;
    }
    return sent;
  };
  const run = await costed(on.pid, () => (PROFILE ? profiled(on.inspectorPort, measured) : measured()));
  const m = measure(sinks, run);
  await on.stop();

  const off = await start(emulator, { WEBHOOK_URL_KEY: URL_KEY }, join(shm, 'off'));
  workers.push(off);
  await send(off, 50, 'warm-off');
  const plain = await costed(off.pid, () => send(off, EVENTS, 'off'));
  await off.stop();

  if (run.failed || plain.failed || m.unverified) ok = false;
  const runtime = RUNTIME === 'wrangler' ? 'wrangler dev (Miniflare queue)' : "bare workerd (Miniflare's queue broker)";
  const batch = BATCH_SIZE ? `max_batch_size ${BATCH_SIZE}` : "wrangler.toml's max_batch_size";
  console.log(`bench-relay: ${EVENTS} webhooks × ${URLS} URLs, ${CONCURRENCY} in flight, ${runtime}, ${batch}, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`);
  console.log(`  deliveries/s (first webhook sent → last delivery received): ${m.perSec.toFixed(0)} (${m.deliveries} deliveries; target ≥ ${TARGET_RATE})`);
  console.log(`  webhook answered → sink received: p50 ${Math.round(m.p50)} ms, p99 ${Math.round(m.p99)} ms`);
  console.log(`  webhooks answered/s: relay on ${(run.answered.size / run.secs).toFixed(0)}, relay off ${(plain.answered.size / plain.secs).toFixed(0)}`);
  const per = (ms, n) => (ms / n).toFixed(2);
  console.log(`  workerd CPU: relay on ${run.workerdCpuMs.toFixed(0)} ms (${per(run.workerdCpuMs, run.answered.size)} ms per webhook, ${per(run.workerdCpuMs - (plain.workerdCpuMs * run.answered.size) / plain.answered.size, m.deliveries)} ms per delivery beyond the ingest), relay off ${plain.workerdCpuMs.toFixed(0)} ms (${per(plain.workerdCpuMs, plain.answered.size)} ms per webhook)`);
  console.log(`  this process (load, and ${URLS} sinks verifying on a thread of their own): ${run.nodeCpuMs.toFixed(0)} ms CPU while relaying`);
  console.log(`  failed webhooks: on ${run.failed}, off ${plain.failed}; deliveries failing standardwebhooks: ${m.unverified}`);
} finally {
  for (const w of workers) await w.stop();
  await sinkThread.stop();
  await emulator.stop();
  rmSync(shm, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);

// make bench-live: the live board (CallBoard Durable Object, SQLite storage)
// of the built worker in bare `workerd serve`: how many webhooks per second it
// applies, and how fast a change reaches 100 live sockets. See bench/live/README.md.
//
// Usage: node bench/live/bench.mjs [BUILD_DIR]   (run.sh sets BENCH_TMP)

import { appendFileSync, cpSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, request as httpRequest, Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';

import { RATELIMIT_JS, WORKERD, buildModules, writeConfig } from '../edge/capnp.mjs';
import { freePort, sleep, startGroup, stopAll } from '../edge/procs.mjs';
import { BUILD, ROOT, benchSession, die, envInt, Fatal } from '../edge/session.mjs';
import { profileWhile } from '../edge/profile.mjs';
import { DEMO_KEY, DEMO_SDKAPPID, mintUserSig } from '../edge/tokens.mjs';
import { callScript, mismatch, rng, webhookPath } from './webhooks.mjs';
import { floodWhileServing, shardIngest, snapshotAtScale } from './scale.mjs';

const int = envInt;
const INGEST_SECS = Math.max(1, int('BENCH_INGEST_SECS', 10));
const CONCURRENCY = Math.max(1, int('BENCH_CONCURRENCY', 32));
const WARMUP_SECS = Math.max(0, int('BENCH_WARMUP_SECS', 2));
const SOCKETS = Math.max(1, int('BENCH_SOCKETS', 100));
const MEMBER_SOCKETS = Math.min(SOCKETS, Math.max(0, int('BENCH_MEMBER_SOCKETS', 20)));
const FANOUT_RATE = Math.max(1, int('BENCH_FANOUT_RATE', 100));
const FANOUT_SECS = Math.max(1, int('BENCH_FANOUT_SECS', 10));
const ROUNDS = Math.max(1, int('BENCH_ROUNDS', 3));
// Where the board's SQLite files live (workerd's `localDisk`). workerd's
// `inMemory` storage has no SQL API, so the default is localDisk on tmpfs
// (/dev/shm): the board's own cost, without a local fsync per commit. `disk`
// puts them in the temp dir on disk: every webhook is then a durable SQLite
// commit that blocks workerd's one thread, which is not how Cloudflare commits
// Durable Object storage, and a shared disk stalls it (see README).
const STORAGES = [...new Set((process.env.BENCH_STORAGE || 'tmpfs').split(',').map((s) => s.trim()))];
for (const s of STORAGES) {
  if (!['disk', 'tmpfs'].includes(s)) {
    console.error(`bench-live: BENCH_STORAGE=${s}: want tmpfs, disk, or both (disk,tmpfs)`);
    process.exit(2);
  }
}
const STORAGE_LABEL = { disk: 'SQLite on local disk', tmpfs: 'SQLite on tmpfs' };
const PROFILE = process.env.BENCH_PROFILE === '1';
const PHASES = new Set((process.env.BENCH_PHASES || 'ingest,fanout,shards,snapshot,flood').split(',').map((s) => s.trim()));
/** LIVE_SHARDS values the `shards` phase runs ingest with. */
const SHARD_COUNTS = (process.env.BENCH_SHARDS || '1,2,4').split(',').map(Number).filter((n) => n >= 1);
/** Live calls on the board for the `snapshot` phase. */
const SNAPSHOT_CALLS = Math.max(1, int('BENCH_SNAPSHOT_CALLS', 10_000));
/** Forged tickets and unproven webhooks of the `flood` phase (each). */
const FLOOD = Math.max(1, int('BENCH_FLOOD', 10_000));
/** LIVE_COALESCE_MS values the fan-out runs with (0: a frame per change). */
const COALESCE = (process.env.BENCH_COALESCE_MS || '0,50').split(',').map(Number).filter((n) => n >= 0);

/** The issue's targets. */
const TARGET_RATE = 1000; // webhooks/s applied
const TARGET_P99_MS = 50; // fan-out to 100 sockets

const URL_KEY = 'bench-live-url-key-0123456789abcdef';
const ADMIN = 'bench-admin';
/** The admins watching on sockets: one socket each, since the board keeps at most 8 per user. */
const WATCHING_ADMINS = Array.from({ length: SOCKETS - MEMBER_SOCKETS }, (_, i) => `bench-admin-${i}`);
/** Users calls are made of; the first MEMBER_SOCKETS of them each watch the board on one socket. */
const USERS = Array.from({ length: 40 }, (_, i) => `u${i}`);

const { tmp: TMP, lines, out } = benchSession('bench-live-');
const progress = (text) => process.stderr.isTTY && process.stderr.write(`\r\x1b[K${text}`);
const tail = (file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '(no log)');

// ------------------------------------------------------------ figures

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);
const sortNum = (xs) => Float64Array.from(xs).sort();
const median = (xs) => {
  const s = sortNum(xs);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;

/** CPU ms (user + system, all threads) a process has used so far, from /proc. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}
const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

// ------------------------------------------------------------ HTTP

/** One request on `agent` (keep-alive): `{ status, body }`. */
function request(url, { method = 'GET', token, body, agent, headers = {} } = {}) {
  return new Promise((resolveReq, reject) => {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      h['content-type'] = 'application/json';
      h['content-length'] = Buffer.byteLength(body);
    }
    const req = httpRequest(url, { method, headers: h, agent: agent ?? false, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveReq({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

// ------------------------------------------------------------ processes

/** A static Tencent upstream: the board only calls it from its alarm (calls quiet for 120 s). */
async function startUpstream() {
  const sample = readFileSync(join(ROOT, 'crates/callkit-core/tests/resources/get_call_info.response.json'), 'utf8');
  const seen = { requests: 0 };
  const server = createServer((req, res) => {
    seen.requests += 1;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(sample);
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const close = () => new Promise((r) => {
    server.closeAllConnections();
    server.close(r);
  });
  return { url: `http://127.0.0.1:${port}`, seen, close };
}

/** Settings as text bindings (src/platform/config names). */
function settings(upstream) {
  return {
    TENCENT_SDKAPPID: String(DEMO_SDKAPPID),
    TENCENT_SECRET_KEY: DEMO_KEY,
    TENCENT_API_BASE: upstream,
    TENCENT_ADMIN_IDENTIFIER: 'administrator',
    AUTH_MODE: 'usersig',
    ADMIN_USERS: [ADMIN, ...WATCHING_ADMINS].join(','),
    ALLOWED_ORIGINS: '',
    WEBHOOK_URL_KEY: URL_KEY,
  };
}

/** A fresh copy of the build in its own workerd, with its own (empty) board. */
async function startWorker(name, upstream, { storage, inspector = false, shards = 1, coalesceMs = 0 }) {
  const dir = join(TMP, name);
  mkdirSync(dir, { recursive: true });
  cpSync(BUILD, dir, { recursive: true }); // frozen: build/ may be rebuilt meanwhile
  copyFileSync(RATELIMIT_JS, join(dir, 'ratelimit.worker.js'));
  const storageDir = storage === 'tmpfs' ? mkdtempSync('/dev/shm/bench-live-') : join(dir, 'do-storage');
  if (storage === 'tmpfs') {
    appendFileSync(join(TMP, 'shm-dirs'), `${storageDir}\n`); // run.sh's backstop
    process.on('exit', () => rmSync(storageDir, { recursive: true, force: true }));
  }
  else mkdirSync(storageDir);
  const port = await freePort();
  writeConfig(dir, {
    port,
    modules: buildModules(dir),
    vars: { ...settings(upstream.url), LIVE_SHARDS: String(shards), LIVE_COALESCE_MS: String(coalesceMs) },
    rateLimit: { limit: 1e9, period: 60 }, // as bench-edge: never reached
    durableObjects: [{ binding: 'CALL_BOARD', className: 'CallBoard', sql: true }],
    durableObjectStorage: storageDir,
  });
  const inspectorPort = inspector ? await freePort() : null;
  const args = ['serve', join(dir, 'config.capnp')];
  if (inspectorPort) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const log = join(dir, 'workerd.log');
  const proc = startGroup(WORKERD, args, { cwd: dir, logFile: log });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ; await sleep(20)) {
    if (proc.exited()) die(`workerd exited (${JSON.stringify(proc.exited())}):\n${tail(log)}`);
    const res = await request(`${url}/api/v1/health`).catch(() => null);
    if (res?.status === 200) break;
    if (res) die(`${url}/api/v1/health answered ${res.status}: ${res.body}`);
    if (Date.now() > deadline) die(`workerd not ready in 60 s:\n${tail(log)}`);
  }
  const stop = async () => {
    await proc.stop();
    if (storage === 'tmpfs') rmSync(storageDir, { recursive: true, force: true });
  };
  return { name, url, port, proc, dir, log, inspectorPort, stop };
}

// ------------------------------------------------------------ the board

/** The whole board as an admin sees it, page after page. */
async function board(worker, token) {
  const calls = [];
  for (let cursor = ''; ;) {
    const res = await request(`${worker.url}/api/v1/live/calls?limit=1000${cursor && `&cursor=${cursor}`}`, { token });
    if (res.status !== 200) die(`GET /api/v1/live/calls answered ${res.status}: ${res.body.slice(0, 300)}\n${tail(worker.log)}`);
    const page = JSON.parse(res.body);
    calls.push(...page.calls);
    if (!page.nextCursor) return calls;
    cursor = page.nextCursor;
  }
}

/**
 * Checks every call the bench sent against the board: each shows the state
 * its last answered event must leave. Returns `{ checked, bad: [msg] }`.
 */
async function verify(worker, token, calls) {
  const onBoard = new Map((await board(worker, token)).map((c) => [c.callId, c]));
  const bad = [];
  let checked = 0;
  for (const call of calls) {
    if (call.answered < 0) continue;
    checked += 1;
    const why = mismatch(onBoard.get(call.callId), call.events[call.answered].expect);
    if (why) bad.push(`${call.callId}: ${why}`);
  }
  return { checked, bad, total: onBoard.size };
}

// ------------------------------------------------------------ ingest

/**
 * CONCURRENCY loops, each on its own keep-alive connection, each playing
 * calls one after another (a call's events in order, each sent once its
 * predecessor is answered) until `secs` are up. Every delivery is new and
 * changes the board: no replays, no duplicates.
 */
async function drive(worker, { prefix, secs, seed }) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const random = rng(seed);
  const latencies = [];
  const calls = [];
  const failures = new Map(); // status → { count, example }
  let ok = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const started = performance.now();
  const deadline = started + secs * 1000;
  const loop = async (id) => {
    for (let n = 0; performance.now() < deadline; n++) {
      const call = callScript(`${prefix}-${id}-${n}`, { random, pool: USERS, at: Date.now() });
      call.answered = -1;
      calls.push(call);
      for (const [i, ev] of call.events.entries()) {
        if (performance.now() >= deadline) return;
        const sent = performance.now();
        const res = await request(worker.url + webhookPath(ev.command, { sdkappid: DEMO_SDKAPPID, urlKey: URL_KEY }), {
          method: 'POST',
          body: ev.body,
          agent,
        }).catch((e) => ({ status: `error ${e.code ?? e.message}`, body: '' }));
        latencies.push(performance.now() - sent);
        if (res.status === 200) {
          ok += 1;
          call.answered = i;
        } else {
          const f = failures.get(res.status) ?? { count: 0, example: res.body.slice(0, 300) };
          f.count += 1;
          failures.set(res.status, f);
          break; // the rest of this call would not mean what it should
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => loop(i)));
  const elapsed = (performance.now() - started) / 1000;
  loopDelay.disable();
  agent.destroy();
  return { ok, elapsed, latencies: sortNum(latencies), calls, failures, stallMs: loopDelay.max / 1e6 };
}

/** Runs `load` under the V8 profiler when BENCH_PROFILE=1; returns the profile or null. */
async function maybeProfiled(worker, load) {
  if (!PROFILE) {
    await load();
    return null;
  }
  return profileWhile(ROOT, worker.inspectorPort, load);
}

async function ingest(upstream, adminToken, storage) {
  const worker = await startWorker(`ingest-${storage}`, upstream, { storage, inspector: PROFILE });
  if (WARMUP_SECS > 0) {
    progress(`ingest (${storage}): warm-up ${WARMUP_SECS} s`);
    await drive(worker, { prefix: 'warm', secs: WARMUP_SECS, seed: 1 });
  }
  const rounds = [];
  const calls = [];
  const failures = new Map();
  const profile = await maybeProfiled(worker, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`ingest (${storage}): round ${round}/${ROUNDS}, ${INGEST_SECS} s at ${CONCURRENCY} concurrent deliveries`);
      const cpuBefore = cpuMs(worker.proc.pid);
      const ownBefore = ownCpuMs();
      const run = await drive(worker, { prefix: `ing${round}`, secs: INGEST_SECS, seed: 1 + round });
      const cpu = cpuMs(worker.proc.pid) - cpuBefore;
      const own = ownCpuMs() - ownBefore;
      calls.push(...run.calls);
      for (const [status, f] of run.failures) {
        const all = failures.get(status) ?? { count: 0, example: f.example };
        all.count += f.count;
        failures.set(status, all);
      }
      rounds.push({
        rate: run.ok / run.elapsed,
        ok: run.ok,
        elapsed: run.elapsed,
        p50: quantile(run.latencies, 0.5),
        p99: quantile(run.latencies, 0.99),
        max: run.latencies[run.latencies.length - 1],
        cpuUs: (cpu * 1000) / run.ok,
        cpuShare: cpu / (run.elapsed * 1000),
        ownCpuUs: (own * 1000) / run.ok,
        stallMs: run.stallMs,
      });
    }
  });
  progress(`ingest (${storage}): checking the board`);
  const checked = await verify(worker, adminToken, calls);
  progress('');
  await worker.stop();
  const med = (k) => median(rounds.map((r) => r[k]));
  return {
    storage,
    rounds,
    rate: med('rate'),
    rateMin: Math.min(...rounds.map((r) => r.rate)),
    rateMax: Math.max(...rounds.map((r) => r.rate)),
    ok: rounds.reduce((n, r) => n + r.ok, 0),
    p50: med('p50'),
    p99: med('p99'),
    cpuUs: med('cpuUs'),
    cpuShare: med('cpuShare'),
    ownCpuUs: med('ownCpuUs'),
    stallMs: Math.max(...rounds.map((r) => r.stallMs)),
    calls: calls.length,
    ended: calls.filter((c) => c.answered === c.events.length - 1).length,
    failures,
    checked,
    profile,
  };
}

// ------------------------------------------------------------ fan-out

/** A live socket for `user` (admin or not): ticket, upgrade, snapshot. */
async function openSocket(worker, user, token, agent) {
  const res = await request(`${worker.url}/api/v1/live/ticket`, { method: 'POST', token, agent });
  if (res.status !== 200) die(`POST /api/v1/live/ticket (${user}) answered ${res.status}: ${res.body}`);
  const { ticket } = JSON.parse(res.body);
  const ws = new WebSocket(`ws://127.0.0.1:${worker.port}/api/v1/live?ticket=${ticket}`, { perMessageDeflate: false });
  const socket = { user, admin: user === ADMIN || WATCHING_ADMINS.includes(user), ws, arrivals: [], other: 0 };
  const snapshot = new Promise((resolveSnap, reject) => {
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, r) => reject(new Error(`socket refused: ${r.statusCode}`)));
    ws.on('message', (data) => {
      const at = performance.now(); // before parsing: the arrival, not our own cost
      const msg = JSON.parse(data.toString());
      for (const m of msg.type === 'batch' ? msg.messages : [msg]) {
        if (m.type === 'call') socket.arrivals.push([`${m.call.callId}@${m.call.updatedAt}`, at]);
      }
      if (msg.type === 'batch') socket.frames = (socket.frames ?? 0) + 1;
      if (msg.type === 'call' || msg.type === 'batch') return;
      if (msg.type === 'snapshot') resolveSnap();
      else socket.other += 1;
    });
  });
  await snapshot;
  return socket;
}

/**
 * Plays calls at FANOUT_RATE webhooks/s: event i is due at i / rate. Five
 * calls run interleaved; a call's next event waits for its previous answer.
 * Returns every event with its send and answer times.
 */
async function play(worker, { prefix, secs, seed }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const random = rng(seed);
  const total = Math.round(secs * FANOUT_RATE);
  const SLOTS = 5;
  const slots = Array.from({ length: SLOTS }, () => ({ call: null, next: 0, chain: Promise.resolve() }));
  const sent = [];
  const failures = [];
  let serial = 0;
  const t0 = performance.now() + 50;
  let lagMs = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / FANOUT_RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait - 0.5);
    while (performance.now() < due) await new Promise(setImmediate);
    const slot = slots[i % SLOTS];
    if (!slot.call || slot.next === slot.call.events.length) {
      slot.call = callScript(`${prefix}-${serial++}`, { random, pool: USERS, at: Date.now() });
      slot.next = 0;
    }
    const { call } = slot;
    const ev = call.events[slot.next++];
    slot.chain = slot.chain.then(async () => {
      const record = { key: `${call.callId}@${ev.at}`, users: call.users, sentAt: performance.now(), answeredAt: NaN };
      lagMs = Math.max(lagMs, record.sentAt - due);
      sent.push(record);
      const res = await request(worker.url + webhookPath(ev.command, { sdkappid: DEMO_SDKAPPID, urlKey: URL_KEY }), {
        method: 'POST',
        body: ev.body,
        agent,
      }).catch((e) => ({ status: `error ${e.code ?? e.message}`, body: '' }));
      record.answeredAt = performance.now();
      if (res.status !== 200) failures.push(`${record.key}: ${res.status} ${res.body.slice(0, 200)}`);
    });
  }
  await Promise.all(slots.map((s) => s.chain));
  loopDelay.disable();
  agent.destroy();
  return { sent, failures, lagMs, stallMs: loopDelay.max / 1e6 };
}

/** Waits until every socket has every event it may see, or `ms` pass. */
async function drain(sockets, sent, ms) {
  const want = (s) => (s.admin ? sent.length : sent.filter((e) => e.users.includes(s.user)).length);
  const wants = sockets.map(want);
  for (const deadline = performance.now() + ms; performance.now() < deadline; await sleep(20)) {
    if (sockets.every((s, i) => s.arrivals.length >= wants[i])) return;
  }
}

async function fanout(upstream, adminToken, storage, coalesceMs = 0) {
  const worker = await startWorker(`fanout-${storage}-${coalesceMs}`, upstream, { storage, inspector: PROFILE, coalesceMs });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const viewers = [
    ...USERS.slice(0, MEMBER_SOCKETS).map((u) => [u, mintUserSig(u, { expire: 6 * 3600 })]),
    ...WATCHING_ADMINS.map((a) => [a, mintUserSig(a, { expire: 6 * 3600 })]),
  ];
  progress(`fan-out (${storage}): opening ${SOCKETS} sockets`);
  const sockets = [];
  for (const [user, token] of viewers) sockets.push(await openSocket(worker, user, token, agent));
  agent.destroy();
  if (WARMUP_SECS > 0) {
    progress(`fan-out (${storage}): warm-up ${WARMUP_SECS} s at ${FANOUT_RATE}/s`);
    const warm = await play(worker, { prefix: 'warm', secs: WARMUP_SECS, seed: 3 });
    await drain(sockets, warm.sent, 5_000);
  }
  for (const s of sockets) {
    s.arrivals = [];
    s.other = 0;
  }
  progress(`fan-out (${storage}): ${FANOUT_SECS} s at ${FANOUT_RATE} webhooks/s to ${SOCKETS} sockets`);
  const cpuBefore = cpuMs(worker.proc.pid);
  let run;
  const profile = await maybeProfiled(worker, async () => {
    run = await play(worker, { prefix: 'fan', secs: FANOUT_SECS, seed: 4 });
    await drain(sockets, run.sent, 10_000);
  });
  const cpu = cpuMs(worker.proc.pid) - cpuBefore;
  progress('');
  for (const s of sockets) s.ws.terminate();
  await worker.stop();

  // Per (socket, event) pair: the time from the POST being sent to the socket's message.
  const byKey = new Map(run.sent.map((e) => [e.key, e]));
  const fromSent = [];
  const fromAnswer = [];
  const firstSocket = new Map(); // key → earliest arrival over the sockets
  const lastSocket = new Map(); // key → latest
  let missing = 0;
  let unexpected = 0;
  let duplicates = 0;
  let expected = 0;
  const missingBySocket = [];
  for (const s of sockets) {
    const got = new Set();
    for (const [key, at] of s.arrivals) {
      const e = byKey.get(key);
      if (!e || (!s.admin && !e.users.includes(s.user))) {
        unexpected += 1;
        continue;
      }
      if (got.has(key)) {
        duplicates += 1;
        continue;
      }
      got.add(key);
      const ms = at - e.sentAt;
      fromSent.push(ms);
      fromAnswer.push(at - e.answeredAt);
      firstSocket.set(key, Math.min(firstSocket.get(key) ?? Infinity, ms));
      lastSocket.set(key, Math.max(lastSocket.get(key) ?? -Infinity, ms));
    }
    const may = s.admin ? run.sent : run.sent.filter((e) => e.users.includes(s.user));
    expected += may.length;
    const miss = may.filter((e) => !got.has(e.key)).length;
    missing += miss;
    if (miss) missingBySocket.push(`${s.user}: ${miss} of ${may.length}`);
  }
  const sorted = sortNum(fromSent);
  const answerSorted = sortNum(fromAnswer);
  const post = sortNum(run.sent.map((e) => e.answeredAt - e.sentAt));
  const first = sortNum([...firstSocket.values()]);
  const last = sortNum([...lastSocket.values()]);
  return {
    storage,
    coalesceMs,
    events: run.sent.length,
    pairs: sorted.length,
    expected,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1],
    answerP50: quantile(answerSorted, 0.5),
    answerP99: quantile(answerSorted, 0.99),
    postP50: quantile(post, 0.5),
    postP99: quantile(post, 0.99),
    firstP50: quantile(first, 0.5),
    firstP99: quantile(first, 0.99),
    lastP50: quantile(last, 0.5),
    lastP99: quantile(last, 0.99),
    lastMax: last[last.length - 1],
    missing,
    missingBySocket,
    unexpected,
    duplicates,
    failures: run.failures,
    lagMs: run.lagMs,
    stallMs: run.stallMs,
    cpuUsPerEvent: (cpu * 1000) / run.sent.length,
    cpuShare: cpu / (FANOUT_SECS * 1000),
    profile,
  };
}

// ------------------------------------------------------------ report

function header() {
  const version = execFileSync(WORKERD, ['--version'], { encoding: 'utf8' }).trim();
  let rev = '?';
  try {
    rev = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not a git checkout */
  }
  out(`bench-live ${new Date().toISOString()}  repo ${rev}  build ${BUILD}`);
  out(`${version}, bare workerd serve, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, no CPU pinning`);
  out(`CallBoard storage: ${STORAGES.map((s) => `${s} = ${STORAGE_LABEL[s]}`).join(', ')} (a fresh workerd and an empty board per phase)`);
  out('load generator: node:http keep-alive and ws in this process, sharing the machine with workerd');
  out();
}

function reportProfile(label, profile) {
  if (!profile) return;
  out(`  CPU profile of workerd during ${label} (V8 sampling; shares of non-idle samples):`);
  for (const [name, share] of profile.categories) out(`    ${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
  out('    top functions (self):');
  for (const [name, share] of profile.top) out(`    ${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
  out();
}

function reportIngest(r) {
  out(`ingest, ${STORAGE_LABEL[r.storage]}: ${CONCURRENCY} concurrent deliveries, ${ROUNDS} × ${INGEST_SECS} s (after ${WARMUP_SECS} s warm-up); calls start → member changed (→ member changed) → end, every delivery new`);
  out(`  ${'round'.padEnd(8)} ${'applied/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'workerd µs/wh'.padStart(14)} ${'workerd core'.padStart(13)} ${'client µs/wh'.padStart(13)}`);
  const row = (name, x) =>
    out(`  ${name.padEnd(8)} ${f0(x.rate).padStart(10)} ${f2(x.p50).padStart(8)} ${f2(x.p99).padStart(8)} ${(x.max === undefined ? '' : f2(x.max)).padStart(8)} ${f0(x.cpuUs).padStart(14)} ${`${f0(x.cpuShare * 100)}%`.padStart(13)} ${f0(x.ownCpuUs).padStart(13)}`);
  r.rounds.forEach((x, i) => row(String(i + 1), x));
  row('median', r);
  out(`  workerd CPU per webhook (median) ${f0(r.cpuUs)} µs: ≈ ${f0(1e6 / r.cpuUs)} webhooks/s on one core of its own (what the rate would be with no one else on the machine)`);
  out(`  (client µs/wh: this process's CPU per webhook; its event loop stalled at most ${f0(r.stallMs)} ms, which a latency max near that may be)`);
  out(`  ${f0(r.ok)} webhooks answered 200 over ${f0(r.calls)} calls (${f0(r.ended)} ended, the rest cut by a deadline)`);
  const failed = [...r.failures].map(([status, f]) => `${f.count} × ${status} (${f.example})`);
  out(`  non-200 answers: ${failed.length ? `!! ${failed.join('; ')}` : 0}`);
  const { checked, bad, total } = r.checked;
  out(`  board check (GET /api/v1/live/calls as admin): ${f0(checked)} calls as their last answered webhook left them, ${bad.length} wrong (${f0(total)} calls on the board, warm-up included)`);
  for (const b of bad.slice(0, 5)) out(`    !! ${b}`);
  out();
  reportProfile(`the ingest (${r.storage})`, r.profile);
}

function reportFanout(f) {
  out(`fan-out, ${STORAGE_LABEL[f.storage]}, LIVE_COALESCE_MS=${f.coalesceMs}: ${SOCKETS} sockets (${SOCKETS - MEMBER_SOCKETS} admins, ${MEMBER_SOCKETS} members), ${FANOUT_RATE} webhooks/s for ${FANOUT_SECS} s (after ${WARMUP_SECS} s warm-up)`);
  out(`  webhooks sent       ${f0(f.events)}, ${f.failures.length ? `!! ${f.failures.length} not answered 200` : 'all answered 200'}; at most ${f1(f.lagMs)} ms behind schedule; this process's event loop stalled at most ${f0(f.stallMs)} ms`);
  out(`  messages            ${f0(f.pairs)} (socket, webhook) pairs of ${f0(f.expected)} a socket may see; ${f.missing} missing, ${f.unexpected} not visible to their socket, ${f.duplicates} duplicates`);
  out(`  ${''.padEnd(34)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`);
  out(`  ${'POST sent → message, every pair'.padEnd(34)} ${f2(f.p50).padStart(8)} ${f2(f.p99).padStart(8)} ${f2(f.max).padStart(8)}`);
  out(`  ${'POST sent → first socket'.padEnd(34)} ${f2(f.firstP50).padStart(8)} ${f2(f.firstP99).padStart(8)}`);
  out(`  ${'POST sent → last socket'.padEnd(34)} ${f2(f.lastP50).padStart(8)} ${f2(f.lastP99).padStart(8)} ${f2(f.lastMax).padStart(8)}`);
  out(`  ${'POST sent → answered'.padEnd(34)} ${f2(f.postP50).padStart(8)} ${f2(f.postP99).padStart(8)}`);
  out(`  ${'POST answered → message'.padEnd(34)} ${f2(f.answerP50).padStart(8)} ${f2(f.answerP99).padStart(8)}   (< 0: the message came first)`);
  out(`  workerd CPU         ${f0(f.cpuUsPerEvent)} µs per webhook with its messages (${f0(f.cpuShare * 100)}% of one core): one core would apply ≈ ${f0(1e6 / f.cpuUsPerEvent)} webhooks/s with these sockets watching`);
  for (const m of f.missingBySocket.slice(0, 5)) out(`    !! missing on ${m}`);
  for (const m of f.failures.slice(0, 5)) out(`    !! ${m}`);
  out();
  reportProfile(`the fan-out (${f.storage})`, f.profile);
}

function reportTargets(ingests, fanouts) {
  out('vs the targets (ratio = measured / target: ingest wants ≥ 1×, fan-out ≤ 1×; when workerd got well under a core,');
  out('the machine was busy: the CPU-based rate is then the better guide)');
  out(`  ${'figure'.padEnd(44)} ${'measured'.padStart(9)} ${'target'.padStart(9)} ${'ratio'.padStart(7)}  verdict`);
  for (const r of ingests) {
    const x = r.rate / TARGET_RATE;
    out(`  ${`ingest, webhooks/s applied (${r.storage})`.padEnd(44)} ${f0(r.rate).padStart(9)} ${`≥ ${f0(TARGET_RATE)}`.padStart(9)} ${`${f2(x)}×`.padStart(7)}  ${x >= 1 ? 'met' : 'MISSED'}`);
    const cap = 1e6 / r.cpuUs / TARGET_RATE;
    out(`  ${`  same, from CPU: 1 core / µs per webhook`.padEnd(44)} ${f0(1e6 / r.cpuUs).padStart(9)} ${`≥ ${f0(TARGET_RATE)}`.padStart(9)} ${`${f2(cap)}×`.padStart(7)}  ${cap >= 1 ? 'met' : 'MISSED'}`);
  }
  for (const f of fanouts) {
    const x = f.p99 / TARGET_P99_MS;
    out(`  ${`fan-out p99 to ${SOCKETS} sockets, ms (${f.storage})`.padEnd(44)} ${f2(f.p99).padStart(9)} ${`≤ ${TARGET_P99_MS}`.padStart(9)} ${`${f2(x)}×`.padStart(7)}  ${x <= 1 ? 'met' : 'MISSED'}`);
  }
  out();
}

function save(data, profiles) {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const [name, profile] of Object.entries(profiles)) {
    // Opens in Chrome DevTools (Performance → Load profile) or speedscope.
    writeFileSync(join(dir, `live-${stamp}-${name}.cpuprofile`), JSON.stringify(profile));
    console.log(`CPU profile: bench/results/live-${stamp}-${name}.cpuprofile`);
  }
  writeFileSync(join(dir, `live-${stamp}.txt`), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, `live-${stamp}.json`), `${JSON.stringify(data, (k, v) => (v instanceof Map ? Object.fromEntries(v) : v), 1)}\n`);
  console.log(`results: bench/results/live-${stamp}.txt (and .json)`);
}

// ------------------------------------------------------------ main

function preflight() {
  if (!existsSync(join(BUILD, 'worker/shim.mjs')) || !existsSync(join(BUILD, 'index_bg.wasm'))) {
    die(`no worker build in ${BUILD} (want worker/shim.mjs and index_bg.wasm): run make build first`);
  }
  if (!readFileSync(join(BUILD, 'index.js'), 'utf8').includes('CallBoard')) die(`${BUILD} exports no CallBoard: rebuild it (make build)`);
  for (const path of [WORKERD, RATELIMIT_JS]) if (!existsSync(path)) die(`${path} is missing (npm ci)`);
  if (STORAGES.includes('tmpfs') && !existsSync('/dev/shm')) die('BENCH_STORAGE=tmpfs needs /dev/shm');
}

/** The JSON of a phase, without the raw profile (saved on its own). */
const plain = ({ profile, ...rest }) => ({ ...rest, profile: profile && { categories: profile.categories, top: profile.top } });

async function main() {
  preflight();
  header();
  const adminToken = mintUserSig(ADMIN, { expire: 6 * 3600 });
  const upstream = await startUpstream();
  const ingests = [];
  const fanouts = [];
  const scaled = {};
  try {
    const scale = { request, drive, verify, startWorker, openSocket, quantile, sortNum, cpuMs, progress, out, f0, f2, URL_KEY, DEMO_SDKAPPID };
    if (PHASES.has('shards')) scaled.shards = await shardIngest(scale, upstream, adminToken, SHARD_COUNTS, INGEST_SECS);
    if (PHASES.has('snapshot')) scaled.snapshot = await snapshotAtScale(scale, upstream, adminToken, SNAPSHOT_CALLS);
    if (PHASES.has('flood')) scaled.flood = await floodWhileServing(scale, upstream, adminToken, FLOOD, INGEST_SECS);
    for (const storage of STORAGES) {
      if (PHASES.has('ingest')) {
        ingests.push(await ingest(upstream, adminToken, storage));
        reportIngest(ingests.at(-1));
      }
      if (PHASES.has('fanout')) {
        for (const ms of COALESCE) {
          fanouts.push(await fanout(upstream, adminToken, storage, ms));
          reportFanout(fanouts.at(-1));
        }
      }
    }
    reportTargets(ingests, fanouts);
    if (upstream.seen.requests) out(`note: the board called the upstream ${upstream.seen.requests} times (its alarm)`);
    const broken =
      ingests.some((r) => r.failures.size || r.checked.bad.length) ||
      (scaled.shards ?? []).some((r) => r.lost) || scaled.flood?.lost ||
      fanouts.some((f) => f.missing || f.unexpected || f.duplicates || f.failures.length);
    if (broken) out('!! the board did not do what the bench sent it: the figures are not valid');
    const profiles = {};
    for (const r of ingests) if (r.profile) profiles[`ingest-${r.storage}`] = r.profile.profile;
    for (const f of fanouts) if (f.profile) profiles[`fanout-${f.storage}`] = f.profile.profile;
    save(
      {
        storages: STORAGES, rounds: ROUNDS, concurrency: CONCURRENCY, ingestSecs: INGEST_SECS, sockets: SOCKETS,
        memberSockets: MEMBER_SOCKETS, fanoutRate: FANOUT_RATE, fanoutSecs: FANOUT_SECS,
        ingest: ingests.map((r) => plain({ ...r, checked: { ...r.checked, bad: r.checked.bad.slice(0, 20) } })),
        fanout: fanouts.map((f) => plain({ ...f, missingBySocket: f.missingBySocket.slice(0, 20), failures: f.failures.slice(0, 20) })),
        scale: scaled,
      },
      profiles,
    );
    return broken ? 1 : 0;
  } finally {
    await upstream.close();
  }
}

main()
  .catch((err) => {
    console.error(err instanceof Fatal ? `bench-live: ${err.message}` : err);
    return 1;
  })
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  });

// make bench-history: the call ledger (D1) of the built worker. Ingest through the real path
// (signed webhooks → the board → its outbox → D1), then 1,000,000 calls seeded through SQL and
// the read side timed over HTTP: a member's page, an admin's filtered page, 30 days of daily
// stats, and a full export with the worker process's peak memory. See bench/history/README.md.
//
// Usage: node bench/history/bench.mjs [BUILD_DIR]   (run.sh sets BENCH_TMP)

import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import { freePort, sleep, stopAll } from '../edge/procs.mjs';
import { ROOT, benchSession, die, envInt, Fatal } from '../edge/session.mjs';
import { DEMO_KEY, DEMO_SDKAPPID, mintUserSig } from '../edge/tokens.mjs';
import { callScript, rng, webhookPath } from '../live/webhooks.mjs';
import { seedCalls, SEED_USERS } from './seed.mjs';
import { heapProbe } from './heap.mjs';
import { profileWhile } from '../edge/profile.mjs';
import { startLedgerWorker } from './stack.mjs';
import { startBareLedgerWorker } from './bare.mjs';
import { startSplitLedgerWorker } from './split.mjs';

const INGEST_SECS = Math.max(1, envInt('BENCH_INGEST_SECS', 10));
const CONCURRENCY = Math.max(1, envInt('BENCH_CONCURRENCY', 32));
const SEED_CALLS = Math.max(1000, envInt('BENCH_SEED_CALLS', 1_000_000));
const SEED_DAYS = Math.max(30, envInt('BENCH_SEED_DAYS', 100));
const QUERIES = Math.max(10, envInt('BENCH_QUERIES', 200));
// Stats requests scan a month of calls each: fewer of them.
const STATS_QUERIES = Math.max(10, envInt('BENCH_STATS_QUERIES', 50));
// `workerd`: ingest in bare `workerd serve` (bare.mjs) instead of under Miniflare.
const RUNTIME = process.env.BENCH_RUNTIME === 'workerd' ? 'workerd' : 'miniflare';
// With BENCH_RUNTIME=workerd: a V8 CPU profile of the worker's isolate per ingest round.
const PROFILE = RUNTIME === 'workerd' && process.env.BENCH_PROFILE === '1';
const PHASES = new Set((process.env.BENCH_PHASES || 'ingest,read,export').split(',').map((s) => s.trim()));
const TARGET = { callsPerSec: 1000, pageP99: 50, statsP99: 200, exportRows: 20_000 };

const URL_KEY = 'bench-history-url-key-0123456789abcdef';
const ADMIN = 'bench-admin';
const USERS = Array.from({ length: 40 }, (_, i) => `u${i}`);
const DAY = 86_400_000;

const { tmp: TMP, lines, out } = benchSession('bench-history-');
const progress = (text) => (process.stderr.isTTY ? process.stderr.write(`\r\x1b[K${text}`) : text && process.stderr.write(`  … ${text}\n`));
const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');

/**
 * One request on a keep-alive `agent`: `{ status, body, ms }`. A kept-alive connection the
 * server closed just as it was reused is retried once on a new one (Node's documented race).
 */
function request(url, options = {}) {
  return requestOnce(url, options).catch((error) => {
    if (!(error.reusedSocket && error.code === 'ECONNRESET')) throw error;
    return requestOnce(url, { ...options, agent: false });
  });
}

function requestOnce(url, { method = 'GET', token, body, agent, onData } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const t0 = performance.now();
    const req = httpRequest(url, { method, headers, agent: agent ?? false, timeout: 600_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => (onData ? onData(c) : chunks.push(c)));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
    });
    req.on('error', (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

/** Tencent for the worker: get_record_by_callid answers the record of a call the bench ended. */
async function startUpstream(records) {
  const seen = { fetches: 0, other: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const known = req.url.includes('get_record_by_callid') && records.get(JSON.parse(Buffer.concat(chunks)).CallId);
      if (known) seen.fetches += 1;
      else seen.other += 1;
      const answer = known
        ? { ErrorCode: 0, ErrorInfo: '', ActionStatus: 'OK', RequestId: 'Id-00000000000000000000000000000000-O-Seq-1', Response: { CallRecord: known } }
        : { ErrorCode: 101050, ErrorInfo: 'record not found', ActionStatus: 'FAIL', RequestId: 'Id-00000000000000000000000000000000-O-Seq-2' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

const vars = (upstream) => ({
  TENCENT_SDKAPPID: String(DEMO_SDKAPPID),
  TENCENT_SECRET_KEY: DEMO_KEY,
  TENCENT_API_BASE: upstream,
  TENCENT_ADMIN_IDENTIFIER: 'administrator',
  AUTH_MODE: 'usersig',
  ADMIN_USERS: ADMIN,
  ALLOWED_ORIGINS: '',
  WEBHOOK_URL_KEY: URL_KEY,
});

/** The workerd process Miniflare started (a child of this process), for its CPU and memory. */
function workerdPid() {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [comm, rest] = [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), stat.slice(stat.lastIndexOf(')') + 2).split(' ')];
      if (comm === 'workerd' && Number(rest[1]) === process.pid) return Number(pid);
    } catch { /* gone */ }
  }
  return die('no workerd child process found');
}
/** Resident memory in kB: all of it, and the anonymous part (heaps; not file pages SQLite maps). */
function rssKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { all: field('VmRSS'), anon: field('RssAnon') };
}
const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

const scalar = async (db, sql, ...params) => Object.values(await db.prepare(sql).bind(...params).first())[0];

// ------------------------------------------------------------ ingest

/**
 * CONCURRENCY loops on keep-alive connections, each playing calls for `secs`: the whole
 * script (start → member changed → end), or with `endOnly` the end webhook alone (a receiver
 * subscribed to ends only: its CallRecord carries the whole call).
 */
async function drive(worker, records, { secs, prefix, endOnly }) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const random = rng(7);
  const latencies = [];
  const ended = [];
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + secs * 1000;
  const loop = async (id) => {
    for (let n = 0; performance.now() < deadline; n++) {
      const call = callScript(`${prefix}-${id}-${n}`, { random, pool: USERS, at: Date.now() });
      const events = endOnly ? call.events.slice(-1) : call.events;
      for (const ev of events) {
        const res = await request(worker.url + webhookPath(ev.command, { sdkappid: DEMO_SDKAPPID, urlKey: URL_KEY }), {
          method: 'POST', body: ev.body, agent,
        }).catch((e) => ({ status: e.code ?? e.message, ms: NaN }));
        latencies.push(res.ms);
        if (res.status !== 200) { failed += 1; break; }
        ok += 1;
        if (ev.command === 'Call.CallbackAfterEndCall') {
          ended.push(call.callId);
          records.set(call.callId, JSON.parse(ev.body).CallRecord);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => loop(i)));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return { ok, failed, ended, elapsed, latencies: Float64Array.from(latencies).sort() };
}

/** Waits until D1 holds every ended call of `prefix` as ended; the seconds that took after `since`. */
async function landed(db, prefix, count, since) {
  for (let poll = 0, deadline = performance.now() + 300_000; ; poll++, await sleep(250)) {
    const n = await scalar(db, 'SELECT COUNT(*) FROM calls WHERE call_id >= ?1 AND call_id < ?2 AND ended_at IS NOT NULL', `${prefix}-`, `${prefix}.`);
    if (poll % 8 === 0) progress(`ingest: ${n} of ${count} ended calls in D1`);
    if (n >= count) return { n, secs: (performance.now() - since) / 1000 };
    if (performance.now() > deadline) return { n, secs: NaN };
  }
}

async function ingestRound(worker, pid, records, { prefix, endOnly }) {
  const changesBefore = await scalar(worker.db, 'SELECT total_changes()');
  const cpuBefore = cpuMs(pid);
  const logBefore = worker.log().length;
  const since = performance.now();
  let run;
  const load = async () => { run = await drive(worker, records, { secs: INGEST_SECS, prefix, endOnly }); };
  const pick = (targets) => targets.find((t) => /\bmain\b/.test(t.title)) ?? targets[0];
  const profile = PROFILE ? await profileWhile(ROOT, worker.inspectorPort, load, pick) : (await load(), null);
  const land = await landed(worker.db, prefix, run.ended.length, since);
  const changes = (await scalar(worker.db, 'SELECT total_changes()')) - changesBefore;
  // The drain's log lines say how many statements each D1 batch carried.
  const drains = [...worker.log().slice(logBefore).matchAll(/"statements":\s*(\d+)/g)];
  const statements = drains.reduce((n, m) => n + Number(m[1]), 0);
  return {
    label: endOnly ? 'end webhook only' : 'start → member changed → end',
    short: endOnly ? 'ends only' : 'whole calls',
    webhooksPerSec: run.ok / run.elapsed,
    failed: run.failed,
    p50: quantile(run.latencies, 0.5),
    p99: quantile(run.latencies, 0.99),
    ended: run.ended.length,
    inD1: land.n,
    callsPerSec: land.n / land.secs,
    lagSecs: land.secs - run.elapsed,
    rowsPerCall: changes / Math.max(1, land.n),
    statementsPerCall: statements / Math.max(1, land.n),
    drains: drains.length,
    statements,
    cpuUsPerCall: ((cpuMs(pid) - cpuBefore) * 1000) / Math.max(1, land.n),
    profile,
  };
}

async function ingest() {
  const records = new Map();
  const upstream = await startUpstream(records);
  const start = RUNTIME === 'workerd' ? startBareLedgerWorker : startLedgerWorker;
  const worker = await start(join(TMP, 'ingest'), { vars: vars(upstream.url), storageDir: join(TMP, 'ingest-state'), inspector: PROFILE });
  try {
    const pid = worker.pid ?? workerdPid();
    await drive(worker, records, { secs: 2, prefix: 'warm', endOnly: false });
    const rounds = [];
    for (const endOnly of [false, true]) rounds.push(await ingestRound(worker, pid, records, { prefix: endOnly ? 'end' : 'full', endOnly }));
    progress('');
    return { rounds, fetches: upstream.seen.fetches };
  } finally {
    await worker.stop();
    await upstream.close();
  }
}

// ------------------------------------------------------------ read side

/** The size of the D1 database files (SQLite file and its WAL) under `dir`. */
function dbBytes(dir) {
  let total = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.sqlite(-wal)?$/.test(e.name)) total += statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

/** `QUERIES` sequential GETs, one at a time: `query(i)` gives the path and token of the i-th. */
async function timeQueries(worker, query, count = QUERIES) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const ms = [];
  let rows = 0;
  for (let i = 0; i < count; i++) {
    const { path, token } = query(i);
    const res = await request(worker.url + path, { token, agent })
      .catch((e) => die(`GET ${path}: ${e.message}\n${worker.log().split('\n').slice(-15).join('\n')}`));
    if (res.status !== 200) die(`GET ${path} answered ${res.status}: ${res.body.slice(0, 300)}\n${worker.log().split('\n').filter((l) => /error|fail/i.test(l)).slice(-5).join('\n')}`);
    const json = JSON.parse(res.body);
    rows += json.calls?.length ?? json.buckets?.length ?? 0;
    ms.push(res.ms);
  }
  agent.destroy();
  return { sorted: Float64Array.from(ms).sort(), rows: rows / count, count };
}

/** Streams the export of every call; rows/s and the workerd process's memory meanwhile. */
async function exportAll(worker, pid, token) {
  const heap = await heapProbe(worker.inspectorPort, 'callkit-edge');
  // The inspector answers between the isolate's tasks: before and after, not along the way.
  const heapBefore = await heap.usage();
  const before = rssKb(pid);
  const peak = { ...before };
  const sampler = setInterval(() => {
    const now = rssKb(pid);
    peak.all = Math.max(peak.all, now.all);
    peak.anon = Math.max(peak.anon, now.anon);
  }, 50);
  let rows = 0;
  let bytes = 0;
  // Anonymous memory at every tenth of the rows: flat if the export's memory does not grow.
  const step = Math.ceil(SEED_CALLS / 10);
  const along = [];
  const res = await request(`${worker.url}/api/v1/history/export?from=0&format=csv`, {
    token,
    onData: (chunk) => {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
        rows += 1;
        if (rows % step === 0) along.push([rows, rssKb(pid).anon]);
      }
    },
  });
  clearInterval(sampler);
  if (res.status !== 200) die(`export answered ${res.status}: ${res.body.slice(0, 300)}`);
  const heapAfter = await heap.usage();
  heap.close();
  return { rows: rows - 1, bytes, secs: res.ms / 1000, before, peak, along, heap: { title: heap.title, before: heapBefore.usedSize + heapBefore.backingStorageSize, after: heapAfter.usedSize + heapAfter.backingStorageSize } };
}

async function read() {
  const upstream = await startUpstream(new Map());
  const worker = await startLedgerWorker(join(TMP, 'read'), { vars: vars(upstream.url), storageDir: join(TMP, 'read-state') });
  try {
    const pid = workerdPid();
    const now = Date.now();
    progress(`seeding ${SEED_CALLS} calls over ${SEED_DAYS} days`);
    const seed = await seedCalls(worker.db, { calls: SEED_CALLS, days: SEED_DAYS, now, onProgress: progress });
    // D1's own figure for the database (what Cloudflare bills as storage), and the files.
    const bytes = (await worker.db.prepare('SELECT 1').run()).meta.size_after;
    const fileBytes = dbBytes(join(TMP, 'read-state', 'd1'));
    const admin = mintUserSig(ADMIN, { expire: 6 * 3600 });
    const memberTokens = new Map();
    const tokenOf = (u) => memberTokens.get(u) ?? memberTokens.set(u, mintUserSig(u, { expire: 6 * 3600 })).get(u);
    const users = Array.from({ length: QUERIES }, (_, i) => SEED_USERS[(i * 7919) % SEED_USERS.length]);
    const from30 = now - 30 * DAY;

    progress('timing: a member\'s page');
    // Each request is another member reading their own first page.
    const member = await timeQueries(worker, (i) => ({ path: '/api/v1/history?limit=20', token: tokenOf(users[i]) }));
    progress('timing: an admin\'s filtered page');
    const adminPage = await timeQueries(worker, (i) => ({ token: admin, path: `/api/v1/history?${new URLSearchParams({
      from: String(now - (30 + (i % 60)) * DAY), to: String(now - (i % 60) * DAY),
      result: 'NormalEnd', mediaType: i % 2 ? 'Video' : 'Audio', limit: '50' })}` }));
    progress('timing: 30 days of daily stats');
    const stats = await timeQueries(worker, (i) => ({ token: admin, path: `/api/v1/history/stats?${new URLSearchParams({
      from: String(from30 - (i % 5) * DAY), to: String(now - (i % 5) * DAY), bucket: 'day', tz: '+00:00' })}` }), STATS_QUERIES);
    // The same request with an offset that is not whole quarter hours reads the calls, as
    // every stats request did before the rollup (migrations/0002): the before figure, same run.
    progress('timing: 30 days of daily stats from the calls (tz=+00:07)');
    const statsCallsPath = await timeQueries(worker, (i) => ({ token: admin, path: `/api/v1/history/stats?${new URLSearchParams({
      from: String(from30 - (i % 5) * DAY), to: String(now - (i % 5) * DAY), bucket: 'day', tz: '+00:07' })}` }), Math.min(STATS_QUERIES, 20));
    progress('timing: a member\'s 30 days of daily stats');
    const memberStats = await timeQueries(worker, (i) => ({ path: `/api/v1/history/stats?${new URLSearchParams({
      from: String(from30), to: String(now), bucket: 'day', tz: '+05:45' })}`, token: tokenOf(users[i]) }), STATS_QUERIES);
    const statsCalls = await scalar(worker.db, 'SELECT COUNT(*) FROM calls WHERE started_at >= ?1 AND started_at < ?2', from30, now);
    progress('export: every call as CSV');
    const exported = await exportAll(worker, pid, admin);
    // Again in the same process: memory a first export left (caches, a grown heap) is not counted twice.
    progress('export: again');
    exported.again = await exportAll(worker, pid, admin);
    progress('');
    return { seed, bytes, fileBytes, member, adminPage, stats, statsCallsPath, memberStats, statsCalls, exported };
  } finally {
    await worker.stop();
    await upstream.close();
  }
}

// ------------------------------------------------------------ export phase

// How often the export phase samples the worker's heap and its process's memory.
const SAMPLE_MS = 200;
// Exports in a row in the same process: memory one leaves behind shows in the next.
const EXPORT_RUNS = Math.max(1, envInt('BENCH_EXPORT_RUNS', 3));

/**
 * Streams the export of every call while sampling, every SAMPLE_MS, the worker isolate's V8
 * heap (inspector) and its process's RSS: `{ rows, bytes, secs, idle, samples, after }`.
 */
async function sampledExport(worker, token) {
  const heap = await heapProbe(worker.inspectorPort, 'main');
  const usage = async () => {
    const h = await heap.usage();
    return { heap: h.usedSize + h.backingStorageSize, heapTotal: h.totalSize, ...rssKb(worker.pid) };
  };
  const idle = await usage();
  const samples = [];
  let rows = 0;
  let bytes = 0;
  let done = false;
  const t0 = performance.now();
  const sampler = (async () => {
    while (!done) {
      const at = { ms: performance.now() - t0, rows };
      samples.push({ ...at, ...(await usage()), answeredMs: performance.now() - t0 - at.ms });
      await sleep(SAMPLE_MS);
    }
  })();
  const res = await request(`${worker.url}/api/v1/history/export?from=0&format=csv`, {
    token,
    onData: (chunk) => {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows += 1;
    },
  });
  done = true;
  await sampler;
  if (res.status !== 200) die(`export answered ${res.status}: ${res.body.slice(0, 300)}`);
  const after = await usage();
  heap.close();
  return { rows: rows - 1, bytes, secs: res.ms / 1000, idle, samples: samples.filter((s) => s.rows > 0), after, title: heap.title };
}

/** The export in the worker's own workerd, D1 in another (split.mjs): memory along the rows. */
async function exportPhase() {
  const upstream = await startUpstream(new Map());
  const worker = await startSplitLedgerWorker(join(TMP, 'export'), { vars: vars(upstream.url) });
  try {
    progress(`export phase: seeding ${SEED_CALLS} calls over ${SEED_DAYS} days`);
    const seed = await seedCalls(worker.db, { calls: SEED_CALLS, days: SEED_DAYS, now: Date.now(), onProgress: progress })
      .catch((e) => die(`seeding: ${e.cause?.message ?? e.message}\nthe D1 process's log:\n${worker.d1Log().slice(-2000)}`));
    const admin = mintUserSig(ADMIN, { expire: 6 * 3600 });
    const runs = [];
    for (let i = 0; i < EXPORT_RUNS; i++) {
      progress(`export phase: every call as CSV, sampled (${i + 1} of ${EXPORT_RUNS})`);
      runs.push(await sampledExport(worker, admin));
    }
    progress('');
    return { seed, runs, d1Rss: rssKb(worker.d1Pid) };
  } finally {
    await worker.stop();
    await upstream.close();
  }
}

/** The sample at the start, the middle and the end of the rows, and the peaks. */
function alongExport(e) {
  const s = e.samples;
  const near = (rows) => s.reduce((best, x) => (Math.abs(x.rows - rows) < Math.abs(best.rows - rows) ? x : best), s[0]);
  const max = (key) => Math.max(...s.map((x) => x[key]));
  return { start: s[0], middle: near(e.rows / 2), end: s[s.length - 1], peak: { heap: max('heap'), all: max('all'), anon: max('anon') } };
}

function reportExport(ex) {
  const mib = (b) => f1(b / 1048576);
  const kmib = (kb) => f1(kb / 1024);
  out(`\nexport in the worker's own bare workerd, D1 in a second one (BENCH_PHASES=export): ${f0(ex.seed.calls)} calls seeded through SQL; the worker isolate's V8 heap (used + ArrayBuffers, over the inspector) and the worker process's RSS every ${SAMPLE_MS} ms`);
  for (const [i, e] of ex.runs.entries()) {
    const label = `export ${i + 1}`;
    const a = alongExport(e);
    const at = (x) => `${f0(x.rows / 1000)}k rows: heap ${mib(x.heap)} MiB (V8 heap committed ${mib(x.heapTotal)}), RSS ${kmib(x.all)} MiB (anon ${kmib(x.anon)})`;
    out(`  ${label}: ${f0(e.rows)} rows, ${f1(e.bytes / 1048576)} MiB of CSV in ${f1(e.secs)} s = ${f0(e.rows / e.secs)} rows/s; ${e.samples.length} samples (slowest answer ${f0(Math.max(...e.samples.map((x) => x.answeredMs)))} ms)`);
    out(`    idle before: heap ${mib(e.idle.heap)} MiB (committed ${mib(e.idle.heapTotal)}), RSS ${kmib(e.idle.all)} MiB (anon ${kmib(e.idle.anon)})`);
    out(`    start ${at(a.start)}`);
    out(`    middle ${at(a.middle)}`);
    out(`    end ${at(a.end)}`);
    out(`    peak: heap ${mib(a.peak.heap)} MiB, RSS ${kmib(a.peak.all)} MiB (anon ${kmib(a.peak.anon)}); after: heap ${mib(e.after.heap)} MiB, RSS ${kmib(e.after.all)} MiB`);
  }
  out(`  the D1 process (not the worker's): RSS ${kmib(ex.d1Rss.all)} MiB at the end`);
  const rate = ex.runs[0].rows / ex.runs[0].secs;
  out(`  export rows/s ${f0(rate)} vs the target ≥ ${f0(TARGET.exportRows)}: ${rate >= TARGET.exportRows ? 'met' : 'NOT met'}`);
}

// ------------------------------------------------------------ report

function report(ing, rd) {
  out(`bench-history: load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end; 2 vCPUs shared with other jobs`);
  const rows = [];
  if (ing) {
    out(`\ningest in ${RUNTIME === 'workerd' ? 'bare workerd serve (BENCH_RUNTIME=workerd)' : 'Miniflare (direct sockets)'}: ${CONCURRENCY} concurrent signed deliveries (WEBHOOK_URL_KEY proof) for ${INGEST_SECS} s per round; the board's outbox drains to D1 on its alarm`);
    out('  round                             webhooks/s  p50 ms  p99 ms  ended  in D1  ended calls/s  D1 lag s  rows/call  statements/call  workerd CPU µs/call');
    for (const r of ing.rounds) {
      out(`  ${r.label.padEnd(32)} ${f0(r.webhooksPerSec).padStart(10)} ${f2(r.p50).padStart(7)} ${f2(r.p99).padStart(7)} ${f0(r.ended).padStart(6)} ${f0(r.inD1).padStart(6)} ${f0(r.callsPerSec).padStart(14)} ${f1(r.lagSecs).padStart(9)} ${f1(r.rowsPerCall).padStart(10)} ${f2(r.statementsPerCall).padStart(16)} ${f0(r.cpuUsPerCall).padStart(19)}`);
      out(`    D1: ${f0(r.statements)} statements in ${f0(r.drains)} drains of the board's outbox (records merged included)`);
      if (r.failed) out(`    ${r.failed} deliveries not answered 200`);
      if (r.profile) {
        out(`    CPU profile of the worker's isolate (V8 sampling, ${f0(r.profile.samples)} samples; shares of non-idle):`);
        for (const [name, share] of [...r.profile.categories, ['— top functions (self time) —', NaN], ...r.profile.top]) out(`      ${Number.isFinite(share) ? (share * 100).toFixed(1).padStart(5) + '%' : ''}  ${name}`);
      }
    }
    out(`  records fetched from the upstream after the ends (get_record_by_callid): ${f0(ing.fetches)}`);
    out('  (ended calls/s: calls whose end is in D1, over the time from the first delivery to the last one landing; rows/call: SQLite total_changes(), rows inserted or updated; statements/call: from the drain\'s log lines, a lower bound: workerd\'s stdout is buffered and lines of a round can arrive late)');
    const best = Math.max(...ing.rounds.map((r) => r.callsPerSec));
    rows.push(['ingest, ended calls/s into D1 (best round)', f0(best), `≥ ${f0(TARGET.callsPerSec)}`, best / TARGET.callsPerSec, true]);
    // What the rate would be with a core to itself: the machine is shared, so workerd's own
    // CPU per call is the steadier figure (as bench-live reports it).
    for (const r of ing.rounds) {
      const perCore = 1e6 / r.cpuUsPerCall;
      out(`  ${r.label}: workerd CPU ${f0(r.cpuUsPerCall)} µs per ended call ≈ ${f0(perCore)} ended calls/s on one core of its own`);
      rows.push([`  same, 1 core / CPU per call (${r.short})`, f0(perCore), `≥ ${f0(TARGET.callsPerSec)}`, perCore / TARGET.callsPerSec, true]);
    }
  }
  if (rd) {
    const ms = (s) => `p50 ${f2(quantile(s, 0.5))}, p99 ${f2(quantile(s, 0.99))}`;
    out(`\nread side: ${f0(rd.seed.calls)} calls seeded through SQL over ${rd.seed.days} days (${f0(rd.seed.members)} member rows, ${f0(rd.seed.timeline)} timeline rows; ${f1(rd.seed.secs)} s)`);
    out(`  D1 database: ${f1(rd.bytes / 1048576)} MiB (D1's size_after; the SQLite files with their WAL: ${f1(rd.fileBytes / 1048576)} MiB), ${f0(rd.bytes / rd.seed.calls)} bytes per call (indexes, members and timeline included)`);
    out(`  requests one at a time over HTTP, ms (${QUERIES} of each page, ${rd.stats.count} of stats)`);
    out(`  a member's page (20 calls; ${f1(rd.member.rows)} rows on average)      ${ms(rd.member.sorted)}`);
    out(`  an admin's filtered page (30 days, result + media, 50 calls)  ${ms(rd.adminPage.sorted)}`);
    out(`  30 days of daily stats (${f0(rd.statsCalls)} calls in the window)     ${ms(rd.stats.sorted)}`);
    out(`    the same from the calls, without the rollup (tz=+00:07, ${rd.statsCallsPath.count} requests)  ${ms(rd.statsCallsPath.sorted)}`);
    out(`  a member's 30 days of daily stats (tz=+05:45)       ${ms(rd.memberStats.sorted)}`);
    const e = rd.exported;
    const mb = (kb) => f0(kb / 1024);
    out(`  export: ${f0(e.rows)} rows, ${f1(e.bytes / 1048576)} MiB of CSV in ${f1(e.secs)} s = ${f0(e.rows / e.secs)} rows/s`);
    out(`    workerd RSS ${mb(e.before.all)} MiB before, peak ${mb(e.peak.all)} MiB; of it anonymous (heaps) ${mb(e.before.anon)} → peak ${mb(e.peak.anon)} MiB, the rest file pages (D1's SQLite runs in the same process and maps its file)`);
    out(`    anonymous MiB as the rows went by: ${e.along.map(([n, kb]) => `${f0(n / 1000)}k ${mb(kb)}`).join(', ')}`);
    const isolate = (x) => `the Worker's isolate (${x.heap.title}), JS heap used + ArrayBuffers: ${f1(x.heap.before / 1048576)} MiB before, ${f1(x.heap.after / 1048576)} MiB after`;
    out(`    ${isolate(e)}`);
    const a = e.again;
    out(`  the same export again: ${f0(a.rows / a.secs)} rows/s; anonymous ${mb(a.before.anon)} → peak ${mb(a.peak.anon)} MiB: ${a.along.map(([n, kb]) => `${f0(n / 1000)}k ${mb(kb)}`).join(', ')}`);
    out(`    ${isolate(a)}`);
    rows.push(['member page p99, ms', f2(quantile(rd.member.sorted, 0.99)), `≤ ${TARGET.pageP99}`, quantile(rd.member.sorted, 0.99) / TARGET.pageP99, false]);
    rows.push(['admin filtered page p99, ms', f2(quantile(rd.adminPage.sorted, 0.99)), `≤ ${TARGET.pageP99}`, quantile(rd.adminPage.sorted, 0.99) / TARGET.pageP99, false]);
    rows.push(['30-day daily stats p99, ms', f2(quantile(rd.stats.sorted, 0.99)), `≤ ${TARGET.statsP99}`, quantile(rd.stats.sorted, 0.99) / TARGET.statsP99, false]);
    rows.push(['export rows/s', f0(e.rows / e.secs), `≥ ${f0(TARGET.exportRows)}`, e.rows / e.secs / TARGET.exportRows, true]);
  }
  if (!rows.length) return;
  out('\nvs the targets');
  out('  figure                                        measured     target   ratio  verdict');
  for (const [name, value, target, ratio, higher] of rows) {
    const met = higher ? ratio >= 1 : ratio <= 1;
    out(`  ${name.padEnd(44)} ${value.padStart(9)} ${target.padStart(10)} ${f2(ratio).padStart(6)}×  ${met ? 'met' : 'NOT met'}`);
  }
}

async function main() {
  const ing = PHASES.has('ingest') ? await ingest() : null;
  const rd = PHASES.has('read') ? await read() : null;
  const ex = PHASES.has('export') ? await exportPhase() : null;
  report(ing, rd);
  if (ex) reportExport(ex);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(dir, `history-${stamp}.txt`), `${lines.join('\n')}\n`);
  console.log(`results: bench/results/history-${stamp}.txt`);
}

main().then(() => stopAll()).then(() => process.exit(0), (error) => {
  progress('');
  console.error(error instanceof Fatal ? `bench-history: ${error.message}` : error);
  stopAll().finally(() => process.exit(1));
});

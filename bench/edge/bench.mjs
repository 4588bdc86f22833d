// make bench-edge: the built callkit-edge worker vs a JS reference worker vs a
// pass-through worker, each in its own bare `workerd serve` process, against
// a static nginx upstream, with wrk. See bench/edge/README.md.
//
// Usage: node bench/edge/bench.mjs [BUILD_DIR]   (run.sh sets BENCH_TMP)

import { cpSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { request as httpRequest } from 'node:http';

import { RATELIMIT_JS, WORKERD, buildModules, writeConfig } from './capnp.mjs';
import { writeNginxConfig, upstreamBodies, JWKS_PATH } from './nginx.mjs';
import { freePort, sleep, startGroup, stopAll } from './procs.mjs';
import { BUILD, ROOT, benchSession, die, envInt, Fatal } from './session.mjs';
import { wrk } from './wrk.mjs';
import { profileWhile, summarizeAll } from './profile.mjs';
import * as tok from './tokens.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const int = envInt;
const SECS = Math.max(1, int('BENCH_SECS', 5));
const ROUNDS = Math.max(1, int('BENCH_ROUNDS', 3));
const CONNS = Math.max(1, int('BENCH_CONNECTIONS', 16));
const WARMUP_SECS = int('BENCH_WARMUP_SECS', 2);
const COLD_RUNS = Math.max(1, int('BENCH_COLD_RUNS', 5));
const ONLY = process.env.BENCH_ROUTES ? new RegExp(process.env.BENCH_ROUTES) : null;
const PROFILE = process.env.BENCH_PROFILE === '1';
const PROFILE_COLD = process.env.BENCH_PROFILE === 'cold';
const NGINX = process.env.NGINX || '/usr/sbin/nginx';
/** BENCH_BASELINE: a second build, timed in the same interleaved rounds, for A/B of one change. */
const BASELINE = process.env.BENCH_BASELINE ? resolve(ROOT, process.env.BENCH_BASELINE) : null;

const { tmp: TMP, lines, out } = benchSession('bench-edge-');

// ------------------------------------------------------------ the workers

const WORKERS = {
  rust: { label: 'callkit-edge', build: BUILD },
  ...(BASELINE && { base: { label: 'baseline', build: BASELINE } }),
  js: { label: 'JS reference', source: 'reference-worker.mjs', flags: ['nodejs_compat'] },
  pass: { label: 'pass-through', source: 'passthrough-worker.mjs' },
};
/** What callkit-edge is compared with, in the per-route lines and the summary. */
const OTHERS = [['js', 'JS reference'], ['pass', 'pass-through'], ...(BASELINE ? [['base', 'baseline']] : [])];

/** Worker settings per auth mode (src/api/auth/config.rs names). */
function settings(mode, upstream) {
  const base = {
    TENCENT_SDKAPPID: String(tok.DEMO_SDKAPPID),
    TENCENT_SECRET_KEY: tok.DEMO_KEY,
    TENCENT_API_BASE: upstream,
    TENCENT_ADMIN_IDENTIFIER: 'administrator',
    ADMIN_USERS: tok.ADMIN,
    ALLOWED_ORIGINS: '',
    // The same work as the JS reference: every read asks the upstream.
    RECORD_CACHE_SECS: '0',
    UPSTREAM_SHARED_READS: 'off',
  };
  if (mode === 'usersig') return { ...base, AUTH_MODE: 'usersig' };
  // Work the JS developer would not do: a record read once is answered from memory.
  if (mode === 'cache') return { ...base, AUTH_MODE: 'usersig', RECORD_CACHE_SECS: '3600' };
  // Also not the JS developer's: identical reads in flight together share one upstream request.
  if (mode === 'shared') return { ...base, AUTH_MODE: 'usersig', UPSTREAM_SHARED_READS: 'on' };
  if (mode === 'hs256') return { ...base, AUTH_MODE: 'jwt', JWT_SECRET: tok.JWT_SECRET };
  return {
    ...base,
    AUTH_MODE: 'jwt',
    JWT_JWKS_URL: `${upstream}${JWKS_PATH}`,
    JWT_ALG: 'RS256',
    JWT_ISSUER: tok.JWT_ISSUER,
    JWT_AUDIENCE: tok.JWT_AUDIENCE,
  };
}

/** Cold-start rows: the three workers plus two probes that isolate the wasm (wasm-probe.mjs). */
const COLD = {
  pass: 'pass-through',
  compile: 'wasm probe: compile',
  instantiate: 'wasm probe: +instantiate',
  rust: 'callkit-edge',
  ...(BASELINE && { base: 'baseline' }),
  js: 'JS reference',
};

/** Copies a worker's modules into `dir` and writes its workerd config there. */
function prepareWorker(kind, mode, dir, port, upstream) {
  mkdirSync(dir, { recursive: true });
  let modules;
  if (kind === 'compile' || kind === 'instantiate') {
    copyFileSync(join(HERE, 'wasm-probe.mjs'), join(dir, 'worker.mjs'));
    copyFileSync(join(BUILD, 'index_bg.wasm'), join(dir, 'index_bg.wasm'));
    modules = [{ name: 'worker.mjs', kind: 'esModule' }, { name: 'index_bg.wasm', kind: 'wasm' }];
    return writeConfig(dir, { port, modules, vars: { INSTANTIATE: kind === 'instantiate' ? '1' : '0' } });
  }
  if (WORKERS[kind]?.build) {
    cpSync(WORKERS[kind].build, dir, { recursive: true }); // a frozen copy: build/ may be rebuilt meanwhile
    modules = buildModules(dir);
  } else {
    copyFileSync(join(HERE, WORKERS[kind].source), join(dir, 'worker.mjs'));
    modules = [{ name: 'worker.mjs', kind: 'esModule' }];
  }
  copyFileSync(RATELIMIT_JS, join(dir, 'ratelimit.worker.js'));
  return writeConfig(dir, {
    port,
    modules,
    vars: kind === 'pass' ? { TENCENT_API_BASE: upstream } : settings(mode, upstream),
    rateLimit: kind === 'pass' ? null : { limit: 1e9, period: 60 },
    flags: WORKERS[kind].flags ?? [],
  });
}

/** Starts workerd on a prepared dir; resolves once /api/v1/health answers 200. */
async function startWorkerd(name, dir, port, inspectorPort) {
  const args = ['serve', join(dir, 'config.capnp')];
  if (inspectorPort) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const proc = startGroup(WORKERD, args, { cwd: dir, logFile: join(dir, 'workerd.log') });
  const url = `http://127.0.0.1:${port}`;
  const first = await waitHealthy(url, proc, 60_000, dir);
  return { name, url, proc, dir, first, inspectorPort };
}

/**
 * Polls health every 2 ms; returns the ms from spawn to the first 200, that request's own ms, and
 * workerd's CPU ms before it (start-up: modules compiled and evaluated) and for it.
 */
async function waitHealthy(url, proc, timeoutMs, dir) {
  const deadline = proc.started + timeoutMs;
  for (;;) {
    if (proc.exited()) die(`workerd exited (${JSON.stringify(proc.exited())}):\n${tail(join(dir, 'workerd.log'))}`);
    const sent = performance.now();
    const cpuBefore = cpuNs(proc.pid);
    const res = await get(`${url}/api/v1/health`).catch(() => null);
    if (res?.status === 200) {
      const requestMs = performance.now() - sent;
      const cpu = { startCpuMs: cpuBefore / 1e6, requestCpuMs: (cpuNs(proc.pid) - cpuBefore) / 1e6 };
      return { readyMs: performance.now() - proc.started, requestMs, ...cpu };
    }
    if (res) die(`${url}/api/v1/health answered ${res.status}: ${res.body}`);
    if (performance.now() > deadline) die(`workerd not ready in ${timeoutMs} ms:\n${tail(join(dir, 'workerd.log'))}`);
    await sleep(2);
  }
}

const tail = (file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '(no log)');

/** A plain node:http request (no keep-alive, no fetch start-up cost). */
function get(url, { method = 'GET', token, body } = {}) {
  return new Promise((resolveReq, reject) => {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body) headers['content-type'] = 'application/json';
    const req = httpRequest(url, { method, headers, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolveReq({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

// ------------------------------------------------------------ routes

function routes() {
  const sample = (f) => JSON.parse(readFileSync(join(ROOT, 'crates/callkit-core/tests/resources', f), 'utf8'));
  const callId = sample('get_call_info.request.json').CallId;
  const recordId = sample('get_record_by_callid.request.json').CallId;
  const all = [
    { name: 'GET health', mode: 'usersig', path: '/api/v1/health' },
    { name: 'GET calls/{id} usersig', mode: 'usersig', path: `/api/v1/calls/${callId}`, token: 'caller' },
    { name: 'GET records/{id} usersig', mode: 'usersig', path: `/api/v1/records/${recordId}`, token: 'caller' },
    { name: 'GET records/{id} with cache', mode: 'cache', path: `/api/v1/records/${recordId}`, token: 'caller' },
    { name: 'GET calls/{id} shared reads', mode: 'shared', path: `/api/v1/calls/${callId}`, token: 'caller' },
    { name: 'GET records?… admin', mode: 'usersig', path: '/api/v1/records?result=NormalEnd&type=SingleCall&perPage=2&page=2', token: 'admin' },
    { name: 'POST usersig', mode: 'usersig', method: 'POST', path: '/api/v1/usersig', body: '{}', token: 'caller' },
    { name: 'GET calls/{id} jwt HS256', mode: 'hs256', path: `/api/v1/calls/${callId}`, token: 'hs256' },
    { name: 'GET calls/{id} jwt RS256', mode: 'rs256', path: `/api/v1/calls/${callId}`, token: 'rs256' },
  ];
  return all.filter((r) => !ONLY || ONLY.test(r.name));
}

// ------------------------------------------------------------ checks

/** Drops what legitimately differs between two correct answers (mint times, fresh sigs). */
function comparable(text) {
  const body = JSON.parse(text);
  delete body.credentialExpiresAt;
  if ('userSig' in body) {
    body.userSig = typeof body.userSig;
    body.expiresAt = typeof body.expiresAt;
  }
  return JSON.stringify(body);
}

/** Every route answers 200 on every worker, and the reference answers what callkit-edge answers. */
async function checkRoutes(instances, tokens, list) {
  for (const r of list) {
    const answers = {};
    for (const kind of Object.keys(WORKERS)) {
      const inst = instanceFor(instances, kind, r.mode);
      const res = await get(inst.url + r.path, { method: r.method, token: tokens[r.token], body: r.body });
      if (res.status !== 200) die(`${WORKERS[kind].label} ${r.name}: HTTP ${res.status} (want 200): ${res.body.slice(0, 400)}\nlog:\n${tail(join(inst.dir, 'workerd.log'))}`);
      answers[kind] = res.body;
    }
    if (comparable(answers.rust) !== comparable(answers.js)) {
      die(`${r.name}: the JS reference answers differently from callkit-edge:\n  edge: ${answers.rust}\n  js:   ${answers.js}`);
    }
  }
  await crossCheckUserSigs(instances, tokens, list);
}

/** A UserSig minted by either worker is accepted by the other (the bench's own come from tests/integration/tokens.mjs). */
async function crossCheckUserSigs(instances, tokens, list) {
  const calls = list.find((r) => r.name === 'GET calls/{id} usersig');
  if (!calls) return;
  const rust = instanceFor(instances, 'rust', 'usersig');
  const js = instanceFor(instances, 'js', 'usersig');
  for (const [minter, verifier] of [[rust, js], [js, rust]]) {
    const minted = JSON.parse((await get(`${minter.url}/api/v1/usersig`, { method: 'POST', token: tokens.caller, body: '{}' })).body);
    const res = await get(verifier.url + calls.path, { token: minted.userSig });
    if (res.status !== 200) die(`a UserSig minted by ${minter.name} is refused by ${verifier.name}: ${res.status} ${res.body}`);
  }
}

const instanceFor = (instances, kind, mode) => instances[kind === 'pass' ? 'pass' : `${kind}-${mode}`];

/** wrk against one route of one worker instance. */
const loadRoute = (inst, r, tokens, secs) =>
  wrk(inst.url + r.path, { method: r.method, token: tokens[r.token] ?? '', body: r.body ?? '', secs, connections: CONNS });

// ------------------------------------------------------------ measuring

/** One status line, rewritten in place on a terminal; nothing when piped. */
function progress(text) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;

/** CPU ns a process's threads have run so far (schedstat: ns, where stat counts 10 ms ticks). */
function cpuNs(pid) {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* the thread ended */
    }
  }
  return ns;
}

/** CPU ms (user + system, all threads) a process has used so far, from /proc. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

async function measure(instances, tokens, list) {
  const results = Object.fromEntries(list.map((r) => [r.name, Object.fromEntries(Object.keys(WORKERS).map((k) => [k, []]))]));
  // Besides wrk's figures, the workerd process's own CPU time per answered request:
  // what Workers bill, and far less sensitive than req/s to other load on the machine.
  const load = async (r, kind, secs) => {
    const inst = instanceFor(instances, kind, r.mode);
    const before = cpuMs(inst.proc.pid);
    const res = await loadRoute(inst, r, tokens, secs);
    return { ...res, cpuUs: ((cpuMs(inst.proc.pid) - before) * 1000) / res.requests };
  };
  if (WARMUP_SECS > 0) {
    progress(`warm-up: ${WARMUP_SECS} s per route and worker`);
    for (const r of list) for (const kind of Object.keys(WORKERS)) await load(r, kind, WARMUP_SECS);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const r of list) {
      for (const kind of Object.keys(WORKERS)) {
        progress(`round ${round}/${ROUNDS}: ${r.name} on ${WORKERS[kind].label}`);
        results[r.name][kind].push(await load(r, kind, SECS));
      }
    }
  }
  progress('');
  return results;
}

/** BENCH_PROFILE=1: instead of timing, a CPU profile of each route on callkit-edge and the JS reference. */
async function profileRoutes(instances, tokens, list) {
  out(`CPU profiles (V8 sampling over workerd's inspector, ${SECS} s of wrk per worker; shares of non-idle samples)\n`);
  for (const r of list) {
    for (const kind of ['rust', 'js']) {
      const inst = instanceFor(instances, kind, r.mode);
      const load = () => loadRoute(inst, r, tokens, SECS);
      await load(); // warm-up, outside the profile
      const { categories, top } = await profileWhile(ROOT, inst.inspectorPort, load);
      out(`${r.name} on ${WORKERS[kind].label}`);
      for (const [name, share] of categories) out(`  ${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
      out('  top functions (self):');
      for (const [name, share] of top) out(`  ${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
      out();
    }
  }
}

/**
 * BENCH_PROFILE=cold: a CPU profile of each worker's first request (GET
 * /api/v1/health) in a fresh workerd, started once its inspector answers,
 * summed over BENCH_COLD_RUNS processes.
 */
async function profileColdStarts(upstream) {
  out(`CPU profiles of the first request in a fresh workerd (${COLD_RUNS} runs each; shares of non-idle samples)\n`);
  for (const kind of ['rust', ...(BASELINE ? ['base'] : []), 'js']) {
    const profiles = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      progress(`cold profile ${i + 1}/${COLD_RUNS}: ${COLD[kind]}`);
      const [port, inspectorPort] = [await freePort(), await freePort()];
      const dir = join(TMP, `coldprof-${kind}`);
      prepareWorker(kind, 'usersig', dir, port, upstream);
      const proc = startGroup(WORKERD, ['serve', join(dir, 'config.capnp'), `--inspector-addr=127.0.0.1:${inspectorPort}`], { cwd: dir, logFile: join(dir, 'workerd.log') });
      const listed = () => fetch(`http://127.0.0.1:${inspectorPort}/json/list`).then((r) => r.json(), () => []);
      for (let t = 0; (await listed()).length === 0; t++) {
        if (t > 5000 || proc.exited()) die(`workerd's inspector did not answer:\n${tail(join(dir, 'workerd.log'))}`);
        await sleep(2);
      }
      const first = async () => {
        for (let t = 0; ; t++) {
          const res = await get(`http://127.0.0.1:${port}/api/v1/health`).catch(() => null);
          if (res?.status === 200) return;
          if (res || t > 5000) die(`no first 200 from ${COLD[kind]}`);
          await sleep(2);
        }
      };
      profiles.push((await profileWhile(ROOT, inspectorPort, first)).profile);
      await proc.stop();
    }
    const { categories, top, samples } = summarizeAll(profiles);
    out(`${COLD[kind]} (${samples} samples of 200 µs): ${categories.map(([c, v]) => `${c} ${(v * 100).toFixed(0)}%`).join(', ')}`);
    for (const [fn, v] of top) out(`    ${(v * 100).toFixed(1).padStart(5)}%  ${fn}`);
    out();
  }
  progress('');
}

async function coldStarts(upstream) {
  const runs = Object.fromEntries(Object.keys(COLD).map((k) => [k, []]));
  for (let i = 0; i < COLD_RUNS; i++) {
    for (const kind of Object.keys(COLD)) {
      progress(`cold start ${i + 1}/${COLD_RUNS}: ${COLD[kind]}`);
      const port = await freePort();
      const dir = join(TMP, `cold-${kind}`);
      prepareWorker(kind, 'usersig', dir, port, upstream);
      const inst = await startWorkerd(`cold-${kind}`, dir, port);
      const sent = performance.now();
      await get(`${inst.url}/api/v1/health`);
      runs[kind].push({ ...inst.first, secondMs: performance.now() - sent });
      await inst.proc.stop();
    }
  }
  progress('');
  return runs;
}

// ------------------------------------------------------------ report

const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const ratio = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '-');

function reportRoute(r, res) {
  const row = {};
  out(`${r.method ?? 'GET'} ${r.path}   [${r.name}; median of ${ROUNDS} rounds]`);
  out(`  ${'worker'.padEnd(14)} ${'req/s'.padStart(8)} ${'(min–max)'.padStart(13)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU µs/req'.padStart(11)}  non-2xx`);
  for (const kind of Object.keys(WORKERS)) {
    const rounds = res[kind];
    const rps = rounds.map((x) => x.rps);
    const bad = rounds.reduce((a, x) => a + x.non2xx, 0);
    const sockErr = rounds.reduce((a, x) => a + x.socketErrors, 0);
    const mid = (key) => median(rounds.map((x) => x[key]));
    row[kind] = { rps: median(rps), p50: mid('p50'), p99: mid('p99'), cpuUs: mid('cpuUs'), bad, sockErr, rounds: rps };
    const flag = bad ? `${bad}  !! NON-2xx` : '0';
    const spread = `${f0(Math.min(...rps))}–${f0(Math.max(...rps))}`;
    out(`  ${WORKERS[kind].label.padEnd(14)} ${f0(row[kind].rps).padStart(8)} ${spread.padStart(13)} ${f2(row[kind].p50).padStart(8)} ${f2(row[kind].p99).padStart(8)} ${f0(row[kind].cpuUs).padStart(11)}  ${flag}${sockErr ? `  !! ${sockErr} socket errors` : ''}`);
  }
  for (const [other, label] of OTHERS) {
    const a = row.rust;
    const b = row[other];
    out(`  callkit-edge / ${label}: req/s ${ratio(a.rps, b.rps)}, p50 ${ratio(a.p50, b.p50)}, p99 ${ratio(a.p99, b.p99)}, CPU/req ${ratio(a.cpuUs, b.cpuUs)}`);
  }
  out();
  return row;
}

function reportSummary(rows) {
  out('summary: req/s (> 1× means callkit-edge serves more) and workerd CPU µs per request (> 1× means callkit-edge costs more)');
  const vsBase = BASELINE ? ` │ ${'edge/base req/s'.padStart(15)} ${'CPU'.padStart(6)}` : '';
  out(`  ${'route'.padEnd(26)} ${'edge'.padStart(6)} ${'js'.padStart(6)} ${'pass'.padStart(6)} ${'edge/js'.padStart(8)} ${'edge/pass'.padStart(9)} │ ${'edge'.padStart(5)} ${'js'.padStart(5)} ${'pass'.padStart(5)} ${'edge/js'.padStart(8)} ${'edge/pass'.padStart(9)}${vsBase}`);
  for (const [name, { rust, js, pass, base }] of Object.entries(rows)) {
    const rps = `${f0(rust.rps).padStart(6)} ${f0(js.rps).padStart(6)} ${f0(pass.rps).padStart(6)} ${ratio(rust.rps, js.rps).padStart(8)} ${ratio(rust.rps, pass.rps).padStart(9)}`;
    const cpu = `${f0(rust.cpuUs).padStart(5)} ${f0(js.cpuUs).padStart(5)} ${f0(pass.cpuUs).padStart(5)} ${ratio(rust.cpuUs, js.cpuUs).padStart(8)} ${ratio(rust.cpuUs, pass.cpuUs).padStart(9)}`;
    const ab = base ? ` │ ${ratio(rust.rps, base.rps).padStart(15)} ${ratio(rust.cpuUs, base.cpuUs).padStart(6)}` : '';
    out(`  ${name.padEnd(26)} ${rps} │ ${cpu}${ab}`);
  }
  out();
}

function reportCold(cold) {
  out(`cold start: fresh workerd process → first 200 from GET /api/v1/health (median of ${COLD_RUNS})`);
  out(`  ${'worker'.padEnd(26)} ${'spawn→200 ms'.padStart(12)} ${'vs pass'.padStart(8)} ${'1st req ms'.padStart(11)} ${'2nd req ms'.padStart(11)} │ ${'start CPU ms'.padStart(12)} ${'1st req CPU ms'.padStart(14)}`);
  const floor = median(cold.pass.map((x) => x.readyMs));
  for (const kind of Object.keys(COLD)) {
    const ready = median(cold[kind].map((x) => x.readyMs));
    const extra = kind === 'pass' ? '' : `+${f0(ready - floor)}`;
    const mid = (key) => f2(median(cold[kind].map((x) => x[key])));
    out(`  ${COLD[kind].padEnd(26)} ${f0(ready).padStart(12)} ${extra.padStart(8)} ${mid('requestMs').padStart(11)} ${mid('secondMs').padStart(11)} │ ${mid('startCpuMs').padStart(12)} ${mid('requestCpuMs').padStart(14)}`);
  }
  out('  (spawn→200 includes the 1st request. workerd compiles and evaluates every module before it listens; the probes');
  out('   import index_bg.wasm alone, the second also instantiates it with stubbed imports; callkit-edge\'s 1st request');
  out('   builds its per-isolate state and compiles, lazily, the wasm functions it calls. The CPU columns are workerd\'s');
  out('   own CPU time, all threads, from /proc/<pid>/task/*/schedstat: before the 1st request, and for it; they move');
  out('   far less than the wall-clock ones when the machine is busy)');
  out();
}

// ------------------------------------------------------------ main

function preflight() {
  for (const build of [BUILD, BASELINE].filter(Boolean)) {
    if (!existsSync(join(build, 'worker/shim.mjs')) || !existsSync(join(build, 'index_bg.wasm'))) {
      die(`no worker build in ${build} (want worker/shim.mjs and index_bg.wasm): run make build first`);
    }
  }
  for (const [path, hint] of [[WORKERD, 'npm ci'], [RATELIMIT_JS, 'npm ci'], [NGINX, 'apt-get install nginx-light']]) {
    if (!existsSync(path)) die(`${path} is missing (${hint})`);
  }
}

function header() {
  const wasm = readFileSync(join(BUILD, 'index_bg.wasm'));
  const version = execFileSync(WORKERD, ['--version'], { encoding: 'utf8' }).trim();
  let rev = '?';
  try {
    rev = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not a git checkout */
  }
  out(`bench-edge ${new Date().toISOString()}  repo ${rev}  build ${BUILD}${BASELINE ? `  baseline ${BASELINE}` : ''}`);
  out(`${version}, wrk -t1 -c${CONNS} -d${SECS}s × ${ROUNDS} interleaved rounds (+${WARMUP_SECS} s warm-up), ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, no CPU pinning`);
  out(`wasm: ${wasm.length} bytes raw, ${gzipSync(wasm, { level: 9 }).length} bytes gzip (index_bg.wasm)`);
  out('each worker and auth mode is its own workerd process; upstream: nginx (1 worker) with the documented samples');
  out();
}

async function startUpstream() {
  const dir = join(TMP, 'nginx');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = writeNginxConfig(dir, { port, bodies: upstreamBodies(ROOT) });
  const proc = startGroup(NGINX, ['-p', dir, '-c', conf, '-e', join(dir, 'logs/error.log'), '-g', 'daemon off;'], { logFile: join(dir, 'nginx.log') });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exited()) die(`nginx exited:\n${tail(join(dir, 'nginx.log'))}\n${tail(join(dir, 'logs/error.log'))}`);
    const res = await get(`${url}/health`).catch(() => null);
    if (res?.status === 200) return url;
    if (i > 500) die('nginx did not start');
    await sleep(10);
  }
}

async function startInstances(upstream, list) {
  const wanted = new Set(list.flatMap((r) => [`rust-${r.mode}`, `js-${r.mode}`, ...(BASELINE ? [`base-${r.mode}`] : [])]));
  wanted.add('pass');
  const instances = {};
  for (const name of wanted) {
    const [kind, mode = 'usersig'] = name.split('-');
    const port = await freePort();
    const dir = join(TMP, name);
    prepareWorker(kind, mode, dir, port, upstream);
    instances[name] = await startWorkerd(name, dir, port, PROFILE && kind !== 'pass' ? await freePort() : null);
  }
  return instances;
}

async function main() {
  preflight();
  header();
  const list = routes();
  const tokens = tok.benchTokens(ROOT);
  const upstream = await startUpstream();
  const instances = await startInstances(upstream, list);
  await checkRoutes(instances, tokens, list);
  out(`checked: every route answers 200 on every worker; the JS reference answers what callkit-edge answers; UserSigs minted by either are accepted by the other\n`);
  if (PROFILE_COLD) {
    for (const inst of Object.values(instances)) await inst.proc.stop();
    await profileColdStarts(upstream);
    save({ profile: 'cold' });
    return 0;
  }
  if (PROFILE) {
    await profileRoutes(instances, tokens, list);
    save({ profile: true });
    return 0;
  }
  const results = await measure(instances, tokens, list);
  for (const inst of Object.values(instances)) await inst.proc.stop();
  const rows = Object.fromEntries(list.map((r) => [r.name, reportRoute(r, results[r.name])]));
  reportSummary(rows);
  const cold = await coldStarts(upstream);
  reportCold(cold);
  const bad = Object.values(rows).reduce((a, row) => a + Object.values(row).reduce((b, w) => b + w.bad, 0), 0);
  if (bad) out(`!! ${bad} non-2xx answers during the timed runs: these figures are not valid`);
  save({ rows, results, cold });
  return bad ? 1 : 0;
}

function save(data) {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const rounds of Object.values(data.results ?? {})) for (const runs of Object.values(rounds)) for (const x of runs) delete x.raw;
  writeFileSync(join(dir, `edge-${stamp}.txt`), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, `edge-${stamp}.json`), `${JSON.stringify({ build: BUILD, secs: SECS, rounds: ROUNDS, connections: CONNS, ...data }, null, 1)}\n`);
  console.log(`results: bench/results/edge-${stamp}.txt (and .json)`);
}

main()
  .catch((err) => {
    console.error(err instanceof Fatal ? `bench-edge: ${err.message}` : err);
    return 1;
  })
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  });

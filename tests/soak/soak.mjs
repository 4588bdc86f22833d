// Soak under faults: the built worker (bare workerd by default, or
// `SOAK_RUNTIME=wrangler` for wrangler dev) against the
// emulator for SOAK_SECS seconds (default 60), with SOAK_CLIENTS concurrent
// clients (default 24) mixing every route and many users (the live board's
// too: webhooks, the board, tickets and sockets), while the emulator
// injects delays, HTML 502s, dropped connections (before and after running the
// command) and Tencent error codes (rate limits, overload, unknown).
//
// Every answer is checked:
//   - no 5xx but the documented upstream mappings (502 upstream_* / admin_*,
//     503 upstream_unavailable, 504 upstream_timeout);
//   - every error is problem+json with a stable code;
//   - no secret (key, admin sig, another caller's token or UserSig) in any
//     answer, and a minted UserSig is always the caller's own;
//   - a non-admin sees only calls and records they are in;
//   - a non-admin's board (`GET /api/v1/live/calls`, and the snapshot of a
//     live socket opened with a ticket) holds only calls they are in;
// and at the end:
//   - at least one `start_call_by_robot` succeeded, and none ran twice for
//     one request (each request uses its own robot account; the emulator's
//     live calls are counted per robot);
//   - the worker's log (workerd.log) holds no secret, token or UserSig;
//   - the workerd isolate's memory is stable (RSS sampled every second: the
//     last third may not grow past the first third by more than SOAK_RSS_MB).
// Prints `N passed, M failed` on its own line; exits 1 on any failure.
//
// Prerequisites: `make build emulator`.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import {
  assertNoSecrets,
  collectSecrets,
  httpRequest,
  sleep,
  startEmulator,
  startWorker,
  userSigsIn,
  within,
} from '../integration/harness.mjs';
import { DEMO_KEY, decodeUserSig, mintUserSig } from '../integration/tokens.mjs';
import { startBareWorker } from '../integration/bare-workerd.mjs';

const SECS = Number(process.env.SOAK_SECS ?? 60);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 24);
const RSS_GROWTH_MB = Number(process.env.SOAK_RSS_MB ?? 64);

const USERS = Array.from({ length: 16 }, (_, i) => `user${i}`);
const ADMINS = Array.from({ length: 6 }, (_, i) => `ops${i}`);
const TOKENS = Object.fromEntries([...USERS, ...ADMINS].map((u) => [u, mintUserSig(u)]));
const ADMIN_SIG = mintUserSig('administrator');
const WEBHOOK_URL_KEY = `soak-webhook-key-${randomUUID()}`;
const OK_5XX = {
  502: /^(upstream_(unreachable|bad_gateway|bad_response|error|configuration)|admin_(usersig_expired|credential_rejected|credential_invalid))$/,
  503: /^upstream_unavailable$/,
  504: /^upstream_timeout$/,
};

const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const failures = []; // the first 50, printed at the end
let passed = 0;
let failedCount = 0;
let answered = 0; // each leaves an audit line
const tally = new Map();

/** `always`: the end-of-run checks, printed even past the first 50. */
function fail(where, why, { always = false } = {}) {
  if (failures.length < 50 || always) failures.push(`${where}: ${why}`);
  failedCount += 1;
}

// ------------------------------------------------------------ the world

const emulator = await startEmulator({ recordDelayMs: 0, rateLimit: 0 });
// Bare workerd by default: its RSS is the worker's own (see ../integration/bare-workerd.mjs).
const start = process.env.SOAK_RUNTIME === 'wrangler' ? startWorker : startBareWorker;
const worker = await start({
  emulator,
  vars: { ADMIN_USERS: ADMINS.join(','), UPSTREAM_TIMEOUT_MS: '3500', UPSTREAM_DEADLINE_MS: '9000', WEBHOOK_URL_KEY },
  callBoard: true, // bare workerd: bind the board as wrangler.toml does
});
const secrets = collectSecrets({ secretKey: DEMO_KEY, userSigs: [ADMIN_SIG], emulatorUrl: emulator.url });
const liveCalls = [];
const robotsAsked = new Set();

async function newCall() {
  const [caller, ...callees] = [pick(USERS), pick(USERS), pick(USERS)].filter((u, i, a) => a.indexOf(u) === i);
  if (!callees.length) return;
  try {
    const { callId } = await emulator.control.createCall({ caller, callees, mediaType: pick(['Audio', 'Video']) });
    if (Math.random() < 0.5) await emulator.control.act(callId, 'answer', callees[0]);
    liveCalls.push({ callId, members: [caller, ...callees] });
    // The board hears of it as Tencent would tell it.
    await deliver({
      CallbackCommand: 'Call.CallbackAfterStartCall',
      CallInfo: { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: '', RoomIdType: 1 },
      UserList: [caller, ...callees].map((u, i) => ({ User_Account: u, Status: i ? 'Waiting' : 'Calling' })),
      EventTime: Date.now(),
    });
    if (liveCalls.length > 200) liveCalls.shift();
  } catch {
    /* the emulator refused a move: fine */
  }
}

/** A webhook to the board, proven by the URL key; checked like every answer. */
async function deliver(event) {
  const path = `/api/v1/webhooks/tencent?SdkAppid=1400000000&CallbackCommand=${event.CallbackCommand}&key=${WEBHOOK_URL_KEY}`;
  const req = { who: 'tencent', method: 'POST', path, body: event };
  let res;
  try {
    res = await httpRequest(`${worker.url}${path}`, { method: 'POST', body: event, timeoutMs: 20_000 });
  } catch (e) {
    fail('webhook', `no answer: ${e.message}`);
    return;
  }
  record(req, res);
}

// ------------------------------------------------------------ faults

const FAULTS = [
  () => ({ kind: 'delay', delayMs: 100 + Math.floor(Math.random() * 1500), count: 3 }),
  () => ({ kind: 'delay', delayMs: 4_000, count: 1 }), // past UPSTREAM_TIMEOUT_MS: a timeout
  () => ({ kind: 'html502', count: 2 }),
  () => ({ kind: 'drop', count: 1 }),
  () => ({ kind: 'drop', count: 1, command: 'start_call_by_robot', afterExecute: true }),
  () => ({ kind: 'drop', count: 1, command: 'end_call', afterExecute: true }),
  () => ({ kind: 'error', errorCode: pick([60007, 60018, 60008, 101001, 424242]), count: 2 }),
];

async function injectFaults(until) {
  while (Date.now() < until) {
    try {
      await emulator.control.faults(pick(FAULTS)());
    } catch (e) {
      fail('faults', e.message);
    }
    await sleep(150 + Math.random() * 300);
  }
}

// ------------------------------------------------------------ requests

function plan() {
  const admin = Math.random() < 0.3;
  const who = admin ? pick(ADMINS) : pick(USERS);
  const call = pick(liveCalls);
  const someCall = call && Math.random() < 0.8 ? call.callId : randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const routes = [
    ['GET', '/api/v1/health'],
    ['GET', '/api/v1/openapi.json'],
    ['GET', `/api/v1/calls/${someCall}`],
    ['POST', `/api/v1/calls/${someCall}/end`],
    ['GET', `/api/v1/records/${someCall}`],
    ['GET', `/api/v1/records?start=${now - 3600}&perPage=${1 + Math.floor(Math.random() * 100)}`],
    ['GET', '/api/v1/callback'],
    ['PUT', '/api/v1/callback', { url: 'https://hooks.example/callkit', commands: ['Call.CallbackAfterEndCall'] }],
    ['DELETE', '/api/v1/callback'],
    ['POST', '/api/v1/usersig'],
    ['POST', '/api/v1/calls', null],
    ['GET', '/api/v1/live/calls'],
    ['POST', '/api/v1/live/ticket'],
  ];
  // SOAK_ONLY=<path prefix> narrows the mix, to tell apart what grows memory.
  const only = process.env.SOAK_ONLY;
  const [method, path, body] = pick(only ? routes.filter(([, p]) => p.startsWith(only)) : routes);
  if (body === null) {
    const robot = `r-${randomUUID().slice(0, 28)}`;
    // The callee is the robot's alone, so no other client ends the call.
    return { who, method, path, robot, body: { robot, callees: [`c${robot}`], mediaType: 'Audio', timeoutMs: 600_000 } };
  }
  return { who, method, path, body };
}

async function one() {
  const req = plan();
  if (req.robot && ADMINS.includes(req.who)) robotsAsked.add(req.robot);
  const headers = { authorization: `Bearer ${TOKENS[req.who]}` };
  let res;
  try {
    res = await httpRequest(`${worker.url}${req.path}`, { method: req.method, headers, body: req.body, timeoutMs: 20_000 });
  } catch (e) {
    fail(`${req.method} ${req.path}`, `no answer: ${e.message}`);
    return;
  }
  record(req, res);
}

/** Tallies and checks one answer. */
function record(req, res) {
  answered += 1;
  const route = req.path.split('?')[0].replace(/\/(calls|records)\/[^/]+/, '/$1/{callId}');
  const key = `${req.method} ${route} ${res.status}${res.status >= 400 ? ` ${res.json?.code}` : ''}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  const errors = check(req, res);
  if (errors.length) errors.forEach((e) => fail(`${req.who} ${req.method} ${req.path.split('?')[0]} → ${res.status}`, e));
  else passed += 1;
}

/** The calls on a board that `who` may not see: none, unless an admin. */
const foreignCalls = (who, calls) =>
  ADMINS.includes(who) ? [] : calls.filter((c) => c.caller !== who && !c.members.some((m) => m.userId === who));

/** Someone opens a live socket with a ticket and reads its snapshot. */
async function socketClient(until) {
  while (Date.now() < until) {
    const who = Math.random() < 0.3 ? pick(ADMINS) : pick(USERS);
    const where = `${who} live socket`;
    try {
      const ticket = await httpRequest(`${worker.url}/api/v1/live/ticket`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS[who]}` },
        timeoutMs: 20_000,
      });
      record({ who, method: 'POST', path: '/api/v1/live/ticket' }, ticket);
      if (ticket.status !== 200) continue;
      const ws = new WebSocket(`${worker.url.replace(/^http/, 'ws')}/api/v1/live?ticket=${ticket.json.ticket}`);
      const snapshot = await within(
        new Promise((resolve, reject) => {
          ws.once('message', (data) => resolve(JSON.parse(data.toString())));
          ws.once('error', reject);
          ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
        }),
        20_000,
        'the snapshot',
      ).finally(() => ws.close());
      if (snapshot.type !== 'snapshot') fail(where, `first message ${snapshot.type}`);
      else if (foreignCalls(who, snapshot.calls).length) fail(where, "a snapshot shows a call the user is not in");
      else passed += 1;
      tally.set('socket snapshot', (tally.get('socket snapshot') ?? 0) + 1);
    } catch (e) {
      fail(where, e.message);
    }
    await sleep(200);
  }
}

function check(req, res) {
  const errors = [];
  const text = `${res.text}\n${JSON.stringify(res.headers)}`;
  for (const s of secrets) if (text.includes(s.value) && !s.caseInsensitive) errors.push(`leaks the ${s.name}`);
  if (/usersig=/i.test(text)) errors.push('leaks an upstream query');
  for (const [user, token] of Object.entries(TOKENS)) if (text.includes(token)) errors.push(`leaks ${user}'s token`);
  for (const sig of userSigsIn(text)) {
    if (decodeUserSig(sig)['TLS.identifier'] !== req.who) errors.push('carries a UserSig of someone else');
  }
  if (res.status >= 400) {
    const code = res.json?.code;
    if (!/^application\/problem\+json/.test(res.headers['content-type'] ?? '') || typeof code !== 'string') {
      errors.push(`not a problem+json: ${res.text.slice(0, 200)}`);
    }
    if (res.status >= 500 && !OK_5XX[res.status]?.test(code ?? '')) errors.push(`undocumented ${res.status} ${code}`);
  }
  if (res.status === 200 && req.path === '/api/v1/live/calls' && foreignCalls(req.who, res.json.calls).length) {
    errors.push("the board shows a call the caller is not in");
  }
  if (res.status === 200 && !ADMINS.includes(req.who)) {
    if (req.path.startsWith('/api/v1/calls/') && req.method === 'GET') {
      if (!res.json.members.some((m) => m.userId === req.who)) errors.push("shows a call the caller is not in");
    }
    if (req.path.startsWith('/api/v1/records/')) {
      const r = res.json.record;
      if (r.caller !== req.who && !r.callees.includes(req.who)) errors.push("shows a record the caller is not in");
    }
  }
  return errors;
}

// ------------------------------------------------------------ memory

/** The workerd process serving the worker's port (miniflare's entry socket), and its name. */
function workerdPid() {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${worker.port}`], { encoding: 'utf8' });
  const m = out.match(/\("([^"]+)",pid=(\d+)/);
  if (!m) return null;
  console.log(`sampling RSS of ${m[1]} (pid ${m[2]}) on port ${worker.port}`);
  return Number(m[2]);
}

const rssMb = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m);
  return line ? Number(line[1]) / 1024 : NaN;
};

/** RSS every second, after a warm-up: V8 grows its heap for the load first (~20 s). */
async function sampleMemory(pid, until, samples) {
  await sleep(Math.min(20_000, (until - Date.now()) / 3));
  while (Date.now() < until) {
    try {
      samples.push(rssMb(pid));
    } catch {
      /* gone: reported below */
    }
    await sleep(1_000);
  }
}

// ------------------------------------------------------------ run

const started = Date.now();
const until = started + SECS * 1_000;
const pid = workerdPid();
const samples = [];
try {
  for (let i = 0; i < 10; i += 1) await newCall();
  const calls = (async () => {
    while (Date.now() < until) {
      await newCall();
      await sleep(200);
    }
  })();
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < until) await one();
  });
  await Promise.all([injectFaults(until), sampleMemory(pid, until, samples), calls, socketClient(until), ...clients]);
  await emulator.control.clearFaults();

  // start_call_by_robot: each request has its own robot, so at most one call each.
  const { calls: live } = await httpRequest(`${emulator.url}/_emulator/calls`).then((r) => r.json);
  const perRobot = new Map();
  for (const c of live) if (robotsAsked.has(c.caller)) perRobot.set(c.caller, (perRobot.get(c.caller) ?? 0) + 1);
  const twice = [...perRobot].filter(([, n]) => n > 1);
  const counters = await emulator.control.counters();
  // "Never twice" means nothing unless some start went through.
  if (!perRobot.size || !counters.succeeded.start_call_by_robot) fail('start_call_by_robot', 'no robot call was ever started', { always: true });
  else if (twice.length) fail('start_call_by_robot', `${twice.length} requests started more than one call`, { always: true });
  else passed += 1;

  // Memory: the last third against the first third of the samples.
  if (!pid || samples.length < 6) fail('memory', `too few RSS samples (${samples.length}, pid ${pid})`, { always: true });
  else {
    const third = Math.floor(samples.length / 3);
    const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [early, late] = [avg(samples.slice(0, third)), avg(samples.slice(-third))];
    console.log(`workerd RSS: first third ${early.toFixed(1)} MB, last third ${late.toFixed(1)} MB, max ${Math.max(...samples).toFixed(1)} MB`);
    console.log(`RSS every 5 s (MB): ${samples.filter((_, i) => i % 5 === 0).map((x) => x.toFixed(0)).join(' ')}`);
    if (late - early > RSS_GROWTH_MB) fail('memory', `RSS grew by ${(late - early).toFixed(1)} MB`, { always: true });
    else passed += 1;
  }

  // The log: its audit lines are there, and no secret, token or UserSig among them.
  try {
    const logs = worker.logs();
    const audited = logs.split('\n').filter((l) => l.includes('"kind":"audit"')).length;
    if (audited < answered) throw new Error(`only ${audited} audit lines for ${answered} answers`);
    const forbidden = collectSecrets({
      secretKey: DEMO_KEY,
      userSigs: [ADMIN_SIG, ...Object.values(TOKENS)],
      emulatorUrl: emulator.url,
      extra: [WEBHOOK_URL_KEY],
    });
    assertNoSecrets(logs, forbidden, 'the worker log');
    if (userSigsIn(logs).length) throw new Error('the worker log holds a UserSig');
    passed += 1;
  } catch (e) {
    fail('log sweep', e.message, { always: true });
  }

  const seconds = (Date.now() - started) / 1000;
  console.log(`soak: ${SECS}s, ${CLIENTS} clients, ${passed + failedCount} checks in ${seconds.toFixed(0)} s`);
  console.log(`start_call_by_robot: ${robotsAsked.size} requests, ${counters.received.start_call_by_robot ?? 0} received, ${counters.succeeded.start_call_by_robot ?? 0} ran, ${perRobot.size} live`);
  console.log('answers by route and status:');
  for (const [k, n] of [...tally].sort()) console.log(`  ${k}: ${n}`);
} finally {
  await worker.stop();
  await emulator.stop();
}
for (const f of failures) console.log(`FAIL ${f}`);
console.log(`${passed} passed, ${failedCount} failed`);
process.exit(failedCount ? 1 : 0);

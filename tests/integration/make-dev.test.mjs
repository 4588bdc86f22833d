// `make dev`'s first start shows data (issue 18): the real scripts/dev.sh,
// as `make dev` runs it after `make build emulator`, on free ports with a
// fresh state directory and settings file. Through the API, with the demo
// admin token it serves to the console (/dev-tokens.json), the call ledger
// holds the emulator's records imported by the backfill and the simulated
// calls heard through the webhooks, and the live board answers. Then every
// process dev.sh started is gone after a SIGTERM, as after Ctrl-C.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertNoSecrets, collectSecrets, freePort, httpRequest, sleep } from './harness.mjs';

const READY_MS = 60_000;
const DATA_MS = 40_000;
// More than the default 6 a minute, so one starts within seconds; the same path.
const SIMULATE_PER_MINUTE = '30';

let dir;
let dev;
let output = '';
let base;
let emulatorUrl;
const answers = [];
// Process groups seen under dev.sh (each child runs in its own session).
const groups = new Set();

/** pid → { ppid, pgid } of every process, from ps. */
function processTable() {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid='], { encoding: 'utf8' }).trim().split('\n');
  return rows.map((r) => r.trim().split(/\s+/).map(Number)).map(([pid, ppid, pgid]) => ({ pid, ppid, pgid }));
}

/** Adds the process groups of dev.sh's descendants to `groups`. */
function noteGroups() {
  const table = processTable();
  const mine = new Set([dev.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of table) {
      if (mine.has(p.ppid) && !mine.has(p.pid)) {
        mine.add(p.pid);
        grew = true;
      }
    }
  }
  for (const p of table) if (mine.has(p.pid)) groups.add(p.pgid);
}

const groupsAlive = () => {
  const live = new Set(processTable().map((p) => p.pgid));
  return [...groups].filter((g) => live.has(g));
};

/** SIGTERM to dev.sh's group (as Ctrl-C would), then waits; returns the groups left. */
async function stopDev(waitMs = 20_000) {
  if (!dev) return [];
  const exited = dev.exitCode !== null || dev.signalCode !== null;
  if (!exited) {
    noteGroups();
    try {
      process.kill(-dev.pid, 'SIGTERM');
    } catch {}
    const deadline = Date.now() + waitMs;
    while (dev.exitCode === null && dev.signalCode === null && Date.now() < deadline) await sleep(100);
  }
  const deadline = Date.now() + 5_000;
  while (groupsAlive().length && Date.now() < deadline) await sleep(100);
  const left = groupsAlive();
  for (const g of [...left, dev.pid]) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {}
  }
  dev = undefined;
  return left;
}

async function api(path, token) {
  const res = await httpRequest(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  answers.push({ path, res });
  return res;
}

async function waitFor(what, ms, probe) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last.ok) return last.value;
    await sleep(500);
  }
  assert.fail(`${what} within ${ms} ms: ${last?.why}\n--- dev.sh output (tail) ---\n${output.slice(-3000)}`);
}

/** Every call of the ledger's history, page by page (newest first). */
async function history(token) {
  const calls = [];
  let cursor;
  for (let page = 0; page < 20; page++) {
    const q = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
    const res = await api(`/api/v1/history?${q}`, token);
    assert.equal(res.status, 200, `GET /api/v1/history → ${res.status}: ${res.text}`);
    calls.push(...res.json.calls);
    cursor = res.json.nextCursor;
    if (!cursor) break;
  }
  return calls;
}

describe('make dev: first start', { timeout: 110_000 }, () => {
  let adminToken;
  let tokens;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callkit-make-dev-'));
    const [port, emulatorPort, relayPort] = [await freePort(), await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
    dev = spawn('bash', ['scripts/dev.sh'], {
      cwd: ROOT,
      // Its own process group: the SIGTERM reaches dev.sh, which stops its children.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DEV_PORT: String(port),
        CALLKIT_EMULATOR_LISTEN: `127.0.0.1:${emulatorPort}`,
        RELAY_BACKEND_PORT: String(relayPort),
        DEV_SIMULATE_CALLS: SIMULATE_PER_MINUTE,
        DEV_STATE_DIR: join(dir, 'dev'),
        DEV_ASSETS_DIR: join(dir, 'dev-assets'),
        // Absent: dev.sh writes it from .dev.vars.example, as on a first start.
        DEV_VARS_FILE: join(dir, '.dev.vars'),
      },
    });
    dev.stdout.on('data', (d) => (output += d));
    dev.stderr.on('data', (d) => (output += d));
    await waitFor('dev.sh printed "callkit-edge is running."', READY_MS, async () => {
      if (dev.exitCode !== null) return { ok: false, why: `dev.sh exited with ${dev.exitCode}` };
      return { ok: output.includes('callkit-edge is running.'), why: 'not yet' };
    });
    noteGroups();
  });

  after(async () => {
    await stopDev();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the console serves the demo tokens; dev.sh started the backfill', async () => {
    const res = await httpRequest(`${base}/dev-tokens.json`);
    assert.equal(res.status, 200);
    tokens = res.json.tokens.map((t) => t.token);
    adminToken = res.json.tokens.find((t) => /admin/i.test(t.label))?.token;
    assert.ok(adminToken, 'a demo admin token');
    assert.match(output, /history\s+importing the last 7 days/, 'dev.sh reports the backfill started');
    assert.match(output, /webhooks\s+http:\/\/127\.0\.0\.1:\d+\/api\/v1\/webhooks\/tencent \(signed/);
  });

  test('GET /api/v1/history has backfilled calls and simulated calls', async () => {
    const found = await waitFor('backfilled and simulated calls in the ledger', DATA_MS, async () => {
      const calls = await history(adminToken);
      // The emulator's seeded records: known only from the backfill.
      const backfilled = calls.filter((c) => c.sources?.start === 'record' && c.sources?.record === 'backfill');
      // The simulated calls: heard from the emulator's signed start webhook.
      const simulated = calls.filter((c) => c.sources?.start === 'webhook');
      const why = `${calls.length} calls: ${backfilled.length} backfilled, ${simulated.length} from webhooks`;
      return { ok: backfilled.length > 0 && simulated.length > 0, value: { backfilled, simulated }, why };
    });
    for (const c of found.backfilled) {
      assert.equal(c.state, 'ended', `${c.callId}: a backfilled record is an ended call`);
      assert.ok(c.endedAt >= c.startedAt && c.members.length >= 2, `${c.callId}: a whole record`);
    }
    const users = new Set(found.simulated.flatMap((c) => c.members));
    assert.ok([...users].some((u) => ['alice', 'bob', 'carol', 'dave', 'erin'].includes(u)), 'among the demo users');
    const status = await api('/api/v1/history/backfill', adminToken);
    assert.equal(status.status, 200, status.text);
  });

  test('GET /api/v1/live/calls answers', async () => {
    const res = await api('/api/v1/live/calls', adminToken);
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.json.calls) && res.json.summary, 'a board page');
  });

  test('no answer carries a secret', async () => {
    const vars = await readFile(join(dir, '.dev.vars'), 'utf8');
    const relay = await readFile(join(dir, 'dev', 'relay.env'), 'utf8');
    const value = (text, name) => text.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1]?.replace(/^"|"$/g, '');
    const secrets = collectSecrets({
      secretKey: value(vars, 'TENCENT_SECRET_KEY'),
      tokens,
      emulatorUrl,
      extra: [
        value(vars, 'TENCENT_CALLBACK_TOKEN'),
        value(relay, 'WEBHOOK_FORWARD_SECRET'),
        value(relay, 'TRTC_CALLBACK_KEY'),
      ].filter(Boolean),
    });
    assert.ok(secrets.length >= 6, 'the key, the tokens and the run secrets are swept');
    assert.ok(answers.length >= 3);
    for (const { path, res } of answers) assertNoSecrets(res, secrets, `GET ${path}`);
  });

  test('SIGTERM stops every process dev.sh started', async () => {
    noteGroups();
    assert.ok(groups.size >= 3, `dev.sh, the emulator, the relay backend, wrangler: ${groups.size} groups`);
    const left = await stopDev();
    assert.deepEqual(left, [], 'process groups left after dev.sh stopped');
  });
});

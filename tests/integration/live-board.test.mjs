// The live call board: the emulator sends real, signed webhooks to the built
// worker, whose CallBoard Durable Object keeps the board that
// `GET /api/v1/live/calls` and the live socket show (docs/live-board.md).

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  assertAuditTrail,
  assertCleanWorker,
  assertProblem,
  auditLines,
  collectSecrets,
  httpRequest,
  sentTokens,
  sleep,
  startEmulator,
  startWorker,
} from './harness.mjs';
import { DEMO_KEY, DEMO_SDKAPPID, mintUserSig } from './tokens.mjs';

const TOKEN = 'live-board-callback-token-0123456789abcdef';
const URL_KEY = 'live-board-url-key-fedcba9876543210';
const COMMANDS = ['Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterEndCall'];
const WAIT_MS = 10_000;

const admin = mintUserSig('administrator');
// Polling admins take turns, so the per-identity rate limit (120 / 60 s) is never reached.
const POLLERS = Array.from({ length: 10 }, (_, i) => `poller${i}`);
const pollerTokens = POLLERS.map((p) => mintUserSig(p));
let turn = 0;
const poller = () => pollerTokens[turn++ % pollerTokens.length];
const users = Object.fromEntries(['alice', 'bob', 'carol'].map((u) => [u, mintUserSig(u)]));

let emulator;
let worker;
let persistDir;
const workerVars = {
  TENCENT_CALLBACK_TOKEN: TOKEN,
  WEBHOOK_URL_KEY: URL_KEY,
  LIVE_RECONCILE_AFTER_SECS: '2',
  ADMIN_USERS: ['administrator', ...POLLERS].join(','),
};

const nowSecs = () => Math.floor(Date.now() / 1000);
const sign = (time) => createHash('sha256').update(`${TOKEN}${time}`).digest('hex');

/** POSTs a webhook the way Tencent does; `query` overrides the proof. */
function deliver(body, { query, time = nowSecs(), sdkappid = DEMO_SDKAPPID, raw } = {}) {
  const params = new URLSearchParams({
    SdkAppid: String(sdkappid),
    CallbackCommand: body?.CallbackCommand ?? 'x',
    contenttype: 'json',
    ClientIP: '127.0.0.1',
    OptPlatform: 'RESTAPI',
    ...(query ?? { Sign: sign(time), RequestTime: String(time) }),
  });
  return worker.request('POST', `/api/v1/webhooks/tencent?${params}`, {
    body: raw ?? JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
}

async function board(token = poller()) {
  const res = await worker.request('GET', '/api/v1/live/calls', { token });
  assert.equal(res.status, 200, res.text);
  return res.json.calls;
}

/** Polls the board until `pred(call)` holds for `callId`. */
async function waitForCall(callId, pred = () => true, token) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  for (;;) {
    last = (await board(token)).find((c) => c.callId === callId);
    if (last && pred(last)) return last;
    if (Date.now() > deadline) assert.fail(`call ${callId} not as expected: ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

async function configureCallback(commands = COMMANDS) {
  const res = await worker.request('PUT', '/api/v1/callback', {
    token: admin,
    body: { url: `${worker.url}/api/v1/webhooks/tencent`, commands },
  });
  assert.equal(res.status, 200, res.text);
}

const startEvent = (callId, at, users = [['alice', 'Calling'], ['bob', 'Waiting']]) => ({
  CallbackCommand: 'Call.CallbackAfterStartCall',
  CallInfo: { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: '', RoomIdType: 1 },
  UserList: users.map(([u, s]) => ({ User_Account: u, Status: s })),
  EventTime: at,
});
const memberEvent = (callId, at, present, changed = []) => ({
  CallbackCommand: 'Call.CallbackAfterMemberChanged',
  CallId: callId,
  UserList: present.map(([u, s]) => ({ User_Account: u, Status: s })),
  ChangedUserList: changed.map(([u, a]) => ({ User_Account: u, ActionType: a })),
  EventTime: at,
});
const endEvent = (callId, at) => ({
  CallbackCommand: 'Call.CallbackAfterEndCall',
  CallRecord: {
    CallId: callId, Caller_Account: 'alice', MediaType: 'Audio', CallType: 'SingleCall',
    StartTime: Math.floor(at / 1000) - 10, EndTime: Math.floor(at / 1000), AcceptTime: 0,
    CallResult: 'NormalEnd', CalleeList_Account: ['alice', 'bob'], RoomId: '', RoomIdType: 1,
  },
  EventTime: at,
});

/** A live socket for `token`, collecting its messages. */
async function openSocket(token) {
  const ticket = await worker.request('POST', '/api/v1/live/ticket', { token });
  assert.equal(ticket.status, 200, ticket.text);
  assert.match(ticket.json.ticket, /^[0-9a-f]{138,200}$/); // signed by the edge (issue 20)
  assert.equal(ticket.json.expiresIn, 30);
  const ws = new WebSocket(`ws://127.0.0.1:${worker.port}/api/v1/live?ticket=${ticket.json.ticket}`);
  const messages = [];
  ws.on('message', (data) => {
    const text = data.toString();
    if (text !== 'pong') messages.push(JSON.parse(text));
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`socket refused: ${res.statusCode}`)));
  });
  const waitFor = async (pred, label) => {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const hit = messages.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) assert.fail(`no socket message ${label}: ${JSON.stringify(messages)}`);
      await sleep(50);
    }
  };
  return { ws, messages, waitFor, ticket: ticket.json.ticket, close: () => ws.close() };
}

/** The status an upgrade to `/api/v1/live` with `ticket` is refused with. */
function refusedUpgrade(ticket) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${worker.port}/api/v1/live${ticket === undefined ? '' : `?ticket=${ticket}`}`);
    ws.once('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    ws.once('error', () => {});
  });
}

before(async () => {
  emulator = await startEmulator({ extraArgs: ['--webhook-token', TOKEN] });
  persistDir = await mkdtemp(join(tmpdir(), 'callkit-live-'));
  worker = await startWorker({ emulator, vars: workerVars, persistDir });
});

after(async () => {
  await worker?.stop();
  await emulator?.stop();
  if (persistDir) await rm(persistDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await emulator.control.reset();
  await configureCallback();
});

describe('the board follows calls from real webhooks', () => {
  test('a call that starts, is answered and ends in the emulator shows each step', async () => {
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'], mediaType: 'Video' });
    let call = await waitForCall(callId);
    assert.equal(call.state, 'live');
    assert.equal(call.mediaType, 'Video');
    assert.equal(call.caller, 'alice');
    assert.deepEqual(call.members.map((m) => [m.userId, m.status]), [['alice', 'Calling'], ['bob', 'Waiting']]);

    await emulator.control.act(callId, 'answer', 'bob');
    call = await waitForCall(callId, (c) => c.members.find((m) => m.userId === 'bob')?.status === 'Calling');
    assert.equal(call.members.find((m) => m.userId === 'bob').lastAction, 'Answer');

    await emulator.control.act(callId, 'hangup', 'bob');
    call = await waitForCall(callId, (c) => c.state === 'ended');
    assert.equal(call.endedBy, 'webhook');
    assert.equal(call.callResult, 'NormalEnd');
    assert.ok(call.members.every((m) => m.status === 'Left'), JSON.stringify(call.members));
  });

  test('members see their own calls only; admins see all', async () => {
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'] });
    await waitForCall(callId);
    assert.ok((await board(users.alice)).some((c) => c.callId === callId), 'the caller sees it');
    assert.ok((await board(users.bob)).some((c) => c.callId === callId), 'the callee sees it');
    assert.ok(!(await board(users.carol)).some((c) => c.callId === callId), 'carol must not see it');
  });

  test('ACTION_POLICY can restrict the board to admins', { timeout: 120_000 }, async () => {
    const strict = await startWorker({ emulator, vars: { ...workerVars, ACTION_POLICY: 'live_calls=admin,live_ticket=off' } });
    try {
      assertProblem(await strict.request('GET', '/api/v1/live/calls', { token: users.alice }), 403, 'forbidden');
      assert.equal((await strict.request('GET', '/api/v1/live/calls', { token: admin })).status, 200);
      assertProblem(await strict.request('POST', '/api/v1/live/ticket', { token: admin }), 403, 'action_disabled');
      assertProblem(await strict.request('GET', '/api/v1/live/calls'), 401, 'token_missing');
    } finally {
      await strict.stop();
    }
  });
});

describe('the receiver refuses what it cannot trust, and applies nothing of it', () => {
  const callId = () => `forged-${Math.random().toString(16).slice(2)}`;

  async function assertAbsent(id) {
    assert.ok(!(await board()).some((c) => c.callId === id), `${id} was applied`);
  }

  test('a forged Sign, a stale RequestTime, a wrong key, another SdkAppid, an oversized body', async () => {
    const id = callId();
    const body = startEvent(id, Date.now());
    const time = nowSecs();
    const cases = [
      [{ Sign: sign(time).replace(/^./, (c) => (c === 'a' ? 'b' : 'a')), RequestTime: String(time) }, 401, 'webhook_unauthenticated'],
      [{ Sign: createHash('sha256').update(`guess${time}`).digest('hex'), RequestTime: String(time) }, 401, 'webhook_unauthenticated'],
      [{ Sign: sign(time - 120), RequestTime: String(time - 120) }, 401, 'webhook_unauthenticated'],
      [{ Sign: sign(time + 120), RequestTime: String(time + 120) }, 401, 'webhook_unauthenticated'],
      [{ key: `${URL_KEY}x` }, 401, 'webhook_unauthenticated'],
      [{ key: URL_KEY.toUpperCase() }, 401, 'webhook_unauthenticated'],
      [{}, 401, 'webhook_unauthenticated'],
    ];
    for (const [query, status, code] of cases) {
      const res = await deliver(body, { query });
      assertProblem(res, status, code, JSON.stringify(query));
      assert.ok(!res.text.includes(TOKEN) && !res.text.includes(URL_KEY));
    }
    assertProblem(await deliver(body, { sdkappid: 1400000001 }), 400, 'wrong_sdkappid');
    const big = { ...body, Padding: 'x'.repeat(64 * 1024) };
    assertProblem(await deliver(big), 413, 'body_too_large');
    assertProblem(await deliver(null, { raw: '{"CallbackCommand":' }), 400, 'invalid_webhook');
    assertProblem(await deliver({ CallbackCommand: 'Call.CallbackAfterEndCall', EventTime: 1 }), 400, 'invalid_webhook');
    await assertAbsent(id);
    // The same body with a good proof is applied: the refusals were about the proof.
    assert.equal((await deliver(body)).status, 200);
    await waitForCall(id);
  });

  test('a proven webhook with outlandish names neither breaks the board nor its sockets', async () => {
    const watcher = await openSocket(admin);
    try {
      const id = `odd-${Date.now()}`;
      const long = 'x'.repeat(300);
      const res = await deliver(startEvent(id, Date.now(), [[long, 'Calling'], ['bob', 'Waiting'], ['ü "</script>', 'Waiting']]));
      assert.equal(res.status, 200, res.text);
      const call = await waitForCall(id);
      assert.equal(call.caller, long);
      await watcher.waitFor((m) => m.type === 'call' && m.call.callId === id, 'the odd call');
      // The board still works for everyone afterwards.
      const next = `after-odd-${Date.now()}`;
      assert.equal((await deliver(startEvent(next, Date.now()))).status, 200);
      await waitForCall(next);
      await watcher.waitFor((m) => m.type === 'call' && m.call.callId === next, 'the next call');
    } finally {
      watcher.close();
    }
  });

  test('the URL key alone is proof enough', async () => {
    const id = callId();
    const res = await deliver(startEvent(id, Date.now()), { query: { key: URL_KEY } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0 });
    await waitForCall(id);
  });

  test('an unknown CallbackCommand is answered OK and ignored', async () => {
    const res = await deliver({ CallbackCommand: 'Call.CallbackBeforeSomething', CallId: 'x' });
    assert.equal(res.status, 200);
    assert.equal(res.json.ActionStatus, 'OK');
  });

  test('without either secret the receiver is misconfigured', { timeout: 120_000 }, async () => {
    const bare = await startWorker({ emulator });
    try {
      const res = await bare.request('POST', '/api/v1/webhooks/tencent?SdkAppid=1400000000', { body: '{}' });
      assertProblem(res, 503, 'misconfigured');
      assert.match(res.json.detail, /TENCENT_CALLBACK_TOKEN or WEBHOOK_URL_KEY/);
    } finally {
      await bare.stop();
    }
  });
});

describe('delivery order and repetition', () => {
  test('a replay is answered OK and applied once', async () => {
    const id = `replay-${Date.now()}`;
    const time = nowSecs();
    const body = startEvent(id, Date.now());
    const first = await deliver(body, { time });
    const again = await deliver(body, { time });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, first.json);
    await waitForCall(id);
    const replays = auditLines(worker.logs()).filter((l) => l.callId === id && /replayed/.test(l.detail ?? ''));
    assert.equal(replays.length, 1, 'the second delivery was recognised as a replay');
  });

  test('out-of-order events: a late start keeps newer members, a late change never revives an end', async () => {
    const id = `order-${Date.now()}`;
    const t0 = Date.now();
    await deliver(memberEvent(id, t0 + 2_000, [['alice', 'Calling'], ['bob', 'Calling']], [['bob', 'Answer']]));
    await deliver(startEvent(id, t0));
    let call = await waitForCall(id, (c) => c.mediaType === 'Audio');
    assert.equal(call.members.find((m) => m.userId === 'bob').status, 'Calling', 'the newer list stands');
    assert.equal(call.startedAt, t0);

    await deliver(endEvent(id, t0 + 9_000));
    await deliver(memberEvent(id, t0 + 5_000, [['alice', 'Calling'], ['bob', 'Calling'], ['carol', 'Waiting']]));
    call = await waitForCall(id, (c) => c.state === 'ended');
    await sleep(300);
    call = (await board()).find((c) => c.callId === id);
    assert.equal(call.state, 'ended');
    assert.ok(!call.members.some((m) => m.userId === 'carol'), 'the late list was not applied');
  });

  test('a call whose end webhook is lost is ended by the alarm', async () => {
    // Tencent stops telling us about ends: the board must find out itself.
    await configureCallback(COMMANDS.filter((c) => c !== 'Call.CallbackAfterEndCall'));
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'] });
    await waitForCall(callId);
    await emulator.control.act(callId, 'hangup', 'alice');
    const call = await waitForCall(callId, (c) => c.state === 'ended');
    assert.equal(call.endedBy, 'reconcile');
    assert.ok(call.members.every((m) => m.status === 'Left'));
  });
});

describe('pruning', () => {
  test('an ended call leaves the board after LIVE_KEEP_ENDED_SECS, and sockets are told', { timeout: 120_000 }, async () => {
    const short = await startWorker({ emulator, vars: { ...workerVars, LIVE_KEEP_ENDED_SECS: '2' } });
    const shortPoll = (token) => short.request('GET', '/api/v1/live/calls', { token });
    try {
      const id = `prune-${Date.now()}`;
      const send = (body) =>
        short.request('POST', `/api/v1/webhooks/tencent?SdkAppid=${DEMO_SDKAPPID}&key=${URL_KEY}`, { body: JSON.stringify(body) });
      const ticket = (await short.request('POST', '/api/v1/live/ticket', { token: admin })).json.ticket;
      const ws = new WebSocket(`ws://127.0.0.1:${short.port}/api/v1/live?ticket=${ticket}`);
      const messages = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      assert.equal((await send(startEvent(id, Date.now()))).status, 200);
      assert.equal((await send(endEvent(id, Date.now()))).status, 200);
      assert.ok((await shortPoll(poller())).json.calls.some((c) => c.callId === id && c.state === 'ended'));
      const deadline = Date.now() + 15_000;
      while ((await shortPoll(poller())).json.calls.some((c) => c.callId === id)) {
        if (Date.now() > deadline) assert.fail('the ended call was never pruned');
        await sleep(300);
      }
      const removed = messages.find((m) => m.type === 'removed' && m.callId === id);
      assert.ok(removed, `no removed message: ${JSON.stringify(messages)}`);
      ws.close();
    } finally {
      await short.stop();
    }
  });
});

describe('live sockets', () => {
  test('a snapshot, then every change, filtered per viewer', async () => {
    const { callId: earlier } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'] });
    await waitForCall(earlier);
    const adminSocket = await openSocket(admin);
    const alice = await openSocket(users.alice);
    const carol = await openSocket(users.carol);
    try {
      const snap = await alice.waitFor((m) => m.type === 'snapshot', 'snapshot');
      assert.ok(snap.calls.some((c) => c.callId === earlier));
      assert.ok(Number.isInteger(snap.now));
      const carolSnap = await carol.waitFor((m) => m.type === 'snapshot', 'snapshot');
      assert.ok(!carolSnap.calls.some((c) => c.callId === earlier), 'carol sees no call of others');

      const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'] });
      await alice.waitFor((m) => m.type === 'call' && m.call.callId === callId, 'for the new call');
      await adminSocket.waitFor((m) => m.type === 'call' && m.call.callId === callId, 'for the admin');
      await emulator.control.act(callId, 'answer', 'bob');
      await alice.waitFor(
        (m) => m.type === 'call' && m.call.members.some((x) => x.userId === 'bob' && x.status === 'Calling'),
        'for the answer',
      );
      await sleep(300);
      const leaked = carol.messages.filter((m) => JSON.stringify(m).includes(callId) || JSON.stringify(m).includes(earlier));
      assert.deepEqual(leaked, [], 'a member never sees another user\'s call on the socket');

      // `ping` is answered without the object waking up.
      const pong = new Promise((resolve) => alice.ws.once('message', (d) => resolve(d.toString())));
      alice.ws.send('ping');
      assert.equal(await pong, 'pong');
    } finally {
      adminSocket.close();
      alice.close();
      carol.close();
    }
  });

  test('a page of a foreign origin may not open the socket, even with a ticket', async () => {
    const ticketFor = async () => (await worker.request('POST', '/api/v1/live/ticket', { token: users.alice })).json.ticket;
    const open = (origin, ticket) =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${worker.port}/api/v1/live?ticket=${ticket}`, { origin });
        ws.once('open', () => {
          ws.close();
          resolve({ status: 101 });
        });
        ws.once('unexpected-response', (_req, res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
        });
        ws.once('error', () => {});
      });
    const foreign = await open('http://evil.test', await ticketFor());
    assert.equal(foreign.status, 403);
    assert.equal(foreign.json.code, 'forbidden');
    assert.equal((await open('http://allowed.test', await ticketFor())).status, 101, 'an ALLOWED_ORIGINS page');
    assert.equal((await open(worker.url, await ticketFor())).status, 101, 'the edge\'s own pages');
    // The socket's audit line names whom its ticket was issued to.
    await sleep(300);
    const opened = auditLines(worker.logs()).filter((l) => l.action === 'live_socket' && l.status === 101);
    assert.ok(opened.length > 0 && opened.every((l) => typeof l.identity === 'string'), JSON.stringify(opened));
  });

  test('one user holds at most 8 sockets: a ninth closes the oldest with 4008', async () => {
    const sockets = [];
    try {
      for (let i = 0; i < 8; i += 1) sockets.push(await openSocket(users.bob));
      const closed = new Promise((resolve) => sockets[0].ws.once('close', (code) => resolve(code)));
      sockets.push(await openSocket(users.bob));
      assert.equal(await closed, 4008);
      await sleep(200);
      const open = sockets.filter((s) => s.ws.readyState === WebSocket.OPEN).length;
      assert.equal(open, 8, 'the other eight stay open');
      // Another user's sockets are not counted with bob's.
      const other = await openSocket(users.carol);
      other.close();
    } finally {
      for (const s of sockets) s.close();
    }
  });

  test('a ticket opens one socket; bad, used or missing tickets and plain GETs are refused', async () => {
    const first = await openSocket(users.alice);
    first.close();
    const used = await refusedUpgrade(first.ticket);
    assert.equal(used.status, 401);
    assert.equal(used.json.code, 'invalid_ticket');
    assert.equal((await refusedUpgrade('0'.repeat(64))).status, 401);
    assert.equal((await refusedUpgrade('not-a-ticket')).status, 401);
    assert.equal((await refusedUpgrade()).status, 401);
    // Text no header can carry (a line break, NUL) is an unknown ticket too, not a 500.
    for (const text of ['ab\ncd', 'ab\rcd', 'a\u0000b', '\u{30a6c}é\u0e00']) {
      const unusual = await refusedUpgrade(encodeURIComponent(text));
      assert.deepEqual([unusual.status, unusual.json.code], [401, 'invalid_ticket'], JSON.stringify(text));
    }
    assertProblem(await worker.request('GET', '/api/v1/live'), 400, 'upgrade_required');
    assertProblem(await worker.request('POST', '/api/v1/live/ticket'), 401, 'token_missing');
  });
});

describe('state survives an eviction', () => {
  // Its own worker with the default periods: the main one's 1 s alarm never lets the object idle.
  test('the object is evicted while its sockets hibernate; the board and the socket carry on', { timeout: 150_000 }, async () => {
    const quiet = await startWorker({ emulator, vars: { ...workerVars, LIVE_RECONCILE_AFTER_SECS: null } });
    const send = (body) =>
      quiet.request('POST', `/api/v1/webhooks/tencent?SdkAppid=${DEMO_SDKAPPID}&key=${URL_KEY}`, { body: JSON.stringify(body) });
    const loads = () => (quiet.logs().match(/"kind":"board","event":"loaded"/g) ?? []).length;
    const before = `pre-evict-${Date.now()}`;
    assert.equal((await send(startEvent(before, Date.now()))).status, 200);
    const ticket = (await quiet.request('POST', '/api/v1/live/ticket', { token: admin })).json.ticket;
    const ws = new WebSocket(`ws://127.0.0.1:${quiet.port}/api/v1/live?ticket=${ticket}`);
    const messages = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const loaded = loads();
      // workerd evicts an idle object whose sockets all hibernate after some 30 s here.
      await sleep(45_000);
      const after = `post-evict-${Date.now()}`;
      assert.equal((await send(startEvent(after, Date.now()))).status, 200);
      await eventually(() => messages.some((m) => m.type === 'call' && m.call.callId === after), 'the change after the idle time');
      assert.ok(loads() > loaded, 'the object was loaded again: it had been evicted');
      const calls = (await quiet.request('GET', '/api/v1/live/calls', { token: poller() })).json.calls;
      assert.ok(calls.some((c) => c.callId === before), 'the calls from before the eviction are still there');
    } finally {
      ws.close();
      await quiet.stop();
    }
  });
});

async function eventually(check, label, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`never: ${label}`);
    await sleep(50);
  }
}

describe('state survives a restart', () => {
  test('the board is the same after the runtime restarts', { timeout: 120_000 }, async () => {
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'] });
    const before = await waitForCall(callId);
    const port = worker.port;
    const secrets = collectSecrets({
      secretKey: DEMO_KEY,
      userSigs: [admin, ...pollerTokens, ...Object.values(users)],
      tokens: sentTokens(worker),
      emulatorUrl: emulator.url,
      extra: [TOKEN, URL_KEY],
    });
    await assertAuditTrail(worker, 'live worker', 5_000, { external: ['receive_webhook', 'live_socket'] });
    await assertCleanWorker(worker, secrets, 'live worker');
    await worker.stop();
    worker = await startWorker({ emulator, vars: workerVars, persistDir, port });
    const afterRestart = await waitForCall(callId);
    assert.deepEqual(afterRestart, before);
  });
});

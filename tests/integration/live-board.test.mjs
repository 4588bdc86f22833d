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
  pointCallbackAt,
  sendWebhook,
  sentTokens,
  sleep,
  startEmulator,
  startWorker,
  webhookSign,
  within,
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
const sign = (time) => webhookSign(TOKEN, time);

/** POSTs a webhook the way Tencent does; `query` overrides the proof. */
const deliver = (body, options) => sendWebhook(worker, TOKEN, body, options);

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

const configureCallback = (commands = COMMANDS) => pointCallbackAt(worker, admin, commands);

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
async function openSocket(token, target = worker) {
  const ticket = await target.request('POST', '/api/v1/live/ticket', { token });
  assert.equal(ticket.status, 200, ticket.text);
  assert.match(ticket.json.ticket, /^[0-9a-f]{138,200}$/); // signed by the edge (issue 20)
  assert.equal(ticket.json.expiresIn, 30);
  const ws = new WebSocket(`ws://127.0.0.1:${target.port}/api/v1/live?ticket=${ticket.json.ticket}`);
  const messages = [];
  ws.on('message', (data) => {
    const text = data.toString();
    if (text !== 'pong') messages.push(JSON.parse(text));
  });
  await within(
    new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`socket refused: ${res.statusCode}`)));
    }),
    WAIT_MS,
    'the socket to open',
  );
  const waitFor = async (pred, label, ms = WAIT_MS) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = messages.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) assert.fail(`no socket message ${label}: ${JSON.stringify(messages)}`);
      await sleep(50);
    }
  };
  return { ws, messages, waitFor, ticket: ticket.json.ticket, close: () => ws.close() };
}

/**
 * The code the server closes `ws` with. ws's 'close' event waits for the TCP
 * connection to end, which the server side leaves open here until ws gives up
 * (30 s): once the server's close frame is in (CLOSING), the socket is dropped.
 */
function closeCode(ws) {
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (ws.readyState === WebSocket.CLOSING) ws.terminate();
    }, 20);
    ws.once('close', (code) => {
      clearInterval(poll);
      resolve(code);
    });
    ws.once('error', (e) => {
      clearInterval(poll);
      reject(e);
    });
  });
}

/** Whether `socket` answers a ping (true) or is closed first (false). */
function answersPing({ ws }) {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
  const answer = new Promise((resolve, reject) => {
    const onMessage = (data) => {
      if (data.toString() !== 'pong') return;
      ws.off('message', onMessage);
      resolve(true);
    };
    ws.on('message', onMessage);
    ws.once('close', () => resolve(false));
    ws.once('error', reject);
  });
  ws.send('ping');
  return within(answer, WAIT_MS, 'a pong');
}

/**
 * How an upgrade to `/api/v1/live` with `ticket` (and `origin`, when given) is
 * answered: `{ status, json }` when refused, `{ status: 101 }` when accepted
 * (the socket is closed again at once).
 */
function upgrade(ticket, { origin, target = worker } = {}) {
  const query = ticket === undefined ? '' : `?ticket=${ticket}`;
  return within(
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${target.port}/api/v1/live${query}`, origin ? { origin } : {});
      ws.once('open', () => {
        ws.close();
        resolve({ status: 101 });
      });
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
      });
      ws.once('error', reject);
    }),
    WAIT_MS,
    `the upgrade with ticket ${ticket}`,
  );
}

/** The status an upgrade to `/api/v1/live` with `ticket` is refused with. */
async function refusedUpgrade(ticket, options) {
  const res = await upgrade(ticket, options);
  assert.notEqual(res.status, 101, 'the upgrade was accepted');
  return res;
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
    const policy = 'live_calls=admin,live_ticket=off,live_socket=off,receive_webhook=off';
    const strict = await startWorker({ emulator, vars: { ...workerVars, ACTION_POLICY: policy } });
    try {
      assertProblem(await strict.request('GET', '/api/v1/live/calls', { token: users.alice }), 403, 'forbidden');
      assert.equal((await strict.request('GET', '/api/v1/live/calls', { token: admin })).status, 200);
      assertProblem(await strict.request('POST', '/api/v1/live/ticket', { token: admin }), 403, 'action_disabled');
      assertProblem(await strict.request('GET', '/api/v1/live/calls'), 401, 'token_missing');
      // `off` refuses the socket before its ticket is looked at, and a proven webhook before it is read.
      const socket = await refusedUpgrade('a'.repeat(64), { target: strict });
      assert.deepEqual([socket.status, socket.json.code], [403, 'action_disabled'], 'live_socket=off');
      const id = `off-${Date.now()}`;
      const hook = await strict.request('POST', `/api/v1/webhooks/tencent?SdkAppid=${DEMO_SDKAPPID}&key=${URL_KEY}`, {
        body: JSON.stringify(startEvent(id, Date.now())),
      });
      assertProblem(hook, 403, 'action_disabled', 'receive_webhook=off');
      const calls = (await strict.request('GET', '/api/v1/live/calls', { token: admin })).json.calls;
      assert.ok(!calls.some((c) => c.callId === id), 'a webhook the policy turned off was applied');
      await sweep(strict, 'strict worker', ['live_socket']);
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
      await sweep(bare, 'worker without webhook secrets');
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
    // Every delivery is accepted: a refused late event must not pass as "not applied".
    const accepted = async (body, label) => {
      const res = await deliver(body);
      assert.equal(res.status, 200, `${label}: ${res.text}`);
      assert.equal(res.json.ActionStatus, 'OK', label);
    };
    // The receiver answers once the board has applied: the board is read without waiting.
    const now = async () => (await board()).find((c) => c.callId === id);
    const watcher = await openSocket(admin);
    try {
      await accepted(memberEvent(id, t0 + 2_000, [['alice', 'Calling'], ['bob', 'Calling']], [['bob', 'Answer']]), 'the newer change');
      await accepted(startEvent(id, t0), 'the late start');
      let call = await now();
      assert.equal(call.mediaType, 'Audio', 'the late start filled in what the change could not say');
      assert.equal(call.members.find((m) => m.userId === 'bob').status, 'Calling', 'the newer list stands');
      assert.equal(call.startedAt, t0);

      await accepted(endEvent(id, t0 + 9_000), 'the end');
      await accepted(memberEvent(id, t0 + 5_000, [['alice', 'Calling'], ['bob', 'Calling'], ['carol', 'Waiting']]), 'the late change');
      call = await now();
      assert.equal(call.state, 'ended');
      assert.ok(!call.members.some((m) => m.userId === 'carol'), 'the late list was not applied');

      // A sentinel: the board tells its sockets in order, so once the next call's message is
      // here, a message the late change caused would be here too.
      const sentinel = `order-sentinel-${Date.now()}`;
      await accepted(startEvent(sentinel, Date.now()), 'the sentinel');
      await watcher.waitFor((m) => m.type === 'call' && m.call.callId === sentinel, 'for the sentinel');
      const about = watcher.messages.filter((m) => m.type === 'call' && m.call.callId === id);
      const ended = about.findIndex((m) => m.call.state === 'ended');
      assert.ok(ended >= 0, `no message of the end: ${JSON.stringify(about)}`);
      assert.deepEqual(about.slice(ended + 1), [], 'a message about the call after its end');
    } finally {
      watcher.close();
    }
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

describe('the same event again, and Tencent failing a check', () => {
  test('a duplicate with a fresh proof (Tencent\'s retry) changes nothing and tells no socket; a URL-key replay is one too', async () => {
    const watcher = await openSocket(admin);
    try {
      const id = `dup-${Date.now()}`;
      const body = startEvent(id, Date.now());
      const time = nowSecs();
      assert.equal((await deliver(body, { time })).status, 200);
      await watcher.waitFor((m) => m.type === 'call' && m.call.callId === id, 'the first delivery');
      // The same body with another Sign and RequestTime: not a replay, but nothing new.
      const retry = await deliver(body, { time: time + 1 });
      assert.equal(retry.status, 200, retry.text);
      assert.deepEqual(retry.json, { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0 });
      // The same body twice with the URL key: the second is a replay.
      const keyed = `dup-key-${Date.now()}`;
      const keyedBody = startEvent(keyed, Date.now());
      for (let i = 0; i < 2; i += 1) {
        const res = await deliver(keyedBody, { query: { key: URL_KEY } });
        assert.equal(res.status, 200, res.text);
      }
      // The sentinel's message comes after any the deliveries above caused.
      const sentinel = `dup-sentinel-${Date.now()}`;
      assert.equal((await deliver(startEvent(sentinel, Date.now()))).status, 200);
      await watcher.waitFor((m) => m.type === 'call' && m.call.callId === sentinel, 'the sentinel');
      const about = (callId) => watcher.messages.filter((m) => m.type === 'call' && m.call.callId === callId).length;
      assert.equal(about(id), 1, 'the duplicate was sent to the socket');
      assert.equal(about(keyed), 1, 'the URL-key replay was sent to the socket');
      const replayed = (callId) =>
        auditLines(worker.logs()).filter((l) => l.callId === callId && /replayed/.test(l.detail ?? '')).length;
      await eventually(() => replayed(keyed) === 1, 'the URL-key replay\'s audit line');
      assert.equal(replayed(id), 0, 'a fresh proof is not a replay');
    } finally {
      watcher.close();
    }
  });

  test('a check Tencent answers with an error leaves the call live', { timeout: 60_000 }, async () => {
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'] });
    await waitForCall(callId);
    // The 2 s reconcile ends the calls of earlier tests (gone from the reset emulator): once this
    // is the only live call, every check the emulator counts is about it.
    const liveIds = async () => (await board()).filter((c) => c.state === 'live').map((c) => c.callId);
    const settle = Date.now() + 20_000;
    while ((await liveIds()).join() !== callId) {
      if (Date.now() > settle) assert.fail(`other calls stay live: ${await liveIds()}`);
      await sleep(300);
    }
    await emulator.control.faults({ kind: 'error', errorCode: 424242, count: 1_000, command: 'get_call_info' });
    const checks = async () => (await emulator.control.counters()).received.get_call_info ?? 0;
    const base = await checks();
    const deadline = Date.now() + 20_000;
    const now = async () => (await board()).find((c) => c.callId === callId);
    while ((await checks()) < base + 2) {
      const call = await now();
      assert.equal(call?.state, 'live', `ended by a failed check: ${JSON.stringify(call)}`);
      if (Date.now() > deadline) assert.fail(`fewer than two checks after the fault: ${(await checks()) - base}`);
      await sleep(300);
    }
    await emulator.control.clearFaults();
    const call = await now();
    assert.equal(call.state, 'live', JSON.stringify(call));
    assert.equal(call.endedBy, null);
  });
});

describe('pruning', () => {
  const KEEP_SECS = 6;

  test('an ended call leaves the board after LIVE_KEEP_ENDED_SECS, not before, and sockets are told; a live one stays', { timeout: 120_000 }, async () => {
    const short = await startWorker({ emulator, vars: { ...workerVars, LIVE_KEEP_ENDED_SECS: String(KEEP_SECS) } });
    const shortBoard = async () => {
      const res = await short.request('GET', '/api/v1/live/calls', { token: poller() });
      assert.equal(res.status, 200, res.text);
      return res.json.calls;
    };
    const send = async (body) => {
      const res = await short.request('POST', `/api/v1/webhooks/tencent?SdkAppid=${DEMO_SDKAPPID}&key=${URL_KEY}`, { body: JSON.stringify(body) });
      assert.equal(res.status, 200, res.text);
    };
    try {
      // A call Tencent knows to be live: the 2 s reconcile finds it so and keeps it.
      const { callId: live } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'] });
      await send(startEvent(live, Date.now()));
      const watcher = await openSocket(admin, short);
      try {
        const id = `prune-${Date.now()}`;
        await send(startEvent(id, Date.now()));
        const endSent = Date.now();
        await send(endEvent(id, Date.now()));
        // Still shown until shortly before its time is up.
        while (Date.now() < endSent + (KEEP_SECS - 1.5) * 1000) {
          const calls = await shortBoard();
          assert.ok(calls.some((c) => c.callId === id && c.state === 'ended'), `pruned ${Date.now() - endSent} ms after its end`);
          await sleep(500);
        }
        await watcher.waitFor((m) => m.type === 'removed' && m.callId === id, 'removed', 15_000);
        const after = Date.now() - endSent;
        assert.ok(after >= KEEP_SECS * 1000, `removed ${after} ms after its end`);
        const calls = await shortBoard();
        assert.ok(!calls.some((c) => c.callId === id), 'the pruned call is still listed');
        assert.ok(calls.some((c) => c.callId === live && c.state === 'live'), 'the live call beside it was removed');
        assert.ok(!watcher.messages.some((m) => m.type === 'removed' && m.callId === live), 'a removed message for the live call');
      } finally {
        watcher.close();
      }
      await sweep(short, 'short-keep worker');
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
      assert.equal(await answersPing(alice), true);
    } finally {
      adminSocket.close();
      alice.close();
      carol.close();
    }
  });

  test('a page of a foreign origin may not open the socket, even with a ticket', async () => {
    const ticketFor = async () => (await worker.request('POST', '/api/v1/live/ticket', { token: users.alice })).json.ticket;
    const linesBefore = auditLines(worker.logs()).length;
    const foreign = await upgrade(await ticketFor(), { origin: 'http://evil.test' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.json.code, 'forbidden');
    const allowedTicket = await ticketFor();
    assert.equal((await upgrade(allowedTicket, { origin: 'http://allowed.test' })).status, 101, 'an ALLOWED_ORIGINS page');
    assert.equal((await upgrade(await ticketFor(), { origin: worker.url })).status, 101, 'the edge\'s own pages');
    const spent = await upgrade(allowedTicket, { origin: 'http://allowed.test' });
    assert.deepEqual([spent.status, spent.json?.code], [401, 'invalid_ticket'], 'a spent ticket, from an allowed page');
    // One audit line per upgrade, in order; an opened socket's names whom its ticket was issued to.
    const want = [[403, 'forbidden'], [101, 'alice'], [101, 'alice'], [401, 'invalid_ticket']];
    const socketLines = () =>
      auditLines(worker.logs())
        .slice(linesBefore)
        .filter((l) => l.action === 'live_socket')
        .map((l) => [l.status, l.status === 101 ? l.identity : l.code]);
    await eventually(() => socketLines().length >= want.length, 'the socket audit lines');
    assert.deepEqual(socketLines(), want);
  });

  test('one user holds at most 8 sockets: a ninth closes the oldest with 4008', async () => {
    const sockets = [];
    try {
      for (let i = 0; i < 8; i += 1) sockets.push(await openSocket(users.bob));
      const closed = closeCode(sockets[0].ws);
      sockets.push(await openSocket(users.bob));
      assert.equal(await within(closed, WAIT_MS, 'the oldest socket to close'), 4008);
      await sockets.at(-1).waitFor((m) => m.type === 'snapshot', 'the ninth socket\'s snapshot');
      assert.equal(sockets.filter((s) => s.ws.readyState === WebSocket.OPEN).length, 8, 'the other eight stay open');
      // Another user's sockets are not counted with bob's: carol's socket closes none of his.
      const other = await openSocket(users.carol);
      await other.waitFor((m) => m.type === 'snapshot', 'carol\'s snapshot');
      other.close();
      // A ping answered on each of bob's sockets: a close sent before it would have come first.
      const alive = await Promise.all(sockets.slice(1).map(answersPing));
      assert.deepEqual(alive, Array(8).fill(true), 'all eight of bob\'s sockets are still open after carol\'s');
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
  // The idle time also proves three promises that need as long: tickets expire after 30 s,
  // pings are answered without waking the object, and "newest first" after a late touch.
  test('the object is evicted while its sockets hibernate and pinged; the board and the socket carry on', { timeout: 150_000 }, async () => {
    const quiet = await startWorker({ emulator, vars: { ...workerVars, LIVE_RECONCILE_AFTER_SECS: null } });
    const send = (body) =>
      quiet.request('POST', `/api/v1/webhooks/tencent?SdkAppid=${DEMO_SDKAPPID}&key=${URL_KEY}`, { body: JSON.stringify(body) });
    const quietBoard = async () => (await quiet.request('GET', '/api/v1/live/calls', { token: poller() })).json.calls;
    const loads = () => (quiet.logs().match(/"kind":"board","event":"loaded"/g) ?? []).length;
    const before = `pre-evict-${Date.now()}`;
    assert.equal((await send(startEvent(before, Date.now()))).status, 200);
    const watcher = await openSocket(admin, quiet);
    // Taken now, never used: it has expired once the idle time is over.
    const unused = await quiet.request('POST', '/api/v1/live/ticket', { token: users.alice });
    assert.equal(unused.status, 200, unused.text);
    let pings;
    try {
      await watcher.waitFor((m) => m.type === 'snapshot', 'the snapshot');
      const loaded = loads();
      // workerd evicts an idle object whose sockets all hibernate after some 30 s here;
      // a ping every 5 s meanwhile, each answered, must not keep it awake.
      const idleUntil = Date.now() + 45_000;
      pings = 0;
      while (Date.now() < idleUntil) {
        assert.equal(await answersPing(watcher), true, `ping ${pings + 1} was not answered`);
        pings += 1;
        await sleep(Math.min(5_000, Math.max(0, idleUntil - Date.now())));
      }
      assert.ok(pings >= 9, `${pings} pings in 45 s`);
      const expired = await refusedUpgrade(unused.json.ticket, { target: quiet });
      assert.deepEqual([expired.status, expired.json.code], [401, 'invalid_ticket'], 'a ticket 45 s old');
      const after = `post-evict-${Date.now()}`;
      assert.equal((await send(startEvent(after, Date.now()))).status, 200);
      await watcher.waitFor((m) => m.type === 'call' && m.call.callId === after, 'the change after the idle time');
      // The object's "loaded" line may reach wrangler dev's piped log a little after the change
      // it served reached the socket.
      await eventually(() => loads() > loaded, 'the object was loaded again: it had been evicted (the pings did not wake it)', 10_000);
      let order = (await quietBoard()).map((c) => c.callId);
      assert.ok(order.includes(before), 'the calls from before the eviction are still there');
      // Newest first: the call heard of last (here by an event) leads, however old the call.
      assert.deepEqual([order.indexOf(after), order.indexOf(before)], [0, 1], JSON.stringify(order));
      const touched = memberEvent(before, Date.now(), [['alice', 'Calling'], ['bob', 'Calling']], [['bob', 'Answer']]);
      assert.equal((await send(touched)).status, 200);
      order = (await quietBoard()).map((c) => c.callId);
      assert.deepEqual([order.indexOf(before), order.indexOf(after)], [0, 1], JSON.stringify(order));
      await sweep(quiet, 'quiet worker');
    } finally {
      watcher.close();
      await quiet.stop();
    }
  });
});

/**
 * The end-of-suite sweep of `target` (the main worker, or an extra one before it
 * stops): an audit line per answer, and no secret in any answer or log line.
 * `external`: the actions of requests the test did not send through `request`.
 */
async function sweep(target, label, external = ['live_socket']) {
  const secrets = collectSecrets({
    secretKey: DEMO_KEY,
    userSigs: [admin, ...pollerTokens, ...Object.values(users)],
    tokens: sentTokens(target),
    emulatorUrl: emulator.url,
    extra: [TOKEN, URL_KEY],
  });
  await assertAuditTrail(target, label, 5_000, { external });
  assert.ok((await assertCleanWorker(target, secrets, label)) > 0, `${label}: no answers to sweep`);
}

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
    await sweep(worker, 'live worker', ['receive_webhook', 'live_socket']);
    await worker.stop();
    worker = await startWorker({ emulator, vars: workerVars, persistDir, port });
    const afterRestart = await waitForCall(callId);
    assert.deepEqual(afterRestart, before);
  });
});

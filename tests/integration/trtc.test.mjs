// TRTC's room and media callbacks (docs/trtc-events.md) at the built worker:
// `POST /api/v1/webhooks/trtc` proven by `Sign` over the raw bytes, taken once
// per event, refused when forged, from another app, oversized, stale or
// without a key; each accepted event relayed to the app's backend (docs/relay.md).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { assertAuditTrail, assertCleanWorker, assertProblem, collectSecrets, sentTokens, shardOf, sleep, startEmulator, startWorker } from './harness.mjs';
import { DEMO_KEY, DEMO_SDKAPPID } from './tokens.mjs';
import { startSink } from './relay-sink.mjs';
import { FORWARD_SECRET, TOKEN, deliver, eventually, newCallId, relayVars, startEvent } from './relay-common.mjs';
import { mintUserSig } from './tokens.mjs';
import WebSocket from 'ws';

const KEY = 'trtcKey0123456789abcdefABCDEF';
let emulator;
let worker;
let sink;

before(async () => {
  emulator = await startEmulator();
  sink = await startSink({ secret: FORWARD_SECRET, label: 'backend' });
  worker = await startWorker({ emulator, vars: relayVars([sink], { TRTC_CALLBACK_KEY: KEY }) });
});

after(async () => {
  await worker?.stop();
  await emulator?.stop();
  await sink?.stop();
});

const sign = (body, key = KEY) => createHmac('sha256', key).update(body).digest('base64');
let serial = 0;

/** A TRTC event body, tab-formatted as Tencent sends it. */
function eventBody({ type = 103, group = Math.floor(type / 100), room = 8489, user = 'alice', at = Date.now() } = {}) {
  const info = { RoomId: room, EventTs: Math.floor(at / 1000), EventMsTs: at + (serial++ % 1000), UserId: user, Role: 20, TerminalType: 2, Reason: 1 };
  return JSON.stringify({ EventGroupId: group, EventType: type, CallbackTs: at, EventInfo: info }, null, '\t');
}

function post(target, body, { key = KEY, sdkappid = DEMO_SDKAPPID, headers = {} } = {}) {
  return target.request('POST', '/api/v1/webhooks/trtc', {
    body,
    headers: { 'content-type': 'application/json', SdkAppId: String(sdkappid), Sign: sign(body, key), ...headers },
  });
}

const deliveriesOf = (body) => sink.received.filter((r) => r.body === body);

test('a signed event is taken, answered {"code":0}, and relayed byte for byte as trtc', async () => {
  const body = eventBody({ room: 'room-α', user: 'bob' });
  const res = await post(worker, body);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { code: 0 });
  await sink.waitUntil(() => deliveriesOf(body).some((r) => r.status === 204), 10_000, 'the relayed TRTC event');
  const [d] = deliveriesOf(body);
  assert.ok(d.verified, 'standardwebhooks accepts it');
  assert.equal(d.headers['x-callkit-source'], 'trtc');
  assert.equal(d.headers['x-tencent-sdkappid'], String(DEMO_SDKAPPID));
  assert.equal(d.headers.sign, undefined);
  assert.equal(d.headers['x-tencent-sign'], undefined);
  assert.ok(!JSON.stringify(d.headers).includes(sign(body)), 'the Sign is not forwarded');
});

test("Tencent's retry of the same event is answered OK and taken once", async () => {
  const body = eventBody({ type: 201 });
  for (let i = 0; i < 3; i++) assert.equal((await post(worker, body)).status, 200);
  await sink.waitUntil(() => deliveriesOf(body).length >= 1, 10_000, 'the event');
  await sleep(3_000);
  assert.equal(deliveriesOf(body).length, 1, 'relayed once');
});

test('other event groups are accepted and ignored', async () => {
  const body = eventBody({ type: 301, group: 3 });
  const res = await post(worker, body);
  assert.equal(res.status, 200, res.text);
});

test('refused: a forged Sign, another app, an oversized body, a stale or future event, a body that is not an event', async () => {
  const body = eventBody();
  assertProblem(await post(worker, body, { key: 'wrongKey' }), 401, 'webhook_unauthenticated', 'forged');
  assertProblem(await post(worker, body, { headers: { Sign: '' } }), 401, 'webhook_unauthenticated', 'no Sign');
  // Signed over other bytes: the same JSON, re-serialised.
  const compact = JSON.stringify(JSON.parse(body));
  assertProblem(await post(worker, body, { headers: { Sign: sign(compact) } }), 401, 'webhook_unauthenticated', 're-serialised');
  assertProblem(await post(worker, body, { sdkappid: 1400000001 }), 400, 'wrong_sdkappid', 'another app');
  const big = eventBody().replace('"UserId"', `"Pad": "${'x'.repeat(17_000)}",\n\t\t"UserId"`);
  assertProblem(await post(worker, big), 413, 'body_too_large', 'oversized');
  assertProblem(await post(worker, eventBody({ at: Date.now() - 6 * 60_000 })), 401, 'webhook_unauthenticated', 'stale');
  assertProblem(await post(worker, eventBody({ at: Date.now() + 6 * 60_000 })), 401, 'webhook_unauthenticated', 'future');
  assertProblem(await post(worker, '{"EventGroupId": 1}'), 400, 'invalid_webhook', 'not an event');
  await sleep(2_000);
  assert.equal(deliveriesOf(body).length, 0, 'nothing refused was relayed');
});

test('without TRTC_CALLBACK_KEY the route answers 503 misconfigured', { timeout: 120_000 }, async () => {
  const keyless = await startWorker({ emulator, vars: relayVars([sink]) });
  try {
    const p = assertProblem(await post(keyless, eventBody()), 503, 'misconfigured');
    assert.match(p.detail, /TRTC_CALLBACK_KEY/);
    assert.ok(!p.detail.includes(KEY));
  } finally {
    await keyless.stop();
  }
});

const admin = mintUserSig('administrator');

async function liveCall(callId) {
  const res = await worker.request('GET', '/api/v1/live/calls', { token: admin });
  assert.equal(res.status, 200, res.text);
  return res.json.calls.find((c) => c.callId === callId);
}

/** A start webhook for a call in `room`. */
async function startCall(room) {
  const callId = newCallId('room');
  const event = startEvent(callId);
  event.CallInfo.RoomId = room;
  assert.equal((await deliver(worker, event)).status, 200);
  return callId;
}

test('presence and media join the call by RoomId, members and others in the room alike', async () => {
  const room = `r-${Date.now()}`;
  const callId = await startCall(room);
  const ticket = await worker.request('POST', '/api/v1/live/ticket', { token: admin });
  const ws = new WebSocket(`ws://127.0.0.1:${worker.port}/api/v1/live?ticket=${ticket.json.ticket}`);
  const messages = [];
  ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  try {
    const at = Date.now();
    for (const [type, user, dt] of [[103, 'alice', 0], [201, 'alice', 10], [203, 'alice', 20], [103, 'bob', 30], [203, 'bob', 40], [103, 'eve', 50], [104, 'eve', 60]]) {
      assert.equal((await post(worker, eventBody({ type, user, room, at: at + dt }))).status, 200);
    }
    const call = await eventually(async () => {
      const c = await liveCall(callId);
      return c?.room?.length === 3 && c.room.find((p) => p.userId === 'eve')?.inRoom === false && c;
    }, 'presence on the board');
    const by = Object.fromEntries(call.room.map((p) => [p.userId, p]));
    assert.deepEqual([by.alice.inRoom, by.alice.video, by.alice.audio, by.alice.screen], [true, true, true, false]);
    assert.deepEqual([by.bob.inRoom, by.bob.video, by.bob.audio], [true, false, true]);
    assert.equal(by.alice.role, 'anchor');
    assert.equal(by.alice.platform, 'android');
    assert.equal(by.eve.exitReason, 'normal');
    await eventually(() => messages.some((m) => m.type === 'call' && m.call.callId === callId && m.call.room?.length === 3), 'presence on the socket');
  } finally {
    ws.close();
  }
});

test('events for a room no call names yet are held until its start webhook', async () => {
  const room = `held-${Date.now()}`;
  assert.equal((await post(worker, eventBody({ type: 103, user: 'carol', room }))).status, 200);
  assert.equal((await post(worker, eventBody({ type: 201, user: 'carol', room }))).status, 200);
  const callId = await startCall(room);
  const call = await eventually(async () => {
    const c = await liveCall(callId);
    return c?.room?.length === 1 && c;
  }, 'the held room on the new call');
  assert.equal(call.room[0].userId, 'carol');
  assert.equal(call.room[0].video, true);
});

test("the emulator sends signed TRTC events for its calls: enter on start and answer, media, exit on hang-up", { timeout: 120_000 }, async () => {
  const room = String(700_000 + (Date.now() % 100_000));
  const callId = await startCall(room);
  const trtcEmulator = await startEmulator({ extraArgs: ['--trtc-url', `${worker.url}/api/v1/webhooks/trtc`, '--trtc-key', KEY] });
  try {
    const { callId: emulated } = await trtcEmulator.control.createCall({ caller: 'alice', callees: ['bob'], mediaType: 'Video', roomId: room });
    await trtcEmulator.control.act(emulated, 'answer', 'bob');
    let call = await eventually(async () => {
      const c = await liveCall(callId);
      return c?.room?.filter((p) => p.inRoom && p.video && p.audio).length === 2 && c;
    }, 'alice and bob in the room, publishing');
    assert.deepEqual(call.room.map((p) => p.userId).sort(), ['alice', 'bob']);
    await trtcEmulator.control.act(emulated, 'hangup', 'bob');
    call = await eventually(async () => {
      const c = await liveCall(callId);
      return c?.room?.every((p) => !p.inRoom) && c;
    }, 'everyone out after the hang-up');
    assert.ok(call.room.every((p) => p.exitReason === 'normal' && !p.video && !p.audio), JSON.stringify(call.room));
  } finally {
    await trtcEmulator.stop();
  }
});

test('a live call whose room stays empty is flagged roomEmpty and checked with Tencent at once', { timeout: 180_000 }, async () => {
  const tencent = await startEmulator({ extraArgs: ['--webhook-token', TOKEN] });
  const quick = await startWorker({
    emulator: tencent,
    // Reconcile quiet calls only after 10 minutes; the alarm runs every 2 s (LIVE_KEEP_ENDED_SECS / 2).
    vars: relayVars([sink], { TRTC_CALLBACK_KEY: KEY, LIVE_EMPTY_ROOM_SECS: '1', LIVE_RECONCILE_AFTER_SECS: '600', LIVE_KEEP_ENDED_SECS: '4' }),
  });
  try {
    // Start and member webhooks only: an end would never reach the board.
    const set = await quick.request('PUT', '/api/v1/callback', {
      token: admin,
      body: { url: `${quick.url}/api/v1/webhooks/tencent`, commands: ['Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged'] },
    });
    assert.equal(set.status, 200, set.text);
    const board = async (id) => (await quick.request('GET', '/api/v1/live/calls', { token: admin })).json.calls.find((c) => c.callId === id);
    const calls = [];
    for (const room of ['810001', '810002']) {
      const { callId } = await tencent.control.createCall({ caller: 'alice', callees: ['bob'], roomId: room });
      await eventually(() => board(callId), `${callId} on the board`);
      const at = Date.now();
      assert.equal((await post(quick, eventBody({ type: 103, user: 'alice', room: Number(room), at }))).status, 200);
      calls.push({ callId, room, at });
    }
    // The second call ends at Tencent; its end webhook is not subscribed.
    await tencent.control.act(calls[1].callId, 'hangup', 'alice');
    for (const { room, at } of calls) {
      assert.equal((await post(quick, eventBody({ type: 104, user: 'alice', room: Number(room), at: at + 100 }))).status, 200);
    }
    const flagged = await eventually(async () => {
      const c = await board(calls[0].callId);
      return c?.roomEmpty && c;
    }, 'the empty room flagged', 20_000);
    assert.equal(flagged.state, 'live', 'the board never ends a call by itself');
    const ended = await eventually(async () => {
      const c = await board(calls[1].callId);
      return c?.state === 'ended' && c;
    }, 'the call Tencent ended, found by the early check', 20_000);
    assert.equal(ended.endedBy, 'reconcile');
    await sleep(3_000);
    assert.equal((await board(calls[0].callId)).state, 'live', 'still live at Tencent: still live here');
    // Someone comes back: the flag goes.
    assert.equal((await post(quick, eventBody({ type: 103, user: 'bob', room: Number(calls[0].room) }))).status, 200);
    await eventually(async () => (await board(calls[0].callId))?.roomEmpty === undefined, 'the flag cleared');
  } finally {
    await quick.stop();
    await tencent.stop();
  }
});

test('with LIVE_SHARDS=4 each shard joins the room to its own calls, held or live, and each event is relayed once', { timeout: 120_000 }, async () => {
  const sharded = await startWorker({ emulator, vars: relayVars([sink], { TRTC_CALLBACK_KEY: KEY, LIVE_SHARDS: '4' }) });
  try {
    const stamp = Date.now();
    const rooms = [0, 1, 2, 3].map((k) => `shard${k}-${stamp}`);
    const bodies = [];
    // Held: no call names these rooms yet.
    for (const room of rooms) {
      const body = eventBody({ type: 103, user: 'carol', room });
      bodies.push(body);
      assert.equal((await post(sharded, body)).status, 200);
    }
    // One call per shard, each in its own room.
    const calls = [];
    while (calls.length < 4) {
      const callId = newCallId('shard');
      const k = shardOf(callId, 4);
      if (calls.some((c) => c.k === k)) continue;
      const event = startEvent(callId);
      event.CallInfo.RoomId = rooms[k];
      assert.equal((await deliver(sharded, event)).status, 200);
      calls.push({ callId, k });
    }
    // Live: the call is on its shard already.
    for (const room of rooms) {
      const body = eventBody({ type: 103, user: 'dave', room });
      bodies.push(body);
      assert.equal((await post(sharded, body)).status, 200);
    }
    const board = async () => (await sharded.request('GET', '/api/v1/live/calls', { token: admin })).json.calls;
    for (const { callId, k } of calls) {
      const call = await eventually(async () => {
        const c = (await board()).find((x) => x.callId === callId);
        return c?.room?.length === 2 && c;
      }, `the room on shard ${k}'s call`);
      assert.deepEqual(call.room.map((p) => p.userId).sort(), ['carol', 'dave']);
    }
    // A retry is answered OK by every shard and not relayed again.
    assert.equal((await post(sharded, bodies[0])).status, 200);
    await sink.waitUntil(() => bodies.every((b) => deliveriesOf(b).length >= 1), 10_000, 'every event relayed');
    await sleep(2_000);
    for (const b of bodies) assert.equal(deliveriesOf(b).length, 1, 'relayed once, not once per shard');
  } finally {
    await sharded.stop();
  }
});

test('no answer or log line carries the key or a secret, and every answer has its audit line', async () => {
  const secrets = collectSecrets({
    secretKey: DEMO_KEY,
    tokens: sentTokens(worker),
    emulatorUrl: emulator.url,
    extra: [KEY, FORWARD_SECRET, FORWARD_SECRET.slice('whsec_'.length)],
  });
  await assertCleanWorker(worker, secrets, 'trtc worker');
  const lines = await assertAuditTrail(worker, 'trtc worker', 5_000, { external: ['live_socket', 'receive_trtc_event'] });
  assert.ok(lines.some((l) => l.action === 'receive_trtc_event' && l.status === 401 && l.code === 'webhook_unauthenticated'));
});

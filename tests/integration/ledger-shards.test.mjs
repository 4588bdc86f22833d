// The call ledger over a sharded board (docs/call-ledger.md, docs/live-board.md): with
// LIVE_SHARDS=4 each shard drains its own calls into the one D1 ledger, and a shard that is
// full (LIVE_MAX_CALLS) still records the calls it cannot hold. The built worker under
// wrangler dev with a real local D1, fed by signed webhooks.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCleanWorker, collectSecrets, deliverSigned, sentTokens, shardOf, sleep, startEmulator, startWorker } from './harness.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';

const TOKEN = 'ledger-shards-callback-token-0123456789';
const SHARDS = 4;
const MAX_CALLS = 2; // per shard
const admin = mintUserSig('ls-admin');
let emulator;
let worker;

const deliver = (body) => deliverSigned(worker, TOKEN, body);

const startEvent = (callId, at) => ({
  CallbackCommand: 'Call.CallbackAfterStartCall',
  CallInfo: { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: '', RoomIdType: 2 },
  UserList: [{ User_Account: 'ls-a', Status: 'Calling' }, { User_Account: 'ls-b', Status: 'Waiting' }],
  EventTime: at,
});
const endEvent = (callId, startAt, endAt) => ({
  CallbackCommand: 'Call.CallbackAfterEndCall',
  CallRecord: {
    CallId: callId, Caller_Account: 'ls-a', MediaType: 'Audio', CallType: 'SingleCall',
    StartTime: Math.floor(startAt / 1000), EndTime: Math.floor(endAt / 1000), AcceptTime: 0,
    CallResult: 'Cancel', CalleeList_Account: ['ls-a', 'ls-b'], RoomId: '', RoomIdType: 2,
  },
  EventTime: endAt,
});

before(async () => {
  emulator = await startEmulator({ extraArgs: ['--webhook-token', TOKEN] });
  worker = await startWorker({
    emulator,
    vars: {
      TENCENT_CALLBACK_TOKEN: TOKEN, ADMIN_USERS: 'ls-admin',
      LIVE_SHARDS: String(SHARDS), LIVE_MAX_CALLS: String(MAX_CALLS),
    },
  });
});

after(async () => {
  try {
    if (worker) {
      assertCleanWorker(worker, collectSecrets({ secretKey: DEMO_KEY, tokens: sentTokens(worker), emulatorUrl: emulator.url, extra: [TOKEN] }));
    }
  } finally {
    await worker?.stop();
    await emulator?.stop();
  }
});

test('every shard records its calls once, and a full shard still records those it cannot hold', { timeout: 180_000 }, async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `ledger-shards-${i}`);
  // Delivered in order, so the calls past a shard's first MAX_CALLS are those it refuses.
  const perShard = new Map();
  const refused = [];
  for (const id of ids) {
    const k = shardOf(id, SHARDS);
    perShard.set(k, (perShard.get(k) ?? 0) + 1);
    if (perShard.get(k) > MAX_CALLS) refused.push(id);
  }
  assert.equal(perShard.size, SHARDS, 'the calls cover every shard');
  assert.ok(refused.length > 0, 'some shard is over its cap');

  const t = Math.floor((Date.now() - 60_000) / 1000) * 1000;
  for (const [i, id] of ids.entries()) {
    await deliver(startEvent(id, t + i * 1000));
    await deliver(endEvent(id, t + i * 1000, t + i * 1000 + 20_000));
  }
  // The same deliveries again, as Tencent retries them: still one row and one timeline each.
  await deliver(startEvent(ids[0], t));

  const board = await worker.request('GET', '/api/v1/live/calls?limit=1000', { token: admin });
  const held = board.json.calls.map((c) => c.callId).filter((id) => ids.includes(id));
  assert.deepEqual(held.sort(), ids.filter((id) => !refused.includes(id)).sort(), 'each shard holds its first calls, up to its cap');

  let calls = [];
  for (const deadline = Date.now() + 45_000; ; await sleep(300)) {
    const res = await worker.request('GET', '/api/v1/history?user=ls-a&limit=100', { token: admin });
    assert.equal(res.status, 200, res.text);
    calls = res.json.calls.filter((c) => ids.includes(c.callId));
    if (calls.length === ids.length && calls.every((c) => c.state === 'ended')) break;
    if (Date.now() > deadline) assert.fail(`the ledger holds ${JSON.stringify(calls.map((c) => [c.callId, c.state]))}`);
  }
  assert.deepEqual(calls.map((c) => c.callId).sort(), [...ids].sort(), 'each call once');
  for (const call of calls) {
    assert.deepEqual([call.caller, call.result, call.members], ['ls-a', 'Cancel', ['ls-a', 'ls-b']], call.callId);
  }
  const one = await worker.request('GET', `/api/v1/history/${refused[0]}`, { token: admin });
  assert.equal(one.status, 200, one.text);
  const events = one.json.timeline.map((e) => `${e.userId}:${e.event}`);
  assert.equal(events.filter((e) => e === 'null:ended').length, 1, events.join(' '));
});

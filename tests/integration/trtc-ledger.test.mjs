// TRTC room presence in the call ledger's member timeline (docs/call-ledger.md,
// docs/trtc-events.md): the built worker under `wrangler dev` with a real local
// D1 and LIVE_SHARDS=4 (every TRTC event goes to every shard), fed signed TRTC
// events by the emulator and by hand, read back through GET /api/v1/history/{callId}.
// Each change of presence must be one row: Tencent's retries, the fan-out to
// the shards and a room's events held until its call's start never add a second.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { assertAuditTrail, assertCleanWorker, collectSecrets, deliverSigned, freePort, pointCallbackAt, sentTokens, sleep, startEmulator, startWorker } from './harness.mjs';
import { DEMO_KEY, DEMO_SDKAPPID, mintUserSig } from './tokens.mjs';

const TOKEN = 'trtc-ledger-callback-token-0123456789ab';
const KEY = 'trtcLedgerKey0123456789abcdefAB';
const SHARDS = 4;
const ADMIN = 'trtc-ledger-admin';
const admin = mintUserSig(ADMIN);

let emulator;
let worker;

before(async () => {
  // The emulator sends TRTC's events to the worker, so the worker's port is chosen first.
  const port = await freePort();
  emulator = await startEmulator({
    extraArgs: ['--webhook-token', TOKEN, '--trtc-url', `http://127.0.0.1:${port}/api/v1/webhooks/trtc`, '--trtc-key', KEY],
  });
  worker = await startWorker({
    emulator,
    port,
    vars: { TENCENT_CALLBACK_TOKEN: TOKEN, TRTC_CALLBACK_KEY: KEY, LIVE_SHARDS: String(SHARDS), ADMIN_USERS: ADMIN },
  });
  await pointCallbackAt(worker, admin);
});

after(async () => {
  await worker?.stop();
  await emulator?.stop();
});


/** A CallKit webhook, signed with the callback token as Tencent does. */
const deliver = (body) => deliverSigned(worker, TOKEN, body);

/** A signed TRTC event, tab-formatted as Tencent sends it; the same `at` gives the same bytes. */
async function trtc({ type, room, user, at, reason }) {
  const info = { RoomId: room, EventTs: Math.floor(at / 1000), EventMsTs: at, UserId: user, Role: 20, TerminalType: 3 };
  if (reason !== undefined) info.Reason = reason;
  const body = JSON.stringify({ EventGroupId: Math.floor(type / 100), EventType: type, CallbackTs: at + 5, EventInfo: info }, null, '\t');
  const res = await worker.request('POST', '/api/v1/webhooks/trtc', {
    body,
    headers: { 'content-type': 'application/json', SdkAppId: String(DEMO_SDKAPPID), Sign: createHmac('sha256', KEY).update(body).digest('base64') },
  });
  assert.equal(res.status, 200, res.text);
}

const ROOM_EVENTS = new Set(['room_entered', 'room_exited', 'video_on', 'video_off', 'audio_on', 'audio_off', 'screen_on', 'screen_off']);

/** The call's TRTC entries as `user event (reason)`, sorted; the whole answer besides. */
async function roomTimeline(callId, token = admin) {
  const res = await worker.request('GET', `/api/v1/history/${callId}`, { token });
  if (res.status !== 200) return { rows: [], res };
  const entries = res.json.timeline.filter((e) => e.source === 'trtc');
  for (const e of entries) assert.ok(ROOM_EVENTS.has(e.event), JSON.stringify(e));
  const rows = entries.map((e) => `${e.userId} ${e.event}${e.reason ? ` (${e.reason})` : ''}`).sort();
  return { rows, res, entries };
}

/** Waits until the call's TRTC entries number `n`, then a while longer: nothing more may come. */
async function settled(callId, n, token) {
  const deadline = Date.now() + 45_000;
  let got;
  for (;;) {
    got = await roomTimeline(callId, token);
    if (got.rows.length >= n) break;
    if (Date.now() > deadline) assert.fail(`${callId}: ${got.rows.length} of ${n} room entries: ${JSON.stringify(got.res.json ?? got.res.text)}`);
    await sleep(300);
  }
  await sleep(2_500);
  return roomTimeline(callId, token);
}

test("the emulator's call: entering, media and leaving the room, once each, beside the CallKit events", { timeout: 120_000 }, async () => {
  const roomId = String(900_000 + (Date.now() % 90_000));
  const { callId } = await emulator.control.createCall({ caller: 'tl-ann', callees: ['tl-ben'], mediaType: 'Video', roomId });
  await emulator.control.act(callId, 'answer', 'tl-ben');
  await sleep(1_100);
  await emulator.control.act(callId, 'hangup', 'tl-ann');
  const want = ['tl-ann', 'tl-ben'].flatMap((u) => [`${u} audio_on`, `${u} room_entered`, `${u} room_exited (normal)`, `${u} video_on`]).sort();
  const { rows, res } = await settled(callId, want.length);
  assert.deepEqual(rows, want);
  const events = res.json.timeline.map((e) => `${e.userId}:${e.event}`);
  for (const e of ['tl-ann:started', 'tl-ben:joined', 'null:ended']) assert.ok(events.includes(e), events.join(' '));
  // The timeline is in time order: nobody publishes before entering.
  const at = (what) => res.json.timeline.find((e) => `${e.userId}:${e.event}` === what).at;
  assert.ok(at('tl-ben:room_entered') <= at('tl-ben:video_on'));
});

test('retries, the fan-out to 4 shards, held events and exits after the end give one row each; room-only people are not members', { timeout: 120_000 }, async () => {
  const room = `tl-room-${Date.now()}`;
  const callId = `tl-call-${process.pid}-${Date.now()}`;
  const t = Date.now();
  // Held: the caller enters before the start webhook; Tencent sends it three times.
  for (let i = 0; i < 3; i++) await trtc({ type: 103, room, user: 'tl-cat', at: t - 2_000 });
  await deliver({
    CallbackCommand: 'Call.CallbackAfterStartCall', EventTime: t,
    CallInfo: { CallId: callId, MediaType: 'Video', ChatGroupId: '', RoomId: room, RoomIdType: 2 },
    UserList: [{ User_Account: 'tl-cat', Status: 'Calling' }, { User_Account: 'tl-dan', Status: 'Waiting' }],
  });
  // Live: the callee enters and turns the camera on (twice: a retry), an outsider joins the room.
  await trtc({ type: 103, room, user: 'tl-dan', at: t + 1_000 });
  for (let i = 0; i < 2; i++) await trtc({ type: 201, room, user: 'tl-dan', at: t + 1_100 });
  await trtc({ type: 103, room, user: 'tl-eve', at: t + 1_200 });
  // Entering again while in the room changes nothing.
  await trtc({ type: 103, room, user: 'tl-dan', at: t + 1_300 });
  await trtc({ type: 205, room, user: 'tl-cat', at: t + 1_400 });
  await trtc({ type: 206, room, user: 'tl-cat', at: t + 1_500 });
  await deliver({
    CallbackCommand: 'Call.CallbackAfterEndCall', EventTime: t + 3_000,
    CallRecord: {
      CallId: callId, Caller_Account: 'tl-cat', MediaType: 'Video', CallType: 'SingleCall',
      StartTime: Math.floor(t / 1000), EndTime: Math.floor((t + 3_000) / 1000), AcceptTime: 0,
      CallResult: 'NormalEnd', CalleeList_Account: ['tl-cat', 'tl-dan'], RoomId: room, RoomIdType: 2,
    },
  });
  // The exits come after the end webhook, each with its reason; one is retried.
  await trtc({ type: 104, room, user: 'tl-cat', at: t + 3_500, reason: 2 });
  await trtc({ type: 104, room, user: 'tl-dan', at: t + 3_600, reason: 1 });
  await trtc({ type: 104, room, user: 'tl-dan', at: t + 3_600, reason: 1 });
  await trtc({ type: 104, room, user: 'tl-eve', at: t + 3_700, reason: 3 });
  const want = [
    'tl-cat room_entered', 'tl-cat screen_on', 'tl-cat screen_off', 'tl-cat room_exited (timeout)',
    'tl-dan room_entered', 'tl-dan video_on', 'tl-dan room_exited (normal)',
    'tl-eve room_entered', 'tl-eve room_exited (removed)',
  ].sort();
  const { rows, res, entries } = await settled(callId, want.length);
  assert.deepEqual(rows, want);
  const atOf = (user, event) => entries.find((e) => e.userId === user && e.event === event).at;
  assert.equal(atOf('tl-cat', 'room_entered'), t - 2_000, 'the held event at its own time');
  assert.equal(atOf('tl-dan', 'room_exited'), t + 3_600);
  assert.deepEqual(res.json.call.members, ['tl-cat', 'tl-dan'], 'someone only in the room is not a member');
  // A member sees the same timeline; the outsider does not see the call at all.
  const asDan = await roomTimeline(callId, mintUserSig('tl-dan'));
  assert.deepEqual(asDan.rows, want);
  assert.equal((await worker.request('GET', `/api/v1/history/${callId}`, { token: mintUserSig('tl-eve') })).status, 404);
});

test('no answer or log line carries the key or a secret, and every answer has its audit line', async () => {
  const secrets = collectSecrets({ secretKey: DEMO_KEY, tokens: sentTokens(worker), emulatorUrl: emulator.url, extra: [KEY, TOKEN] });
  await assertCleanWorker(worker, secrets, 'trtc ledger worker');
  // The emulator's own deliveries (CallKit and TRTC) are answered to it, not to this file.
  await assertAuditTrail(worker, 'trtc ledger worker', 5_000, { external: ['receive_trtc_event', 'receive_webhook'] });
});

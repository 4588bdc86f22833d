// TRTC's room callbacks within bounds (docs/trtc-events.md), on the built worker in bare
// workerd with its CallBoard object, against the emulator: a delivery whose `Sign` does not
// prove it takes a slot of its address's IP_RATE_LIMITER budget like an unproven CallKit
// webhook (the proof is over the body, so the body was read), while proven ones are never
// limited; and a room lists at most 64 people (presence::MAX_PEOPLE).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { assertProblem, collectSecrets, httpRequest, startEmulator } from './harness.mjs';
import { startBareWorker } from './bare-workerd.mjs';
import { DEMO_KEY, DEMO_SDKAPPID, mintUserSig } from './tokens.mjs';
import { URL_KEY, board, deliver, eventually, startEvent, sweepAndStop } from './live-helpers.mjs';

const KEY = 'trtcLimitsKey0123456789abcdefAB';
const admin = mintUserSig('administrator');
const VARS = { WEBHOOK_URL_KEY: URL_KEY, ADMIN_USERS: 'administrator', TRTC_CALLBACK_KEY: KEY };
const NO_LIMIT = { limit: 1e9, period: 60 };
const MAX_PEOPLE = 64;

let emulator;
let worker;
const answers = [];
const keep = (res) => { answers.push(res); return res; };

before(async () => {
  emulator = await startEmulator();
  // Five unproven requests per address and minute; signed-in routes never limited.
  worker = await startBareWorker({ emulator, vars: VARS, callBoard: true, rateLimit: NO_LIMIT, ipRateLimit: { limit: 5, period: 60 } });
});

after(() => sweepAndStop({
  worker,
  emulator,
  answers,
  secrets: collectSecrets({ secretKey: DEMO_KEY, tokens: [admin], emulatorUrl: emulator?.url, extra: [URL_KEY, KEY] }),
}));

let serial = 0;
/** A TRTC event body, tab-formatted as Tencent sends it, at a time no other body of this file has. */
function eventBody({ type = 103, room = 4242, user = 'alice', at = Date.now() } = {}) {
  const info = { RoomId: room, EventTs: Math.floor(at / 1000), EventMsTs: at + (serial++ % 1000), UserId: user, Role: 20, TerminalType: 2 };
  return JSON.stringify({ EventGroupId: Math.floor(type / 100), EventType: type, CallbackTs: at, EventInfo: info }, null, '\t');
}

/** POSTs a TRTC delivery from `ip`, signed with `key`. */
const post = (body, { key = KEY, ip } = {}) => httpRequest(`${worker.url}/api/v1/webhooks/trtc`, {
  method: 'POST',
  body,
  headers: {
    'content-type': 'application/json',
    SdkAppId: String(DEMO_SDKAPPID),
    Sign: createHmac('sha256', key).update(body).digest('base64'),
    ...(ip ? { 'cf-connecting-ip': ip } : {}),
  },
});

test('a bad Sign takes a slot of its address\'s IP_RATE_LIMITER budget; proven deliveries from it are never limited', async () => {
  const ip = '203.0.113.19';
  for (let i = 0; i < 5; i++) assertProblem(keep(await post(eventBody(), { key: 'notTheKey', ip })), 401, 'webhook_unauthenticated');
  const over = keep(await post(eventBody(), { key: 'notTheKey', ip }));
  assertProblem(over, 429, 'rate_limited');
  assert.ok(Number(over.headers['retry-after']) > 0, JSON.stringify(over.headers));
  for (let i = 0; i < 8; i++) {
    const res = keep(await post(eventBody({ user: `proven-${i}` }), { ip }));
    assert.equal(res.status, 200, res.text);
  }
  assertProblem(keep(await post(eventBody(), { key: 'notTheKey', ip: '203.0.113.20' })), 401, 'webhook_unauthenticated',
    'another address has its own budget');
});

test(`a room lists at most ${MAX_PEOPLE} people: a newcomer takes the place of who left earliest, or is not listed`, { timeout: 120_000 }, async () => {
  const room = `cap-room-${Date.now()}`;
  const callId = `cap-call-${process.pid}-${Date.now()}`;
  const start = startEvent(callId, Date.now());
  start.CallInfo.RoomId = room;
  assert.equal(keep(await deliver(worker, start)).status, 200);
  const at = Date.now();
  for (let i = 0; i < MAX_PEOPLE; i++) assert.equal(keep(await post(eventBody({ room, user: `p${i}`, at: at + i }))).status, 200);
  // Everyone is in the room: the next one is accepted (and relayed) but not listed.
  assert.equal(keep(await post(eventBody({ room, user: 'late', at: at + 100 }))).status, 200);
  const people = async () => (await board(worker, admin)).find((c) => c.callId === callId)?.room ?? [];
  const full = await eventually(async () => { const p = await people(); return p.length === MAX_PEOPLE && p; }, 'the full room');
  assert.ok(!full.some((p) => p.userId === 'late'), 'not listed beyond the cap');
  // p5 leaves, then p2: the newcomer takes p5's place, who left first.
  assert.equal(keep(await post(eventBody({ type: 104, room, user: 'p5', at: at + 200 }))).status, 200);
  assert.equal(keep(await post(eventBody({ type: 104, room, user: 'p2', at: at + 300 }))).status, 200);
  assert.equal(keep(await post(eventBody({ room, user: 'late', at: at + 400 }))).status, 200);
  const after = await eventually(async () => { const p = await people(); return p.some((x) => x.userId === 'late') && p; }, 'the newcomer listed');
  const ids = after.map((p) => p.userId);
  assert.equal(ids.length, MAX_PEOPLE);
  assert.ok(!ids.includes('p5') && ids.includes('p2'), ids.join(','));
});

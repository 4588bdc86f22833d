// The live board over LIVE_SHARDS objects (docs/live-board.md, Shards), with 1 and with 4:
// every call lands once and replays stay in its shard, members still see only their calls,
// GET /live/calls fans in over every shard, the client's sockets (one per shard) see calls
// from all of them, changing the count the documented way loses nothing, snapshots stay
// bounded, and coalesced fan-out batches a socket's changes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket as NodeWebSocket } from 'ws';
import { CallKitEdgeClient } from '../../www/callkit-edge-client.js';
import { assertNoSecrets, assertProblem, collectSecrets, shardOf, startEmulator, startWorker } from './harness.mjs';
import { startBareWorker } from './bare-workerd.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';
import { URL_KEY, bareLogs, board, boardPage, deliver, endEvent, eventually, memberEvent, startEvent, tickets, upgrade } from './live-helpers.mjs';

const admin = mintUserSig('administrator');
const alice = mintUserSig('alice');
const VARS = { WEBHOOK_URL_KEY: URL_KEY, ADMIN_USERS: 'administrator' };
const NO_LIMIT = { limit: 1e9, period: 60 };

/** Each id once, and the board's order: live first, then newest first. */
function assertOnceAndOrdered(calls, ids) {
  const counts = new Map();
  for (const c of calls) counts.set(c.callId, (counts.get(c.callId) ?? 0) + 1);
  for (const id of ids) assert.equal(counts.get(id), 1, `${id} is on the board ${counts.get(id) ?? 0} times`);
  const rank = (c) => [c.state === 'live' ? 0 : 1, -c.updatedAt];
  for (let i = 1; i < calls.length; i++) {
    const [a, b] = [rank(calls[i - 1]), rank(calls[i])];
    assert.ok(a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]), `out of order at ${i}: ${JSON.stringify([calls[i - 1], calls[i]].map((c) => [c.callId, c.state, c.updatedAt]))}`);
  }
}

let emulator;
before(async () => { emulator = await startEmulator(); });
after(async () => { await emulator?.stop(); });

for (const shards of [1, 4]) {
  describe(`LIVE_SHARDS=${shards}`, () => {
    let worker;
    before(async () => {
      worker = await startBareWorker({ emulator, vars: { ...VARS, LIVE_SHARDS: String(shards) }, callBoard: true, rateLimit: NO_LIMIT });
    });
    after(async () => {
      try {
        assertNoSecrets(bareLogs(worker), collectSecrets({ secretKey: DEMO_KEY, tokens: [admin, alice], emulatorUrl: emulator.url, extra: [URL_KEY] }), 'workerd.log');
      } finally {
        await worker?.stop();
      }
    });

    test('every call lands once, replays stay in their shard, members see their own', { timeout: 120_000 }, async () => {
      const ids = Array.from({ length: 24 }, (_, i) => `n${shards}-call-${i}`);
      if (shards > 1) assert.ok(new Set(ids.map((id) => shardOf(id, shards))).size === shards, 'the calls cover every shard');
      const at = Date.now();
      for (const [i, id] of ids.entries()) {
        const users = i % 2 ? [['alice', 'Calling'], ['bob', 'Waiting']] : [['bob', 'Calling'], ['carol', 'Waiting']];
        const body = startEvent(id, at + i, users);
        for (let n = 0; n < 2; n++) assert.equal((await deliver(worker, body)).status, 200); // the second is a replay
      }
      await eventually(() => (bareLogs(worker).match(/a replayed delivery, not applied again/g) ?? []).length >= ids.length, 'every replay seen as one');
      let calls = await board(worker, admin);
      assertOnceAndOrdered(calls, ids);
      const mine = (await board(worker, alice)).map((c) => c.callId);
      assert.deepEqual(mine.sort(), ids.filter((_, i) => i % 2).sort(), 'alice sees her calls, from every shard, and no other');

      for (const [i, id] of ids.entries()) if (i % 3 === 0) assert.equal((await deliver(worker, endEvent(id, at + 100 + i, ['bob', 'carol']))).status, 200);
      calls = await board(worker, admin);
      assertOnceAndOrdered(calls, ids);
      assert.equal(calls.filter((c) => ids.includes(c.callId) && c.state === 'ended').length, 8);
    });

    test('a snapshot holds at most 500 calls per shard, with counts over all of them', { timeout: 120_000 }, async () => {
      const at = Date.now();
      const ids = Array.from({ length: 620 }, (_, i) => `big${shards}-${i}`);
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        for (let i = next++; i < ids.length; i = next++) {
          const users = i === 7 ? [['dave', 'Calling'], ['erin', 'Waiting']] : [['bob', 'Calling'], ['carol', 'Waiting']];
          assert.equal((await deliver(worker, { ...startEvent(ids[i], at + i, users), CallInfo: { ...startEvent(ids[i], 0).CallInfo, MediaType: i % 4 ? 'Audio' : 'Video' } })).status, 200);
        }
      }));
      const all = await board(worker, admin);
      const snaps = [];
      for (const t of (await tickets(worker, admin)).tickets) {
        const s = await upgrade(worker, t);
        snaps.push(await s.waitFor((m) => m.type === 'snapshot', 'snapshot'));
        s.ws.close();
      }
      for (const snap of snaps) assert.ok(snap.calls.length <= 500, `${snap.calls.length} calls in one snapshot`);
      const sum = (k) => snaps.reduce((n, s) => n + s.summary[k], 0);
      assert.equal(sum('total'), all.length, 'the counts cover the whole board');
      assert.equal(sum('live'), all.filter((c) => c.state === 'live').length);
      assert.equal(sum('video'), all.filter((c) => c.mediaType === 'Video').length);
      if (shards === 1) {
        assert.equal(snaps[0].calls.length, 500);
        assert.deepEqual(snaps[0].calls.map((c) => c.callId), all.slice(0, 500).map((c) => c.callId), 'the newest, in board order');
      }
      // A member's snapshot and counts are theirs alone.
      const dave = mintUserSig('dave');
      const mine = [];
      for (const t of (await tickets(worker, dave)).tickets) {
        const s = await upgrade(worker, t);
        mine.push(await s.waitFor((m) => m.type === 'snapshot', 'snapshot'));
        s.ws.close();
      }
      assert.deepEqual(mine.flatMap((s) => s.calls.map((c) => c.callId)), [ids[7]]);
      assert.equal(mine.reduce((n, s) => n + s.summary.total, 0), 1);
    });

    test('GET /live/calls: a page at a time, and a search by user or CallId of the whole board', { timeout: 60_000 }, async () => {
      // The board holds the 24 and 620 calls of the tests above: more than one default page.
      const first = await boardPage(worker, admin);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.json.calls.length, 500, 'the default page');
      assert.ok(first.json.nextCursor, 'a cursor to the rest');
      const total = first.json.summary.total;
      assert.ok(total >= 644, `${total} calls`);
      const paged = await board(worker, admin, { limit: '97' });
      assert.equal(paged.length, total, 'every call once over the pages');
      // The board's order is the order it heard of calls (these came 8 at a time): live ones first.
      const firstEnded = paged.findIndex((c) => c.state !== 'live');
      assert.ok(firstEnded > 0 && paged.slice(firstEnded).every((c) => c.state !== 'live'), 'live calls first');
      const whole = await boardPage(worker, admin, { limit: '1000' });
      assert.deepEqual(paged.map((c) => c.callId), whole.json.calls.map((c) => c.callId), 'pages of 97 = one page of 1000');
      assert.equal(whole.json.nextCursor, null);

      // dave's one call is among the oldest, past the newest 500 a snapshot holds.
      const byUser = await boardPage(worker, admin, { user: 'dave' });
      assert.deepEqual(byUser.json.calls.map((c) => c.callId), [`big${shards}-7`]);
      assert.equal(byUser.json.summary.total, total, 'the counts are the whole board\'s');
      const byId = await boardPage(worker, admin, { callId: `big${shards}-3` });
      assert.deepEqual(byId.json.calls.map((c) => [c.callId, c.mediaType]), [[`big${shards}-3`, 'Audio']]);
      // The counts follow a new call at once (a shard keeps its admins' counts between changes).
      const video = first.json.summary.video;
      const extra = { ...startEvent(`big${shards}-new`, Date.now()), CallInfo: { ...startEvent('x', 0).CallInfo, MediaType: 'Video' } };
      assert.equal((await deliver(worker, extra)).status, 200);
      const after = await boardPage(worker, admin, { limit: '1' });
      assert.deepEqual([after.json.summary.total, after.json.summary.video], [total + 1, video + 1], 'counts after a new call');
      // A member's filters only narrow her own calls.
      const aliceWithBob = await board(worker, alice, { user: 'bob' });
      assert.ok(aliceWithBob.length > 0 && aliceWithBob.every((c) => c.caller === 'alice' || c.members.some((m) => m.userId === 'alice')));
      assert.deepEqual((await boardPage(worker, alice, { callId: `big${shards}-3` })).json.calls, [], 'not hers');
      assert.deepEqual((await boardPage(worker, alice, { user: 'dave' })).json.calls, []);

      // Bad input: a clear 400 each.
      for (const query of [{ limit: '0' }, { limit: '1001' }, { limit: 'ten' }, { limit: '5.5' }, { page: '2' }, { user: '' }]) {
        assertProblem(await boardPage(worker, admin, query), 400, 'invalid_query');
      }
      assertProblem(await boardPage(worker, admin, { callId: 'no spaces' }), 400, 'invalid_call_id');
      assertProblem(await boardPage(worker, admin, { cursor: 'not-a-cursor' }), 400, 'invalid_cursor');
      const bobCursor = (await boardPage(worker, admin, { user: 'bob', limit: '1' })).json.nextCursor;
      assert.ok(bobCursor);
      assertProblem(await boardPage(worker, admin, { cursor: bobCursor }), 400, 'invalid_cursor');
      assert.equal((await boardPage(worker, admin, { user: 'bob', limit: '1', cursor: bobCursor })).status, 200);
    });

    test('the tickets are one per shard and the client\'s sockets see calls from every shard', { timeout: 60_000 }, async () => {
      assert.equal((await tickets(worker, admin)).tickets.length, shards);
      const client = new CallKitEdgeClient({ baseUrl: worker.url, token: admin, WebSocket: NodeWebSocket });
      let latest = { calls: [], status: 'connecting' };
      const stop = client.subscribe((calls, status) => { latest = { calls, status }; });
      try {
        await eventually(() => latest.status === 'open', 'open');
        const ids = Array.from({ length: 12 }, (_, i) => `sock${shards}-${i}`);
        for (const id of ids) assert.equal((await deliver(worker, startEvent(id, Date.now()))).status, 200);
        await eventually(() => ids.every((id) => latest.calls.some((c) => c.callId === id)), 'every new call on the socket');
        await deliver(worker, endEvent(ids[0], Date.now()));
        await eventually(() => latest.calls.find((c) => c.callId === ids[0])?.state === 'ended', 'the end on the socket');
      } finally {
        stop();
      }
    });
  });
}

describe('changing LIVE_SHARDS while calls are live loses nothing', () => {
  let persistDir;
  let worker;
  before(async () => { persistDir = await mkdtemp(join(tmpdir(), 'callkit-shards-')); });
  after(async () => {
    await worker?.stop();
    await rm(persistDir, { recursive: true, force: true });
  });

  test('1 → 4 with LIVE_SHARDS_PREVIOUS=1: old calls finish where they began, new ones spread', { timeout: 240_000 }, async () => {
    worker = await startWorker({ emulator, vars: { ...VARS, LIVE_SHARDS: '1' }, persistDir });
    const old = Array.from({ length: 12 }, (_, i) => `moved-${i}`);
    const at = Date.now();
    for (const id of old) assert.equal((await deliver(worker, startEvent(id, at))).status, 200);
    assertOnceAndOrdered(await board(worker, admin), old);
    await worker.stop();

    worker = await startWorker({ emulator, vars: { ...VARS, LIVE_SHARDS: '4', LIVE_SHARDS_PREVIOUS: '1' }, persistDir });
    assert.ok(old.some((id) => shardOf(id, 4) !== 0), 'some old calls hash elsewhere under 4 shards');
    assertOnceAndOrdered(await board(worker, admin), old);
    const fresh = Array.from({ length: 12 }, (_, i) => `placed-after-${i}`);
    for (const id of fresh) assert.equal((await deliver(worker, startEvent(id, at + 1))).status, 200);
    // Bob answers on every old call: the update must reach the call where it is, not start a copy.
    for (const id of old) {
      assert.equal((await deliver(worker, memberEvent(id, at + 2, [['alice', 'Calling'], ['bob', 'Calling']], [['bob', 'Answer']]))).status, 200);
    }
    let calls = await board(worker, admin);
    assertOnceAndOrdered(calls, [...old, ...fresh]);
    for (const id of old) {
      const call = calls.find((c) => c.callId === id);
      assert.equal(call.members.find((m) => m.userId === 'bob').status, 'Calling', id);
      assert.equal(call.startedAt, at, `${id} kept its start: ${JSON.stringify(call)}`);
    }
    for (const id of [...old, ...fresh]) assert.equal((await deliver(worker, endEvent(id, at + 3))).status, 200);
    calls = await board(worker, admin);
    assertOnceAndOrdered(calls, [...old, ...fresh]);
    assert.ok([...old, ...fresh].every((id) => calls.find((c) => c.callId === id).state === 'ended'));
  });
});

describe('coalesced fan-out (LIVE_COALESCE_MS)', () => {
  let worker;
  before(async () => {
    worker = await startBareWorker({
      emulator, vars: { ...VARS, LIVE_SHARDS: '2', LIVE_COALESCE_MS: '200' }, callBoard: true, rateLimit: NO_LIMIT,
    });
  });
  after(async () => worker?.stop());

  test('changes within the window reach a socket as one batch frame; the client applies both forms', { timeout: 60_000 }, async () => {
    const client = new CallKitEdgeClient({ baseUrl: worker.url, token: admin, WebSocket: NodeWebSocket });
    let latest = { calls: [], status: 'connecting' };
    const stop = client.subscribe((calls, status) => { latest = { calls, status }; });
    const raw = [];
    for (const t of (await tickets(worker, admin)).tickets) {
      const s = await upgrade(worker, t);
      await s.waitFor((m) => m.type === 'snapshot', 'snapshot');
      raw.push(s);
    }
    try {
      await eventually(() => latest.status === 'open', 'open');
      const ids = Array.from({ length: 20 }, (_, i) => `batched-${i}`);
      await Promise.all(ids.map((id) => deliver(worker, startEvent(id, Date.now()))));
      await eventually(() => ids.every((id) => latest.calls.some((c) => c.callId === id)), 'every call through the client');
      await eventually(() => raw.flatMap((s) => s.messages).flatMap((m) => (m.type === 'batch' ? m.messages : [m]))
        .filter((m) => m.type === 'call' && ids.includes(m.call.callId)).length === ids.length, 'every change on the raw sockets');
      const frames = raw.flatMap((s) => s.messages).filter((m) => m.type === 'batch' || (m.type === 'call' && ids.includes(m.call.callId)));
      assert.ok(frames.some((m) => m.type === 'batch'), 'at least one batch frame');
      assert.ok(frames.length < ids.length, `${frames.length} frames for ${ids.length} changes`);
      // A lone change in a quiet window goes as it is.
      await deliver(worker, startEvent('alone', Date.now()));
      const alone = await eventually(() => raw.flatMap((s) => s.messages).find((m) => m.type === 'call' && m.call.callId === 'alone'), 'a plain frame');
      assert.equal(alone.type, 'call');
    } finally {
      stop();
      for (const s of raw) s.ws.close();
    }
  });
});

// The call ledger (docs/call-ledger.md): the built worker under wrangler dev
// with a real local D1 (migrations applied by the harness), fed by signed
// webhooks — the emulator's own and hand-made ones — and read back through
// /api/v1/history. Each test uses its own users and CallIds, so they share
// one worker and one ledger; they run in order (the backfill counts the
// emulator's records made by the first).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyMigrations,
  assertCleanWorker,
  assertProblem,
  auditLines,
  collectSecrets,
  deliverSigned,
  isolatedConfig,
  pointCallbackAt,
  ROOT,
  sentTokens,
  sleep,
  startEmulator,
  startWorker,
  WRANGLER_BIN,
} from './harness.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';

const TOKEN = 'ledger-callback-token-0123456789abcdef';
// The first fetch, 5 s after the end, finds no record yet (101050).
const RECORD_DELAY_MS = 7_000;
const RETENTION_DAYS = 30;
const DAY = 86_400_000;
const WAIT_MS = 45_000;

// Admins take turns, so the per-identity rate limit (120 / 60 s) is never reached.
const ADMINS = Array.from({ length: 8 }, (_, i) => `ledger-admin${i}`);
const adminTokens = ADMINS.map((a) => mintUserSig(a));
let turn = 0;
const admin = () => adminTokens[turn++ % adminTokens.length];
const tokens = new Map();
const as = (user) => tokens.get(user) ?? tokens.set(user, mintUserSig(user)).get(user);

let emulator;
let worker;
let persistDir;

const nowSecs = () => Math.floor(Date.now() / 1000);

/** POSTs a webhook the way Tencent does; `time` is the proof's RequestTime. */
const deliver = (body, time) => deliverSigned(worker, TOKEN, body, time);

const startEvent = (callId, at, caller, callees, { roomId = '' } = {}) => ({
  CallbackCommand: 'Call.CallbackAfterStartCall',
  CallInfo: { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: roomId, RoomIdType: 2 },
  UserList: [[caller, 'Calling'], ...callees.map((c) => [c, 'Waiting'])].map(([u, s]) => ({ User_Account: u, Status: s })),
  EventTime: at,
});
const answerEvent = (callId, at, caller, callee) => ({
  CallbackCommand: 'Call.CallbackAfterMemberChanged',
  CallId: callId,
  UserList: [caller, callee].map((u) => ({ User_Account: u, Status: 'Calling' })),
  ChangedUserList: [{ User_Account: callee, ActionType: 'Answer' }],
  EventTime: at,
});
/** The end; `acceptAt`/`endAt` in ms (whole seconds), `acceptAt` 0 when unanswered. */
const endEvent = (callId, { startAt, acceptAt = 0, endAt, caller, callees, result = 'NormalEnd', roomId = '' }) => ({
  CallbackCommand: 'Call.CallbackAfterEndCall',
  CallRecord: {
    CallId: callId, Caller_Account: caller, MediaType: 'Audio', CallType: 'SingleCall',
    StartTime: Math.floor(startAt / 1000), EndTime: Math.floor(endAt / 1000), AcceptTime: Math.floor(acceptAt / 1000),
    CallResult: result, CalleeList_Account: [caller, ...callees], RoomId: roomId, RoomIdType: 2,
  },
  EventTime: endAt,
});

/** A whole call by hand: start, (answer,) end. Times in ms, whole seconds. */
async function handCall(callId, { startAt, acceptAt = 0, endAt, caller, callees, result = 'NormalEnd', roomId = '' }) {
  await deliver(startEvent(callId, startAt, caller, callees, { roomId }));
  if (acceptAt) await deliver(answerEvent(callId, acceptAt, caller, callees[0]));
  await deliver(endEvent(callId, { startAt, acceptAt, endAt, caller, callees, result, roomId }));
}

const get = (path, token = admin()) => worker.request('GET', path, { token });

async function waitFor(label, probe, pred, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (pred(last)) return last;
    if (Date.now() > deadline) assert.fail(`${label}: ${JSON.stringify(last?.json ?? last)}`);
    await sleep(300);
  }
}

/** One call of the ledger as the admin sees it, once `pred` holds. */
const waitForCall = (callId, pred = () => true, ms) =>
  waitFor(`call ${callId}`, () => get(`/api/v1/history/${callId}`), (r) => r.status === 200 && pred(r.json), ms).then((r) => r.json);

/** Every call of a user's history (all pages). */
async function historyOf(user, query = '') {
  const calls = [];
  let cursor = '';
  for (;;) {
    const res = await get(`/api/v1/history?user=${user}&limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, res.text);
    calls.push(...res.json.calls);
    if (!res.json.nextCursor) return calls;
    cursor = res.json.nextCursor;
  }
}

before(async () => {
  emulator = await startEmulator({ recordDelayMs: RECORD_DELAY_MS, extraArgs: ['--webhook-token', TOKEN] });
  persistDir = await mkdtemp(join(tmpdir(), 'callkit-ledger-'));
  worker = await startWorker({
    emulator,
    persistDir,
    vars: {
      TENCENT_CALLBACK_TOKEN: TOKEN,
      ADMIN_USERS: ADMINS.join(','),
      HISTORY_RETENTION_DAYS: String(RETENTION_DAYS),
    },
  });
  await pointCallbackAt(worker, admin());
});

after(async () => {
  await worker?.stop();
  await emulator?.stop();
  if (persistDir) await rm(persistDir, { recursive: true, force: true });
});

let emulatorCallId;

describe('ingest', () => {
  test('start → member change → end → the record, fetched after 101050, merged into one row', async () => {
    const { callId } = await emulator.control.createCall({ caller: 'ann', callees: ['ben'], mediaType: 'Video' });
    emulatorCallId = callId;
    await emulator.control.act(callId, 'answer', 'ben');
    await sleep(1_100);
    await emulator.control.act(callId, 'hangup', 'ann');
    const webhookOnly = await waitForCall(callId, (c) => c.call.state === 'ended');
    assert.equal(webhookOnly.call.sources.end, 'webhook');

    const { call, timeline } = await waitForCall(callId, (c) => c.call.sources.record === 'fetch', 60_000);
    const counters = await emulator.control.counters();
    assert.ok(counters.received.get_record_by_callid >= 2, `asked again after 101050: ${JSON.stringify(counters)}`);
    const record = (await get(`/api/v1/records/${callId}`)).json.record;
    assert.equal(call.caller, 'ann');
    assert.deepEqual(call.members, ['ann', 'ben']);
    assert.equal(call.mediaType, 'Video');
    assert.equal(call.result, record.result);
    assert.equal(call.startedAt, record.startTime * 1000, 'the record outranks the webhook');
    assert.equal(call.acceptedAt, record.acceptTime * 1000);
    assert.equal(call.endedAt, record.endTime * 1000);
    assert.equal(call.talkMs, (record.endTime - record.acceptTime) * 1000);
    assert.deepEqual(call.sources, { start: 'webhook', end: 'webhook', record: 'fetch' });
    const events = timeline.map((e) => `${e.userId}:${e.event}`);
    for (const want of ['ann:started', 'ben:invited', 'ben:joined', 'null:ended']) assert.ok(events.includes(want), events.join(' '));
    assert.equal(events.filter((e) => e === 'null:ended').length, 1, events.join(' '));
    assert.ok(timeline.every((e) => e.source === 'webhook'), 'the record adds no entries to a call the webhooks told');
    const mine = await historyOf('ann');
    assert.equal(mine.filter((c) => c.callId === callId).length, 1);
  });

  test('replays, duplicates and out-of-order events give one correct row', async () => {
    const id = 'ledger-dup-1';
    const t = Math.floor((Date.now() - 120_000) / 1000) * 1000;
    const who = { caller: 'dupa', callees: ['dupb'] };
    const end = endEvent(id, { startAt: t, acceptAt: t + 3_000, endAt: t + 60_000, ...who });
    const replayTime = nowSecs();
    await deliver(answerEvent(id, t + 3_000, 'dupa', 'dupb'));
    await deliver(startEvent(id, t, 'dupa', ['dupb']));
    await deliver(startEvent(id, t, 'dupa', ['dupb']));
    await deliver(end);
    await deliver(end, replayTime);
    await deliver(end, replayTime);
    await deliver(answerEvent(id, t + 3_000, 'dupa', 'dupb'));
    await deliver(startEvent(id, t + 500, 'dupa', ['dupb']));
    const { call, timeline } = await waitForCall(id, (c) => c.call.state === 'ended');
    await sleep(1_500);
    const again = await waitForCall(id);
    assert.deepEqual(again.call, call, 'nothing changes after the end');
    assert.deepEqual(again.timeline, timeline);
    assert.equal(call.startedAt, t);
    assert.equal(call.acceptedAt, t + 3_000);
    assert.equal(call.endedAt, t + 60_000);
    assert.equal(call.result, 'NormalEnd');
    assert.deepEqual(call.members, ['dupa', 'dupb']);
    const count = (e) => timeline.filter((x) => `${x.userId}:${x.event}` === e).length;
    assert.equal(count('dupa:started'), 1, JSON.stringify(timeline));
    assert.equal(count('null:ended'), 1, JSON.stringify(timeline));
    assert.equal((await historyOf('dupa')).length, 1);
    assert.equal((await historyOf('dupb')).length, 1);
  });
});

describe('backfill', () => {
  test("imports Tencent's 7 days, merges with the webhook path, and is idempotent", async () => {
    const seeded = await emulator.control.seed({ records: 30, liveCalls: 0 });
    assert.equal(seeded.records, 30);
    const started = await worker.request('POST', '/api/v1/history/backfill', { token: admin() });
    assert.equal(started.status, 202, started.text);
    assert.ok(['running', 'done'].includes(started.json.state), started.text);
    const done = await waitFor('backfill', () => get('/api/v1/history/backfill'), (r) => r.json?.state === 'done');
    const p = done.json;
    assert.equal(p.records, 31, 'the 30 seeded records and the emulator call of the first test');
    assert.equal(p.added + p.merged, p.records);
    assert.ok(p.merged >= 1, 'the call the webhooks told is merged, not added');
    assert.ok(p.pages >= 1 && p.finishedAt >= p.startedAt);
    const ids = new Set();
    await waitFor('backfilled rows', async () => {
      ids.clear();
      for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'ann']) for (const c of await historyOf(user)) ids.add(c.callId);
      return ids.size;
    }, (n) => n === 31);
    const webhookCall = (await waitForCall(emulatorCallId)).call;
    assert.deepEqual(webhookCall.sources, { start: 'webhook', end: 'webhook', record: 'fetch' }, 'one row, its sources kept');
    const backfilled = (await historyOf('alice')).find((c) => c.sources.record === 'backfill');
    assert.deepEqual(backfilled.sources, { start: 'record', end: 'record', record: 'backfill' });

    const again = await worker.request('POST', '/api/v1/history/backfill', { token: admin(), body: {} });
    assert.equal(again.status, 202, again.text);
    const second = await waitFor('second backfill', () => get('/api/v1/history/backfill'), (r) => r.json?.state === 'done' && r.json.startedAt !== p.startedAt);
    assert.equal(second.json.records, 31);
    assert.equal(second.json.added, 0, 'idempotent');
    await sleep(1_500);
    const after = new Set();
    for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'ann']) for (const c of await historyOf(user)) after.add(c.callId);
    assert.equal(after.size, 31);

    const member = await worker.request('POST', '/api/v1/history/backfill', { token: as('alice') });
    assertProblem(member, 403, 'forbidden');
    const bad = await worker.request('POST', '/api/v1/history/backfill', { token: admin(), body: { since: 1 } });
    assert.equal(bad.status, 400, bad.text);
  });
});

describe('reading', () => {
  test('members see their calls, admins all; a hidden call answers like a missing one', async () => {
    const id = emulatorCallId;
    const mine = await get(`/api/v1/history/${id}`, as('ann'));
    assert.equal(mine.status, 200, mine.text);
    assert.ok((await get('/api/v1/history', as('ben'))).json.calls.some((c) => c.callId === id));
    const hidden = await get(`/api/v1/history/${id}`, as('mallory'));
    const missing = await get('/api/v1/history/no-such-call-0000', as('mallory'));
    assertProblem(hidden, 404, 'history_call_not_found');
    assert.deepEqual(hidden.json, missing.json);
    assert.equal(hidden.text, missing.text);
    const page = await get('/api/v1/history', as('mallory'));
    assert.deepEqual(page.json.calls, []);
    assertProblem(await get('/api/v1/history?user=ann', as('mallory')), 403, 'history_user_forbidden');
    assert.equal((await get('/api/v1/history?user=mallory', as('mallory'))).status, 200);
    assert.ok((await historyOf('ben')).some((c) => c.callId === id), 'an admin filters by user');
    assertProblem(await get('/api/v1/history/export', as('ann')), 403, 'forbidden');
  });

  test('bad queries are 400 with a stable code', async () => {
    for (const [query, code] of [
      ['from=yesterday', 'invalid_query'],
      ['limit=0', 'invalid_query'],
      ['result=Won', 'invalid_query'],
      ['page=2', 'invalid_query'],
      ['cursor=not-a-cursor', 'invalid_cursor'],
    ]) assertProblem(await get(`/api/v1/history?${query}`), 400, code, query);
    assertProblem(await get('/api/v1/history/stats?tz=Europe%2FParis'), 400, 'invalid_query');
    assertProblem(await get('/api/v1/history/stats?bucket=minute'), 400, 'invalid_query');
    assertProblem(await get('/api/v1/history/export?format=xlsx'), 400, 'invalid_query');
    const page = await get('/api/v1/history?result=NormalEnd&limit=1');
    assert.ok(page.json.nextCursor, page.text);
    assertProblem(await get(`/api/v1/history?result=Reject&limit=1&cursor=${page.json.nextCursor}`), 400, 'invalid_cursor');
    const old = await get(`/api/v1/history?from=0&to=${Date.now() + 10 * DAY}`);
    assert.equal(old.status, 200);
    assert.ok(old.json.from >= Date.now() - RETENTION_DAYS * DAY - 60_000, 'clamped to the retention');
    assert.ok(old.json.to <= Date.now(), 'clamped to now');
  });

  test('cursor pages stay stable while calls are added', async () => {
    const base = Math.floor((Date.now() - 30 * 60_000) / 1000) * 1000;
    const call = (n, at) => handCall(`ledger-cursor-${n}`, { startAt: at, endAt: at + 10_000, caller: 'cursor-a', callees: ['cursor-b'] });
    for (let i = 0; i < 5; i++) await call(i, base + i * 60_000);
    await waitFor('five calls', () => historyOf('cursor-a'), (c) => c.length === 5);
    const first = await get('/api/v1/history?user=cursor-a&limit=2');
    assert.deepEqual(first.json.calls.map((c) => c.callId), ['ledger-cursor-4', 'ledger-cursor-3']);
    await call(5, base + 10 * 60_000);
    await call(6, base + 11 * 60_000);
    await waitFor('seven calls', () => historyOf('cursor-a'), (c) => c.length === 7);
    const seen = [...first.json.calls.map((c) => c.callId)];
    let cursor = first.json.nextCursor;
    while (cursor) {
      const next = await get(`/api/v1/history?user=cursor-a&limit=2&cursor=${cursor}`);
      assert.equal(next.status, 200, next.text);
      seen.push(...next.json.calls.map((c) => c.callId));
      cursor = next.json.nextCursor;
    }
    assert.deepEqual(seen, ['ledger-cursor-4', 'ledger-cursor-3', 'ledger-cursor-2', 'ledger-cursor-1', 'ledger-cursor-0']);
  });

  test('stats match hand-computed buckets, per day and per offset', async () => {
    const day = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
    const who = { caller: 'stats-a', callees: ['stats-b'] };
    const h = 3_600_000;
    await handCall('ledger-stats-1', { startAt: day + h, acceptAt: day + h + 10_000, endAt: day + h + 70_000, ...who });
    await handCall('ledger-stats-2', { startAt: day + 2 * h, acceptAt: day + 2 * h + 5_000, endAt: day + 2 * h + 125_000, ...who });
    await handCall('ledger-stats-3', { startAt: day + 3 * h, endAt: day + 3 * h + 20_000, result: 'Reject', ...who });
    await handCall('ledger-stats-4', { startAt: day + 25 * h, acceptAt: day + 25 * h + 1_000, endAt: day + 25 * h + 31_000, result: 'Interrupt', ...who });
    await waitFor('four calls', () => historyOf('stats-a'), (c) => c.length === 4 && c.every((x) => x.state === 'ended'));
    const range = `from=${day}&to=${day + 2 * DAY}`;
    const utc = await get(`/api/v1/history/stats?${range}&bucket=day`, as('stats-a'));
    assert.equal(utc.status, 200, utc.text);
    assert.deepEqual(utc.json.buckets, [
      { start: day, calls: 3, answered: 2, answerRate: 2 / 3, results: { NormalEnd: 2, Reject: 1 }, talkMs: { sum: 180_000, p50: 60_000, p95: 120_000 } },
      { start: day + DAY, calls: 1, answered: 1, answerRate: 1, results: { Interrupt: 1 }, talkMs: { sum: 30_000, p50: 30_000, p95: 30_000 } },
    ]);
    const east = await get(`/api/v1/history/stats?${range}&bucket=day&tz=%2B08:00`, as('stats-b'));
    assert.equal(east.json.tz, '+08:00');
    assert.deepEqual(east.json.buckets.map((b) => [b.start, b.calls]), [[day - 8 * h, 3], [day + 16 * h, 1]]);
    const hourly = await get(`/api/v1/history/stats?from=${day}&to=${day + DAY}&bucket=hour`, as('stats-a'));
    assert.deepEqual(hourly.json.buckets.map((b) => [b.start, b.calls]), [[day + h, 1], [day + 2 * h, 1], [day + 3 * h, 1]]);
    const outsider = await get(`/api/v1/history/stats?${range}`, as('mallory'));
    assert.deepEqual(outsider.json.buckets, [], 'members see their own calls');
    const all = await get(`/api/v1/history/stats?${range}`);
    assert.ok(all.json.buckets[0].calls >= 3, 'the admin sees the whole app');
  });

  test('stats from the rollup: an end replayed or before its start counts once; unaligned windows and offsets exact', async () => {
    const day = Math.floor(Date.now() / DAY) * DAY - 4 * DAY;
    const [h, min] = [3_600_000, 60_000];
    const who = { caller: 'roll-a', callees: ['roll-b'] };
    // 10:00 UTC, talk 60 s; 20:07 UTC (inside a 15-minute slot), talk 45 s.
    const one = { startAt: day + 10 * h, acceptAt: day + 10 * h + 4_000, endAt: day + 10 * h + 64_000, ...who };
    const two = { startAt: day + 20 * h + 7 * min, acceptAt: day + 20 * h + 7 * min + 2_000, endAt: day + 20 * h + 7 * min + 47_000, ...who };
    await handCall('ledger-roll-1', one);
    // The end first, then its start and answer, then the end again: each a new delivery.
    await deliver(endEvent('ledger-roll-2', two));
    await deliver(startEvent('ledger-roll-2', two.startAt, 'roll-a', ['roll-b']));
    await deliver(answerEvent('ledger-roll-2', two.acceptAt, 'roll-a', 'roll-b'));
    await deliver(endEvent('ledger-roll-2', two), nowSecs() - 1);
    await deliver(endEvent('ledger-roll-1', one), nowSecs() - 2);
    await waitFor('two calls', () => historyOf('roll-a'), (c) => c.length === 2 && c.every((x) => x.state === 'ended'));
    await sleep(1_500); // a drain after the replays
    const stats = async (query, user = 'roll-a') => {
      const res = await get(`/api/v1/history/stats?${query}`, as(user));
      assert.equal(res.status, 200, res.text);
      return res.json.buckets;
    };
    const both = { calls: 2, answered: 2, answerRate: 1, results: { NormalEnd: 2 }, talkMs: { sum: 105_000, p50: 45_000, p95: 60_000 } };
    for (const user of ['roll-a', 'roll-b']) {
      assert.deepEqual(await stats(`from=${day}&to=${day + DAY}&bucket=day`, user), [{ start: day, ...both }], user);
    }
    // Ends inside a slot: the partial slots are read from the calls.
    const only = (b) => b.map((x) => [x.start, x.calls, x.talkMs.sum]);
    assert.deepEqual(only(await stats(`from=${day + 10 * h + 1}&to=${day + DAY}&bucket=day`)), [[day, 1, 45_000]]);
    assert.deepEqual(only(await stats(`from=${two.startAt}&to=${two.startAt + 1}&bucket=hour`)), [[day + 20 * h, 1, 45_000]]);
    assert.deepEqual(only(await stats(`from=${two.startAt + 1}&to=${day + DAY - 7}&bucket=hour`)), []);
    assert.deepEqual(only(await stats(`from=${day + 9 * h + 59 * min}&to=${two.startAt}&bucket=hour`)), [[day + 10 * h, 1, 60_000]]);
    // A quarter-hour offset (the rollup) and one that is not (the calls): hours start at :15 and :53 UTC.
    assert.deepEqual(only(await stats(`from=${day}&to=${day + DAY}&bucket=hour&tz=%2B05:45`)),
      [[day + 9 * h + 15 * min, 1, 60_000], [day + 19 * h + 15 * min, 1, 45_000]]);
    assert.deepEqual(only(await stats(`from=${day}&to=${day + DAY}&bucket=hour&tz=%2B05:07`)),
      [[day + 9 * h + 53 * min, 1, 60_000], [day + 19 * h + 53 * min, 1, 45_000]]);
    assert.deepEqual(only(await stats(`from=${day}&to=${day + DAY}&bucket=day&tz=-09:30`)),
      [[day + 9 * h + 30 * min, 2, 105_000]]);
  });

  test('the export streams RFC 4180 CSV whose cells never run as formulas, and NDJSON', async () => {
    const at = Math.floor((Date.now() - 2 * DAY) / 1000) * 1000;
    const evil = '=HYPERLINK("x","y")';
    await handCall('ledger-csv-1', { startAt: at, endAt: at + 5_000, caller: evil, callees: ['@csv-b'], roomId: '+SUM(1,2)' });
    await waitForCall('ledger-csv-1', (c) => c.call.state === 'ended');
    const range = `from=${at - 1}&to=${at + 1}`;
    const csv = await get(`/api/v1/history/export?${range}`);
    assert.equal(csv.status, 200, csv.text);
    assert.match(csv.headers['content-type'], /^text\/csv/);
    assert.match(csv.headers['content-disposition'], /attachment; filename="call-history.csv"/);
    const lines = csv.text.split('\r\n');
    assert.equal(lines[0], 'callId,state,startedAt,acceptedAt,endedAt,talkMs,caller,members,mediaType,callType,result,roomId,groupId,startSource,endSource,recordSource');
    assert.equal(lines.at(-1), '', 'every row ends in CRLF');
    const row = lines.find((l) => l.startsWith('ledger-csv-1,'));
    assert.equal(row, `ledger-csv-1,ended,${new Date(at).toISOString()},,${new Date(at + 5_000).toISOString()},,"'=HYPERLINK(""x"",""y"")","'=HYPERLINK(""x"",""y"");@csv-b",Audio,SingleCall,NormalEnd,"'+SUM(1,2)",,webhook,webhook,`);
    for (const cell of parseCsv(csv.text).flat()) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, cell);
    const nd = await get(`/api/v1/history/export?${range}&format=ndjson`);
    assert.match(nd.headers['content-type'], /^application\/x-ndjson/);
    const calls = nd.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(calls.map((c) => c.callId), ['ledger-csv-1']);
    assert.equal(calls[0].caller, evil, 'NDJSON keeps the value as it is');
  });

  test('an export longer than one D1 page streams every call once', async () => {
    await emulator.control.seed({ records: 600, liveCalls: 0 });
    const started = await worker.request('POST', '/api/v1/history/backfill', { token: admin() });
    assert.equal(started.status, 202, started.text);
    await waitFor('backfill of 600', () => get('/api/v1/history/backfill'), (r) => r.json?.state === 'done' && r.json.records >= 631);
    const total = (r) => r.text.trim().split('\n').length;
    await waitFor('600 more rows', () => get('/api/v1/history/export?format=ndjson'), (r) => r.status === 200 && total(r) >= 640);
    const nd = await get('/api/v1/history/export?format=ndjson');
    const ids = nd.text.trim().split('\n').map((l) => JSON.parse(l).callId);
    assert.equal(new Set(ids).size, ids.length, 'each call once across pages');
    const starts = nd.text.trim().split('\n').map((l) => JSON.parse(l).startedAt);
    assert.deepEqual(starts, [...starts].sort((a, b) => b - a), 'newest first across pages');
    const csv = await get('/api/v1/history/export');
    assert.equal(csv.text.split('\r\n').length - 2, ids.length, 'the CSV has the same calls');
  });
});

describe('erasure and retention', () => {
  test('erasure removes every row naming the user, keeps the others, and logs counts only', async () => {
    const t = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
    await handCall('ledger-erase-1', { startAt: t, acceptAt: t + 2_000, endAt: t + 9_000, caller: 'erase-me', callees: ['keeper'] });
    await handCall('ledger-erase-2', { startAt: t + 60_000, endAt: t + 70_000, caller: 'keeper', callees: ['erase-me'], result: 'Reject' });
    await waitFor('both calls', () => historyOf('erase-me'), (c) => c.length === 2 && c.every((x) => x.state === 'ended'));
    assertProblem(await worker.request('DELETE', '/api/v1/history/users/erase-me', { token: as('keeper') }), 403, 'forbidden');
    const eraser = admin();
    const erased = await worker.request('DELETE', '/api/v1/history/users/erase-me', { token: eraser });
    assert.equal(erased.status, 200, erased.text);
    assert.equal(erased.json.userId, 'erase-me');
    assert.equal(erased.json.calls, 2);
    assert.equal(erased.json.members, 2);
    assert.equal(erased.json.callers, 1);
    assert.ok(erased.json.timeline >= 4, erased.text);
    assert.deepEqual(await historyOf('erase-me'), []);
    const kept = await historyOf('keeper');
    assert.deepEqual(kept.map((c) => c.callId).sort(), ['ledger-erase-1', 'ledger-erase-2']);
    for (const id of ['ledger-erase-1', 'ledger-erase-2']) {
      const { call, timeline } = await waitForCall(id);
      assert.ok(!JSON.stringify({ call, timeline }).includes('erase-me'), JSON.stringify({ call, timeline }));
    }
    assert.equal((await waitForCall('ledger-erase-1')).call.caller, '[erased]');
    const again = await worker.request('DELETE', '/api/v1/history/users/erase-me', { token: admin() });
    assert.deepEqual(again.json, { userId: 'erase-me', calls: 0, members: 0, timeline: 0, callers: 0 });
    await sleep(500);
    const line = auditLines(worker.logs()).find((l) => l.action === 'erase_history_user' && l.status === 200);
    assert.ok(line, 'an audit line');
    assert.equal(line.callId, null);
    assert.match(line.detail, /^erased 2 member rows, \d+ timeline entries, 1 callers$/);
    assert.ok(!JSON.stringify(line).includes('ledger-erase'), JSON.stringify(line));
  });

  test('the scheduled handler prunes calls past HISTORY_RETENTION_DAYS', async () => {
    const old = Math.floor((Date.now() - (RETENTION_DAYS + 10) * DAY) / 1000) * 1000;
    const recent = Math.floor((Date.now() - (RETENTION_DAYS - 1) * DAY) / 1000) * 1000;
    const who = { caller: 'prune-a', callees: ['prune-b'] };
    await handCall('ledger-old-1', { startAt: old, endAt: old + 60_000, ...who });
    await handCall('ledger-recent-1', { startAt: recent, endAt: recent + 60_000, ...who });
    await waitForCall('ledger-old-1', (c) => c.call.state === 'ended');
    await waitForCall('ledger-recent-1', (c) => c.call.state === 'ended');
    const res = await fetch(`${worker.url}/__scheduled?cron=${encodeURIComponent('17 3 * * *')}`);
    assert.equal(res.status, 200, await res.text());
    await waitFor('pruned', () => get('/api/v1/history/ledger-old-1'), (r) => r.status === 404);
    assert.equal((await get('/api/v1/history/ledger-recent-1')).status, 200);
    assert.match(worker.logs(), /"kind":"ledger","event":"retention","pruned":1,/);
  });
});

describe('D1 down, then back', () => {
  test('webhooks are answered and applied to the board; the ledger catches up with nothing lost', async () => {
    await worker.restart({ ledgerDown: true });
    const down = await get('/api/v1/history?user=down-a');
    assertProblem(down, 503, 'history_unavailable');
    assert.equal(down.headers['retry-after'], '5');
    assert.doesNotMatch(down.text, /SELECT|calls|sqlite|D1_/i, 'no SQL or D1 text');
    const t = Math.floor((Date.now() - 600_000) / 1000) * 1000;
    const ids = Array.from({ length: 6 }, (_, i) => `ledger-down-${i}`);
    for (const [i, id] of ids.entries()) {
      await handCall(id, { startAt: t + i * 1_000, acceptAt: t + i * 1_000 + 2_000, endAt: t + i * 1_000 + 30_000, caller: 'down-a', callees: ['down-b'] });
    }
    const board = await get('/api/v1/live/calls');
    assert.equal(board.status, 200, board.text);
    for (const id of ids) assert.ok(board.json.calls.some((c) => c.callId === id && c.state === 'ended'), `${id} on the board`);
    await sleep(6_000);
    assert.match(worker.logs(), /"kind":"ledger","event":"drain failed"/, 'the drain was tried and failed');

    await worker.restart({ ledgerDown: false });
    const rows = await waitFor('caught up', () => historyOf('down-a'), (c) => c.length === ids.length && c.every((x) => x.state === 'ended'), 60_000);
    assert.deepEqual(rows.map((c) => c.callId).sort(), ids);
    for (const c of rows) assert.equal(c.talkMs, 28_000);
    const { timeline } = await waitForCall(ids[0]);
    assert.deepEqual(timeline.map((e) => `${e.userId}:${e.event}`).sort(), ['down-a:started', 'down-b:invited', 'down-b:joined', 'down-a:left', 'down-b:left', 'null:ended'].sort());
  });
});

describe('stats rollup', () => {
  test('after ingest, backfill, erasure and retention, the rollup holds exactly what the calls count', async () => {
    // Every write path above has run: the rollup must equal a recount from the calls and members.
    // The ended calls with their slot, talk time and its bin (docs/call-ledger.md), computed here.
    const lead = 'CAST(substr(talk, 1, 2) AS INTEGER)';
    const ended = `(SELECT call_id, started_at / 900000 AS slot, coalesce(result, '') AS result, accepted_at IS NOT NULL AS answered,
      talk, length(talk) * 100 + ${lead} - ${lead} % (CASE WHEN ${lead} < 20 THEN 1 WHEN ${lead} < 50 THEN 2 ELSE 5 END) AS bin
      FROM (SELECT *, CASE WHEN accepted_at IS NOT NULL AND ended_at IS NOT NULL THEN max(ended_at - accepted_at, 0) END AS talk
      FROM calls WHERE end_rank > 0))`;
    const recount = (key, values, where) => `SELECT s.scope, v.slot, v.${key}, count(*)${values} FROM ${ended} v
      JOIN (SELECT call_id, '' AS scope FROM calls UNION ALL SELECT call_id, user_id FROM members) s ON s.call_id = v.call_id
      ${where} GROUP BY s.scope, v.slot, v.${key}`;
    const slots = recount('result', ', sum(v.answered), coalesce(sum(v.talk), 0)', '');
    const talk = recount('bin', ', sum(v.talk)', 'WHERE v.talk IS NOT NULL');
    const differ = (table, cols, sql) => `(SELECT count(*) FROM (SELECT ${cols} FROM ${table} EXCEPT ${sql}))
      + (SELECT count(*) FROM (${sql} EXCEPT SELECT ${cols} FROM ${table}))`;
    const [row] = await ledgerSql(`SELECT ${differ('stats_slots', 'scope, slot, result, calls, answered, talk_ms', slots)} AS slots_off,
      ${differ('stats_talk', 'scope, slot, bin, calls, talk_ms', talk)} AS talk_off,
      (SELECT count(*) FROM stats_slots) AS slots, (SELECT count(*) FROM stats_talk) AS bins,
      (SELECT count(*) FROM stats_share) AS shares,
      (SELECT count(*) FROM stats_slots WHERE scope = 'erase-me') AS erased,
      (SELECT count(*) FROM stats_slots WHERE slot < ${Math.floor((Date.now() - RETENTION_DAYS * DAY) / 900_000)}) AS pruned`);
    assert.ok(row.slots > 10 && row.bins > 10, JSON.stringify(row));
    assert.deepEqual({ ...row, slots: 0, bins: 0 }, { slots_off: 0, talk_off: 0, slots: 0, bins: 0, shares: 0, erased: 0, pruned: 0 });
  });
});

describe('renderings', () => {
  // SQLite renders each call (src/ledger/view.rs). The expected texts come
  // from the rules the worker used to apply itself: serde_json's JSON (which
  // escapes as JSON.stringify does) and the CSV cell rules of RFC 4180 and
  // OWASP's CSV injection advice, with the cases of its old unit tests.
  const cell = (v) => {
    const guarded = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[,"\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
  };
  const iso = (ms) => (ms === null ? '' : new Date(ms).toISOString());
  const END = [null, 'reconcile', 'record', 'webhook'];
  // The cell rules apply to the free-text cells (CallId, caller, members,
  // room and group IDs); the others hold words the ledger writes itself.
  const calls = [
    {
      call_id: 'render-1', caller: '=HYPERLINK("x")', media_type: 'Audio', call_type: 'SingleCall', result: 'NormalEnd',
      started_at: 1_740_464_128_807, accepted_at: 1_740_464_130_000, ended_at: 1_740_464_190_001,
      room_id: '+1', group_id: '-2+3', start_src: 'webhook', end_rank: 3, record_src: 'fetch',
      members: ['mid=dle', '=HYPERLINK("x")', '@SUM(A1)'],
    },
    {
      call_id: 'render-2', caller: '\rx', media_type: null, call_type: null, result: null,
      started_at: 0, accepted_at: null, ended_at: null, room_id: '\tx', group_id: 'a,b', start_src: 'webhook',
      end_rank: 0, record_src: null, members: ['alice'],
    },
    {
      call_id: 'render-3', caller: 'line\nbreak', media_type: 'Video', call_type: 'MultiCall', result: 'Offline',
      started_at: 253_402_300_799_999, accepted_at: 951_782_400_000, ended_at: 951_782_399_000,
      room_id: '\u0001\b\f\n\r\t\u001f\\/\u007f é😀', group_id: 'say "hi"', start_src: 'record', end_rank: 1,
      record_src: 'backfill', members: ['zed', 'amy'],
    },
    {
      call_id: 'render-4', caller: null, media_type: null, call_type: null, result: null,
      started_at: 86_400_000, accepted_at: 86_400_001, ended_at: null, room_id: '', group_id: '', start_src: 'webhook',
      end_rank: 2, record_src: null, members: [],
    },
  ];
  const talk = (c) => (c.accepted_at === null || c.ended_at === null ? null : Math.max(c.ended_at - c.accepted_at, 0));
  // Caller first when a member, then the others by name.
  const members = (c) => [...c.members.filter((m) => m === c.caller), ...c.members.filter((m) => m !== c.caller).sort()];
  const json = (c) => JSON.stringify({
    callId: c.call_id, state: c.end_rank > 0 ? 'ended' : 'live', caller: c.caller, members: members(c),
    mediaType: c.media_type, callType: c.call_type, result: c.result, startedAt: c.started_at,
    acceptedAt: c.accepted_at, endedAt: c.ended_at, talkMs: talk(c), roomId: c.room_id, groupId: c.group_id,
    sources: { start: c.start_src, end: END[c.end_rank], record: c.record_src },
  });
  const csvLine = (c) => [
    cell(c.call_id), c.end_rank > 0 ? 'ended' : 'live', iso(c.started_at), iso(c.accepted_at), iso(c.ended_at),
    talk(c) ?? '', cell(c.caller ?? ''), cell(members(c).join(';')), cell(c.media_type ?? ''), cell(c.call_type ?? ''),
    cell(c.result ?? ''), cell(c.room_id), cell(c.group_id), cell(c.start_src), END[c.end_rank] ?? '', cell(c.record_src ?? ''),
  ].join(',') + '\r\n';
  // A SQL literal that carries control characters through the shell as char().
  const text = (v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v)
    : `(''${[...v].map((ch) => ` || ${ch.codePointAt(0) < 0x20 ? `char(${ch.codePointAt(0)})` : `'${ch.replaceAll("'", "''")}'`}`).join('')})`);

  test('calls render as the JSON and the CSV lines the API answered before, cells guarded', async () => {
    assert.equal(cell('alice'), 'alice');
    assert.equal(cell('mid=dle'), 'mid=dle');
    const queries = JSON.parse(await readFile(join(ROOT, 'tests/integration/ledger-queries.json'), 'utf8'));
    const render = (name) => queries.find((q) => q.name === name).sql;
    const db = await scratchLedger('callkit-render-');
    try {
      const run = (sql) => {
        const out = db.execute(sql);
        assert.equal(out.status, 0, `${sql}: ${out.stderr}${out.stdout}`);
        return JSON.parse(out.stdout)[0].results;
      };
      const columns = ['call_id', 'caller', 'media_type', 'call_type', 'result', 'started_at', 'accepted_at', 'ended_at', 'room_id', 'group_id', 'start_src', 'end_rank', 'record_src'];
      for (const c of calls) {
        run(`INSERT INTO calls (${columns}) VALUES (${columns.map((k) => text(c[k]))})`);
        for (const m of c.members) run(`INSERT INTO members (call_id, user_id, started_at) VALUES (${text(c.call_id)}, ${text(m)}, ${c.started_at})`);
      }
      for (const c of calls) {
        const [asJson] = run(literal(render('render: a call as JSON'), [c.call_id]));
        assert.deepEqual(Object.values(asJson), [json(c), c.started_at, c.call_id]);
        const [asCsv] = run(literal(render('render: a call as CSV'), [c.call_id]));
        assert.deepEqual(Object.values(asCsv), [csvLine(c), c.started_at, c.call_id]);
        assert.equal(parseCsv(csvLine(c))[0].length, 16);
      }
    } finally {
      await db.dispose();
    }
  });
});

describe('query plans', () => {
  test('no history query, ingest or pruning statement scans a whole table', async () => {
    const queries = JSON.parse(await readFile(join(ROOT, 'tests/integration/ledger-queries.json'), 'utf8'));
    const db = await scratchLedger('callkit-plans-');
    try {
      for (const q of queries) {
        // One statement per run: D1 does not finish an EXPLAIN before the next.
        const out = db.execute(`EXPLAIN QUERY PLAN ${literal(q.sql, q.params)}`);
        assert.equal(out.status, 0, `${q.name}: ${out.stderr}`);
        const plan = JSON.parse(out.stdout)[0].results.map((r) => r.detail);
        assert.ok(plan.length > 0, q.name);
        const tables = plan.filter((d) => /^(SCAN|SEARCH) (calls|members|timeline|stats_slots|stats_talk|c|m|m2|sl|st)\b/.test(d));
        for (const d of tables) assert.match(d, /^SEARCH /, `${q.name} scans a table: ${plan.join(' | ')}`);
        if (/^(history page|stats)/.test(q.name)) {
          // A member's history or a time range: an index range, newest first.
          const range = /^SEARCH (c|m) USING (COVERING )?INDEX (calls_by_start|members_by_user) \((user_id=\? AND )?started_at>\? AND started_at<\?\)$/;
          assert.ok(plan.some((d) => range.test(d)), `${q.name}: ${plan.join(' | ')}`);
        }
        if (/^stats from the rollup/.test(q.name)) {
          // Whole slots from both rollup tables, each one range of its primary key.
          for (const t of ['sl', 'st']) {
            assert.ok(plan.includes(`SEARCH ${t} USING PRIMARY KEY (scope=? AND slot>? AND slot<?)`), `${q.name}: ${plan.join(' | ')}`);
          }
        }
      }
    } finally {
      await db.dispose();
    }
  });
});

test('no answer or log line carries a secret', async () => {
  const secrets = collectSecrets({
    secretKey: DEMO_KEY,
    userSigs: [...adminTokens, ...tokens.values()],
    tokens: sentTokens(worker),
    emulatorUrl: emulator.url,
    extra: [TOKEN],
  });
  await assertCleanWorker(worker, secrets, 'ledger worker');
  assert.doesNotMatch(worker.logs(), /INSERT INTO|SELECT .* FROM|DELETE FROM/, 'no SQL in the logs');
});

/** A local D1 of its own with the migrations applied: `execute(sql)` runs one statement. */
async function scratchLedger(prefix) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const config = join(dir, 'wrangler.toml');
  await writeFile(config, isolatedConfig(await readFile(join(ROOT, 'wrangler.toml'), 'utf8')));
  const state = join(dir, 'state');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: 'true' };
  await applyMigrations(config, state, env);
  return {
    execute: (sql) => spawnSync(WRANGLER_BIN, ['d1', 'execute', 'CALL_LEDGER', '--local', '--config', config, '--persist-to', state, '--json', '--command', sql], { env, encoding: 'utf8' }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Rows of `sql` run on the worker's own local D1 (its persisted state). */
async function ledgerSql(sql) {
  const dir = await mkdtemp(join(tmpdir(), 'callkit-ledger-sql-'));
  try {
    const config = join(dir, 'wrangler.toml');
    await writeFile(config, isolatedConfig(await readFile(join(ROOT, 'wrangler.toml'), 'utf8')));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: 'true' };
    const out = spawnSync(WRANGLER_BIN, ['d1', 'execute', 'CALL_LEDGER', '--local', '--config', config, '--persist-to', persistDir, '--json', '--command', sql], { env, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    return JSON.parse(out.stdout)[0].results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `sql` with its `?N` parameters written as literals (the plan is the same). */
function literal(sql, params) {
  const lit = (v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replaceAll("'", "''")}'`);
  let next = 0;
  return sql.replace(/\?(\d*)/g, (_, n) => lit(params[n ? Number(n) - 1 : next++]));
}

/** RFC 4180 cells, quotes undone. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += ch;
  }
  return rows;
}

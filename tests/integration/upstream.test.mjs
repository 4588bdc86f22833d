// Issue 3: the built worker in workerd against the real emulator, through the
// edge API. Every upstream command, every upstream error class, timeouts,
// retries, no duplicated call starts, admin credential expiry and renewal,
// and a sweep of every answer and log line for leaked secrets.
//
// One emulator and one default worker for the whole file; a second worker
// (static, expired admin UserSig) only in its own block. Emulator state,
// counters and faults are reset before each test.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  REQUEST_ID,
  assertAuditTrail,
  assertCleanWorker,
  assertProblem,
  collectSecrets,
  mintedUserSigs,
  sentTokens,
  sleep,
  startEmulator,
  startWebhookReceiver,
  startWorker,
} from './harness.mjs';
import { DEMO_KEY, claims, mintUserSig, signJwt, verifyUserSig } from './tokens.mjs';

// Short-lived admin sigs (renewed 1 s before expiry) so renewal is observable.
const ADMIN_TTL_SECS = 5;
const TIMEOUT_MS = 3500;
const DEADLINE_MS = 9000;
// Longer than the per-attempt timeout: the worker gives up on every attempt.
const SLOW_MS = TIMEOUT_MS + 1000;
// Attempts per call, the first included (callkit-core's RetryPolicy default).
// Two timed-out attempts and their backoff (at most 3500 + 200 + 3500 + 400 ms)
// leave the third attempt time within DEADLINE_MS.
const MAX_ATTEMPTS = 3;

const ADMIN = mintUserSig('administrator');
const ADMIN1 = mintUserSig('admin1');
const ALICE = mintUserSig('alice');
const BOB = mintUserSig('bob');

let emulator;
let worker;
let hooks;
let staticWorker;
const staticSecrets = { sig: undefined, jwtSecret: undefined };

before(async () => {
  emulator = await startEmulator({ recordDelayMs: 0, rateLimit: 0 });
  hooks = await startWebhookReceiver();
  worker = await startWorker({ emulator, vars: { ADMIN_USERSIG_TTL_SECS: String(ADMIN_TTL_SECS) } });
});

after(async () => {
  await worker?.stop();
  await staticWorker?.stop();
  await hooks?.stop();
  await emulator?.stop();
});

beforeEach(async () => {
  await emulator.control.reset();
});

const ctl = () => emulator.control;

async function liveCall({ caller = 'alice', callees = ['bob'], mediaType = 'Audio', ...rest } = {}) {
  const { callId } = await ctl().createCall({ caller, callees, mediaType, roomId: 'r1', roomIdType: 2, ...rest });
  assert.equal(typeof callId, 'string');
  return callId;
}

function assertRequestId(res) {
  assert.match(res.json.requestId, REQUEST_ID, res.text);
  assert.equal(res.headers['x-tencent-request-id'], res.json.requestId, 'X-Tencent-Request-Id header');
}

/** A problem that came from a Tencent error code: the code and RequestId are passed on. */
function assertUpstreamProblem(res, status, code, tencentCode) {
  const p = assertProblem(res, status, code);
  assert.equal(p.tencentErrorCode, tencentCode, res.text);
  assert.match(p.requestId, REQUEST_ID, res.text);
  return p;
}

/**
 * 101004/101050 surface as a 404 that carries no upstream trace, so a call the
 * caller may not see looks exactly like one that does not exist.
 */
function assertHiddenNotFound(res, code) {
  const p = assertProblem(res, 404, code);
  assert.equal(p.tencentErrorCode, undefined, res.text);
  assert.equal(p.requestId, undefined, res.text);
  assert.equal(res.headers['x-tencent-request-id'], undefined, 'no X-Tencent-Request-Id');
  return p;
}

/** `[user, status]` pairs sorted by user, from the edge's (`userId`) or the emulator's (`user`) member list. */
const memberStatuses = (members, userField) =>
  members.map((m) => [m[userField], m.status]).sort(([a], [b]) => a.localeCompare(b));

async function counters() {
  const c = await ctl().counters();
  return { received: c.received, succeeded: c.succeeded };
}

/** Waits until requests the emulator is still delaying have finished, so they cannot leak into the next test's counters. */
const drainDelayed = () => sleep(SLOW_MS + 300);

// ------------------------------------------------------------ health and tokens

test('health reports the secret-key credential and never a secret', async () => {
  const res = await worker.request('GET', '/api/v1/health');
  assert.equal(res.status, 200, res.text);
  const h = res.json;
  assert.equal(h.status, 'ok');
  assert.equal(h.sdkAppId, 1400000000);
  assert.equal(h.authMode, 'usersig');
  assert.equal(h.credentialMode, 'secretKey');
  assert.equal(typeof h.region, 'string');
  assert.ok(h.credentialExpiresAt === null || Number.isInteger(h.credentialExpiresAt), res.text);
});

test('a UserSig minted by the worker (Rust) verifies in the independent JS implementation', async () => {
  const before = Math.floor(Date.now() / 1000);
  const res = await worker.request('POST', '/api/v1/usersig', { token: ALICE, body: {} });
  assert.equal(res.status, 200, res.text);
  const { userId, userSig, sdkAppId, expiresAt } = res.json;
  assert.equal(userId, 'alice');
  assert.equal(sdkAppId, 1400000000);
  const check = verifyUserSig(userSig, { identifier: 'alice' });
  assert.ok(check.ok, `JS verification failed: ${check.reason}`);
  assert.equal(check.doc['TLS.time'] + check.doc['TLS.expire'], expiresAt);
  assert.ok(check.doc['TLS.time'] >= before - 1);
  assert.equal(verifyUserSig(userSig, { identifier: 'alice', key: DEMO_KEY.replace(/^5/, '6') }).reason, 'sig');
  // And the Rust-minted sig is a valid bearer token for its owner.
  const again = await worker.request('POST', '/api/v1/usersig', { token: userSig, body: {} });
  assert.equal(again.status, 200, again.text);
});

// ------------------------------------------------------------ every command

describe('every upstream command', () => {
  test('get_call_info: GET /api/v1/calls/{callId}', async () => {
    const callId = await liveCall({ mediaType: 'Video' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assert.equal(res.status, 200, res.text);
    assertRequestId(res);
    const body = res.json;
    assert.equal(body.callId, callId);
    assert.equal(body.mediaType, 'Video');
    assert.equal(body.roomId, 'r1');
    assert.equal(body.roomIdType, 2);
    assert.equal(typeof body.groupId, 'string');
    // The caller rings (Calling), the callee has not answered (Waiting).
    assert.deepEqual(memberStatuses(body.members, 'userId'), [['alice', 'Calling'], ['bob', 'Waiting']]);
    // The emulator's own view agrees member for member, and exactly one upstream request was made.
    const view = await ctl().call(callId);
    assert.deepEqual(memberStatuses(view.members, 'user'), memberStatuses(body.members, 'userId'));
    const c = await counters();
    assert.equal(c.received.get_call_info, 1);
    assert.equal(c.succeeded.get_call_info, 1);
  });

  test('identical reads in flight together share one get_call_info; the member check runs for each reader', async () => {
    const callId = await liveCall();
    // The first request is held upstream, so the others arrive while it is in flight.
    await ctl().faults({ kind: 'delay', delayMs: 1500, count: 1, command: 'get_call_info' });
    const readers = [ALICE, BOB, ADMIN, ALICE, BOB, mintUserSig('carol')];
    const answers = await Promise.all(
      readers.map((token) => worker.request('GET', `/api/v1/calls/${callId}`, { token })),
    );
    for (const res of answers.slice(0, 5)) {
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, answers[0].json, 'one answer for all');
    }
    assertHiddenNotFound(answers[5], 'call_not_found');
    assert.equal((await counters()).received.get_call_info, 1, 'Tencent asked once');
    // Nothing is kept once it landed: the next read asks again.
    const later = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ALICE });
    assert.equal(later.status, 200, later.text);
    assert.equal((await counters()).received.get_call_info, 2);
  });

  test('end_call: POST /api/v1/calls/{callId}/end, then the call is gone', async () => {
    const callId = await liveCall();
    await ctl().act(callId, 'answer', 'bob');
    const res = await worker.request('POST', `/api/v1/calls/${callId}/end`, { token: ADMIN });
    assert.equal(res.status, 200, res.text);
    assertRequestId(res);
    assert.equal(res.json.callId, callId);
    assert.equal(res.json.ended, true);
    assert.equal((await counters()).succeeded.end_call, 1);

    const gone = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assertHiddenNotFound(gone, 'call_not_found');
  });

  test('start_call_by_robot: POST /api/v1/calls → 201, the callee is in the call', async () => {
    const res = await worker.request('POST', '/api/v1/calls', {
      token: ADMIN,
      body: {
        robot: 'bot1',
        callees: ['alice'],
        mediaType: 'Video',
        timeoutMs: 30000,
        userData: 'from the integration test',
        roomId: 'r9',
        roomIdType: 2,
        offlinePush: { title: 'Call', desc: 'bot1 is calling', ext: '{}' },
      },
    });
    assert.equal(res.status, 201, res.text);
    assertRequestId(res);
    assert.equal(typeof res.json.callId, 'string', res.text);
    assert.deepEqual(res.json.results, [{ userId: 'alice', resultCode: 0 }]);
    const c = await counters();
    assert.equal(c.received.start_call_by_robot, 1);
    assert.equal(c.succeeded.start_call_by_robot, 1);

    // The emulator holds the call the robot started, with alice ringing, and alice, as a member, may read it.
    const view = await ctl().call(res.json.callId);
    assert.equal(view.caller, 'bot1');
    assert.equal(view.roomId, 'r9');
    assert.deepEqual(memberStatuses(view.members, 'user'), [['alice', 'Waiting'], ['bot1', 'Calling']]);
    const asAlice = await worker.request('GET', `/api/v1/calls/${res.json.callId}`, { token: ALICE });
    assert.equal(asAlice.status, 200, asAlice.text);
    assert.equal(asAlice.json.mediaType, 'Video');
    assert.ok(asAlice.json.members.some((m) => m.userId === 'alice'));
  });

  test('get_record_by_callid: GET /api/v1/records/{callId} after a call ends', async () => {
    const callId = await liveCall({ caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    await ctl().act(callId, 'answer', 'bob');
    await ctl().act(callId, 'hangup', 'alice');
    const res = await worker.request('GET', `/api/v1/records/${callId}`, { token: ADMIN });
    assert.equal(res.status, 200, res.text);
    assertRequestId(res);
    const r = res.json.record;
    assert.equal(r.callId, callId);
    assert.equal(r.caller, 'alice');
    assert.ok(r.callees.includes('bob'), res.text);
    assert.equal(r.mediaType, 'Audio');
    assert.equal(r.callType, 'SingleCall');
    assert.equal(r.result, 'NormalEnd');
    assert.ok(Number.isInteger(r.startTime) && Number.isInteger(r.endTime), res.text);
    assert.ok(r.endTime >= r.startTime);
    assert.ok(Number.isInteger(r.acceptTime) && r.acceptTime >= r.startTime, res.text);
    assert.equal(r.roomId, 'r1');
    assert.equal(r.roomIdType, 2);
    assert.equal((await counters()).succeeded.get_record_by_callid, 1);

    // bob, a callee of the record, may read it too. A record never changes: his read is
    // answered from the isolate's memory (RECORD_CACHE_SECS), with the same body, and the
    // member check still runs on it (carol is not in the call).
    const asBob = await worker.request('GET', `/api/v1/records/${callId}`, { token: BOB });
    assert.equal(asBob.status, 200, asBob.text);
    assert.deepEqual(asBob.json, res.json);
    const asCarol = await worker.request('GET', `/api/v1/records/${callId}`, { token: mintUserSig('carol') });
    assertHiddenNotFound(asCarol, 'record_not_found');
    assert.equal((await counters()).succeeded.get_record_by_callid, 1, 'Tencent answered once');
  });

  test('get_record_by_filter: GET /api/v1/records with paging and filters agrees with the emulator', async () => {
    const seeded = await ctl().seed({ records: 30, liveCalls: 0 });
    assert.ok(seeded.records > 0);
    const all = await worker.request('GET', '/api/v1/records?page=1&perPage=100', { token: ADMIN1 });
    assert.equal(all.status, 200, all.text);
    assertRequestId(all);
    assert.equal(all.json.page, 1);
    assert.equal(all.json.perPage, 100);
    // Seeded records spread over 7 days; one near the window's edge may fall out.
    assert.ok(all.json.total <= seeded.records && all.json.total >= seeded.records - 1, all.text);
    assert.equal(all.json.records.length, all.json.total);
    const ids = new Set(all.json.records.map((r) => r.callId));
    assert.equal(ids.size, all.json.records.length, 'no duplicate records');

    const page2 = await worker.request('GET', '/api/v1/records?page=2&perPage=5', { token: ADMIN1 });
    assert.equal(page2.status, 200, page2.text);
    assert.equal(page2.json.page, 2);
    assert.equal(page2.json.perPage, 5);
    assert.equal(page2.json.total, all.json.total);
    assert.equal(page2.json.records.length, Math.min(5, Math.max(0, all.json.total - 5)));
    for (const r of page2.json.records) assert.ok(ids.has(r.callId));

    // A result filter returns exactly the matching records of the full list.
    const normal = all.json.records.filter((r) => r.result === 'NormalEnd' && r.callType === 'SingleCall');
    const filtered = await worker.request('GET', '/api/v1/records?result=NormalEnd&type=SingleCall&perPage=100', {
      token: ADMIN1,
    });
    assert.equal(filtered.status, 200, filtered.text);
    assert.equal(filtered.json.total, normal.length, filtered.text);
    assert.deepEqual(filtered.json.records.map((r) => r.callId).sort(), normal.map((r) => r.callId).sort());
    assert.equal((await counters()).succeeded.get_record_by_filter, 3);
  });

  test('set/get/delete_callback: PUT, GET, DELETE /api/v1/callback, and the webhooks arrive', async () => {
    hooks.received.length = 0;
    const url = `${hooks.url}/callkit-hook`;
    const commands = ['Call.CallbackAfterStartCall', 'Call.CallbackAfterEndCall', 'Call.CallbackAfterMemberChanged'];
    const set = await worker.request('PUT', '/api/v1/callback', { token: ADMIN, body: { url, commands } });
    assert.equal(set.status, 200, set.text);
    assertRequestId(set);
    assert.equal(set.json.url, url);
    assert.deepEqual([...set.json.commands].sort(), [...commands].sort());

    const got = await worker.request('GET', '/api/v1/callback', { token: ADMIN });
    assert.equal(got.status, 200, got.text);
    assertRequestId(got);
    assert.equal(got.json.url, url);
    assert.deepEqual([...got.json.commands].sort(), [...commands].sort());

    // A call started through the edge API fires CallbackAfterStartCall (REST-initiated).
    const started = await worker.request('POST', '/api/v1/calls', {
      token: ADMIN,
      body: { robot: 'bot1', callees: ['carol'], mediaType: 'Audio' },
    });
    assert.equal(started.status, 201, started.text);
    const hook = await hooks.waitFor((r) => r.url.includes('CallbackCommand=Call.CallbackAfterStartCall'));
    assert.equal(hook.method, 'POST');
    assert.ok(hook.url.startsWith('/callkit-hook?'), hook.url);
    assert.match(hook.url, /SdkAppid=1400000000/);
    assert.match(hook.url, /OptPlatform=RESTAPI/);
    assert.ok(hook.json, 'webhook body is JSON');
    assert.ok(hook.body.includes(started.json.callId), hook.body);

    // Ending it through the edge API fires CallbackAfterEndCall.
    const ended = await worker.request('POST', `/api/v1/calls/${started.json.callId}/end`, { token: ADMIN });
    assert.equal(ended.status, 200, ended.text);
    const endHook = await hooks.waitFor((r) => r.url.includes('CallbackCommand=Call.CallbackAfterEndCall'));
    assert.ok(endHook.body.includes(started.json.callId));

    // The emulator's log agrees with what the receiver saw.
    const log = await ctl().webhooks();
    assert.ok(Array.isArray(log));
    const startEntry = log.find((w) => w.command === 'Call.CallbackAfterStartCall');
    assert.ok(startEntry, JSON.stringify(log));
    assert.equal(startEntry.status, 200);
    assert.ok(startEntry.url.startsWith(url));

    const del = await worker.request('DELETE', '/api/v1/callback', { token: ADMIN });
    assert.equal(del.status, 200, del.text);
    assertRequestId(del);
    assert.equal(del.json.deleted, true);
    const none = await worker.request('GET', '/api/v1/callback', { token: ADMIN });
    assertUpstreamProblem(none, 404, 'callback_not_configured', 100301);

    const c = await counters();
    for (const cmd of ['set_callback', 'delete_callback']) assert.equal(c.succeeded[cmd], 1, cmd);
    assert.equal(c.succeeded.get_callback, 1);
    assert.equal(c.received.get_callback, 2);
  });
});

// ------------------------------------------------------------ upstream error classes

describe('upstream error classes', () => {
  test('101004 → 404 call_not_found', async () => {
    const before = await counters();
    const res = await worker.request('GET', `/api/v1/calls/${randomUUID()}`, { token: ADMIN });
    assertHiddenNotFound(res, 'call_not_found');
    assert.equal((await counters()).received.get_call_info, before.received.get_call_info + 1, 'asked Tencent once');
  });

  test('101050 → 404 record_not_found', async () => {
    const before = await counters();
    const res = await worker.request('GET', `/api/v1/records/${randomUUID()}`, { token: ADMIN });
    assertHiddenNotFound(res, 'record_not_found');
    assert.equal((await counters()).received.get_record_by_callid, before.received.get_record_by_callid + 1, 'asked Tencent once');
  });

  test('100301 → 404 callback_not_configured', async () => {
    const res = await worker.request('GET', '/api/v1/callback', { token: ADMIN1 });
    assertUpstreamProblem(res, 404, 'callback_not_configured', 100301);
  });

  test('60007 → 429 upstream_rate_limited with Retry-After', async () => {
    const callId = await liveCall();
    // Retryable: more faults than attempts, so the last answer is still 60007.
    await ctl().faults({ kind: 'error', errorCode: 60007, count: 10, command: 'get_call_info' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assertUpstreamProblem(res, 429, 'upstream_rate_limited', 60007);
    assert.match(res.headers['retry-after'] ?? '', /^[1-9]\d*$/, `Retry-After: ${res.headers['retry-after']}`);
  });

  test('101001 more often than the retries → 503 upstream_unavailable, retried a bounded number of times', async () => {
    const callId = await liveCall();
    await ctl().faults({ kind: 'error', errorCode: 101001, count: 10, command: 'get_call_info' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assertUpstreamProblem(res, 503, 'upstream_unavailable', 101001);
    const { received } = await counters();
    assert.equal(received.get_call_info, MAX_ATTEMPTS, 'attempts');
  });

  test('60010 → 502 upstream_configuration, not retried', async () => {
    const callId = await liveCall();
    await ctl().faults({ kind: 'error', errorCode: 60010, count: 1, command: 'get_call_info' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assertUpstreamProblem(res, 502, 'upstream_configuration', 60010);
    assert.equal((await counters()).received.get_call_info, 1);
  });

  test('70009 → 502 admin_credential_rejected, not retried', async () => {
    const callId = await liveCall();
    await ctl().faults({ kind: 'error', errorCode: 70009, count: 1, command: 'get_call_info' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assertUpstreamProblem(res, 502, 'admin_credential_rejected', 70009);
    assert.equal((await counters()).received.get_call_info, 1);
  });
});

// ------------------------------------------------------------ transport faults

describe('timeouts, bad gateways and dropped connections', () => {
  test('a delay beyond UPSTREAM_TIMEOUT_MS on every attempt → 504 upstream_timeout within the deadline', async () => {
    const callId = await liveCall();
    await ctl().faults({ kind: 'delay', delayMs: SLOW_MS, count: 10, command: 'get_call_info' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN, timeoutMs: 30_000 });
    try {
      assertProblem(res, 504, 'upstream_timeout');
      assert.ok(res.ms >= TIMEOUT_MS - 100, `answered after ${Math.round(res.ms)} ms, before one attempt could time out`);
      assert.ok(res.ms < DEADLINE_MS + 3000, `answered after ${Math.round(res.ms)} ms; deadline ${DEADLINE_MS} ms`);
      assert.equal((await counters()).received.get_call_info, MAX_ATTEMPTS, 'attempts');
    } finally {
      await ctl().clearFaults();
      await drainDelayed();
    }
  });

  test('an HTML 502 on every attempt → 502 upstream_bad_gateway after retries', async () => {
    const callId = await liveCall();
    await ctl().faults({ kind: 'html502', count: 10, command: 'get_call_info' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assertProblem(res, 502, 'upstream_bad_gateway');
    const { received } = await counters();
    assert.equal(received.get_call_info, MAX_ATTEMPTS, 'attempts');
  });

  test('one HTML 502, then success → 200 (retried)', async () => {
    const callId = await liveCall();
    await ctl().faults({ kind: 'html502', count: 1, command: 'get_call_info' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.callId, callId);
    const c = await counters();
    assert.equal(c.received.get_call_info, 2);
    assert.equal(c.succeeded.get_call_info, 1);
  });

  test('one dropped connection on get_call_info → retried, 200; 2 received, 1 succeeded', async () => {
    const callId = await liveCall();
    await ctl().faults({ kind: 'drop', count: 1, command: 'get_call_info' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assert.equal(res.status, 200, res.text);
    assertRequestId(res);
    const c = await counters();
    assert.equal(c.received.get_call_info, 2);
    assert.equal(c.succeeded.get_call_info, 1);
  });

  test('POST /api/v1/calls is never duplicated under drop-after-execute, delay and HTML 502', async () => {
    const body = { robot: 'bot1', callees: ['alice'], mediaType: 'Audio' };
    const received = async () => (await counters()).received.start_call_by_robot;
    try {
      // The call starts, then the connection drops: the worker must not try again.
      await ctl().faults({ kind: 'drop', afterExecute: true, count: 1, command: 'start_call_by_robot' });
      const dropped = await worker.request('POST', '/api/v1/calls', { token: ADMIN, body });
      assertProblem(dropped, 502, 'upstream_unreachable');
      assert.equal(await received(), 1);
      assert.equal((await counters()).succeeded.start_call_by_robot, 1, 'the dropped request did execute');

      await ctl().faults({ kind: 'html502', count: 5, command: 'start_call_by_robot' });
      const html = await worker.request('POST', '/api/v1/calls', { token: ADMIN, body });
      assertProblem(html, 502, 'upstream_bad_gateway');
      assert.equal(await received(), 2);
      await ctl().clearFaults();

      await ctl().faults({ kind: 'delay', delayMs: SLOW_MS, count: 5, command: 'start_call_by_robot' });
      const slow = await worker.request('POST', '/api/v1/calls', { token: ADMIN, body });
      assertProblem(slow, 504, 'upstream_timeout');
      assert.equal(await received(), 3);
      await ctl().clearFaults();
      await drainDelayed();
      assert.equal(await received(), 3, 'no late retry arrived');

      // Without faults, one request is one upstream call.
      const ok = await worker.request('POST', '/api/v1/calls', { token: ADMIN, body });
      assert.equal(ok.status, 201, ok.text);
      assert.equal(await received(), 4);
    } finally {
      await ctl().clearFaults();
    }
  });
});

// ------------------------------------------------------------ admin credential

describe('admin credential renewal (TENCENT_SECRET_KEY)', () => {
  test('70001 once → the worker re-mints its admin UserSig and retries: 200, 2 received', async () => {
    const callId = await liveCall();
    await ctl().faults({ kind: 'error', errorCode: 70001, count: 1, command: 'get_call_info' });
    const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.callId, callId);
    const c = await counters();
    assert.equal(c.received.get_call_info, 2);
    assert.equal(c.succeeded.get_call_info, 1);
  });

  test(`with ADMIN_USERSIG_TTL_SECS=${ADMIN_TTL_SECS} the credential expiry moves forward after the renewal margin`, async () => {
    const callId = await liveCall();
    const first = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assert.equal(first.status, 200, first.text);
    const h1 = (await worker.request('GET', '/api/v1/health')).json;
    assert.equal(h1.credentialMode, 'secretKey');
    assert.ok(Number.isInteger(h1.credentialExpiresAt), JSON.stringify(h1));
    const now = Math.floor(Date.now() / 1000);
    assert.ok(h1.credentialExpiresAt > now - 1 && h1.credentialExpiresAt <= now + ADMIN_TTL_SECS, JSON.stringify(h1));

    // Past the renewal margin (a fifth of the TTL before expiry), the next request renews.
    await sleep((h1.credentialExpiresAt - now) * 1000 + 200);
    const second = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assert.equal(second.status, 200, second.text);
    const h2 = (await worker.request('GET', '/api/v1/health')).json;
    assert.ok(h2.credentialExpiresAt > h1.credentialExpiresAt, `${JSON.stringify(h1)} then ${JSON.stringify(h2)}`);
    assert.equal((await counters()).succeeded.get_call_info, 2);
  });
});

describe('a static admin UserSig that has expired', () => {
  const time = Math.floor(Date.now() / 1000) - 3 * 86400;
  const expire = 86400;

  before(async () => {
    staticSecrets.sig = mintUserSig('administrator', { time, expire });
    staticSecrets.jwtSecret = `integration-test-hs256-secret-${randomUUID()}`;
    staticWorker = await startWorker({
      emulator,
      vars: {
        TENCENT_SECRET_KEY: null,
        TENCENT_ADMIN_USERSIG: staticSecrets.sig,
        AUTH_MODE: 'jwt',
        JWT_SECRET: staticSecrets.jwtSecret,
      },
    });
  });

  const token = (sub) => signJwt(claims(sub), { alg: 'HS256', key: staticSecrets.jwtSecret });

  test('health shows staticUserSig and the past expiry', async () => {
    const res = await staticWorker.request('GET', '/api/v1/health');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.credentialMode, 'staticUserSig');
    assert.equal(res.json.credentialExpiresAt, time + expire);
    assert.equal(res.json.authMode, 'jwt');
  });

  test('an admin request → 502 admin_usersig_expired', async () => {
    const callId = await liveCall();
    const res = await staticWorker.request('GET', `/api/v1/calls/${callId}`, { token: token('administrator') });
    assertProblem(res, 502, 'admin_usersig_expired');
    const res2 = await staticWorker.request('GET', '/api/v1/callback', { token: token('admin1') });
    assertProblem(res2, 502, 'admin_usersig_expired');
  });
});

// ------------------------------------------------------------ sweep (last)

describe('secret sweep', () => {
  const workers = () => [
    ['default worker', worker],
    ['static-sig worker', staticWorker],
  ].filter(([, w]) => w);
  const secrets = () =>
    collectSecrets({
      secretKey: DEMO_KEY,
      userSigs: [staticSecrets.sig, ...workers().flatMap(([, w]) => mintedUserSigs(w))].filter(Boolean),
      tokens: workers().flatMap(([, w]) => sentTokens(w)),
      emulatorUrl: emulator.url,
      extra: [staticSecrets.jwtSecret].filter(Boolean),
    });

  test('every answer left exactly one audit line, so the log sweep below reads the worker, not only wrangler', async () => {
    for (const [label, w] of workers()) await assertAuditTrail(w, label);
  });

  test('no answer or log line carries a secret, a token, an upstream URL or any UserSig but the caller’s own', async () => {
    let checked = 0;
    for (const [label, w] of workers()) checked += await assertCleanWorker(w, secrets(), label);
    assert.ok(checked > 30, `only ${checked} answers recorded`);
  });
});

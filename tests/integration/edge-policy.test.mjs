// Issue 4: who may do what through the edge API. Every route with an
// allowed caller, a denied caller and no caller; admins versus members
// (a hidden call or record answers exactly like a missing one); the public
// documents; ACTION_POLICY overrides and a broken ACTION_POLICY; then the
// sweep of every answer and log line of this file's workers.
//
// One emulator; three workers started together: the defaults (usersig
// mode, admins `administrator,admin1`), one with ACTION_POLICY overrides and
// one with an invalid ACTION_POLICY.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  REQUEST_ID,
  assertAuditTrail,
  assertCleanWorker,
  assertProblem,
  collectSecrets,
  sentTokens,
  startEmulator,
  startWorker,
} from './harness.mjs';
import { DEMO_KEY, DEMO_SDKAPPID, decodeUserSig, mintUserSig, verifyUserSig } from './tokens.mjs';

const ADMIN = mintUserSig('administrator');
const ALICE = mintUserSig('alice');
const BOB = mintUserSig('bob');
const CAROL = mintUserSig('carol');
const OVERRIDES = 'end_call=admin,start_call=off,mint_usersig=admin';
const BROKEN_POLICY = 'end_call=owner';

let emulator;
let worker;
let policyWorker;
let brokenWorker;
/** UserSigs the workers minted for callers (forbidden everywhere but their own answer). */
const minted = [];

before(async () => {
  emulator = await startEmulator();
  [worker, policyWorker, brokenWorker] = await Promise.all([
    startWorker({ emulator }),
    startWorker({ emulator, vars: { ACTION_POLICY: OVERRIDES } }),
    startWorker({ emulator, vars: { ACTION_POLICY: BROKEN_POLICY } }),
  ]);
});

after(async () => {
  await Promise.all([worker?.stop(), policyWorker?.stop(), brokenWorker?.stop()]);
  await emulator?.stop();
});

beforeEach(async () => {
  await emulator.control.reset();
});

const ctl = () => emulator.control;

async function liveCall(caller = 'alice', callees = ['bob']) {
  const { callId } = await ctl().createCall({ caller, callees, mediaType: 'Audio', roomId: 'r1', roomIdType: 2 });
  return callId;
}

/** A call alice made to bob, answered and hung up: its record is readable at once (record delay 0). */
async function endedCall() {
  const callId = await liveCall();
  await ctl().act(callId, 'answer', 'bob');
  await ctl().act(callId, 'hangup', 'alice');
  return callId;
}

async function received(command) {
  return (await ctl().counters()).received[command] ?? 0;
}

/** `a` and `b` are indistinguishable: same status, body and headers (the date aside). */
function assertIndistinguishable(a, b, code) {
  assertProblem(a, 404, code, 'hidden');
  assertProblem(b, 404, code, 'missing');
  assert.deepEqual(a.json, b.json, `hidden and missing answer differently:\n  hidden:  ${a.text}\n  missing: ${b.text}`);
  const headers = (r) => Object.fromEntries(Object.entries(r.headers).filter(([k]) => k !== 'date'));
  assert.deepEqual(headers(a), headers(b), 'hidden and missing answer with different headers');
}

// ------------------------------------------------------------ public documents

describe('public documents', () => {
  test('GET /api/v1/health needs no token, and ignores a bad one', async () => {
    for (const token of [undefined, 'not-a-real-token']) {
      const res = await worker.request('GET', '/api/v1/health', { token });
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers['content-type'], /^application\/json/);
      assert.equal(res.json.status, 'ok');
      assert.equal(res.json.sdkAppId, DEMO_SDKAPPID);
      assert.equal(res.json.authMode, 'usersig');
    }
  });

  // Which routes it lists, with which action and security, is held to the action table by
  // src/api/openapi.rs; that the served document is that file, by openapi-conformance.
  test('GET /api/v1/openapi.json is public, parses, and names an action for every operation', async () => {
    const res = await worker.request('GET', '/api/v1/openapi.json');
    assert.equal(res.status, 200, res.text.slice(0, 200));
    assert.match(res.headers['content-type'], /^application\/json/);
    const doc = JSON.parse(res.text);
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    const actions = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op['x-callkit-action']));
    assert.ok(actions.length >= 15 && actions.every((a) => /^[a-z_]+$/.test(a)), JSON.stringify(actions));
    assert.equal(new Set(actions).size, actions.length, 'one operation per action');
  });
});

// ------------------------------------------------------------ member routes

describe('member routes: the call’s members and admins, nobody else', () => {
  test('GET /api/v1/calls/{callId}: admin and member 200, outsider 404, no token 401', async () => {
    const callId = await liveCall();
    for (const token of [ADMIN, ALICE, BOB]) {
      const res = await worker.request('GET', `/api/v1/calls/${callId}`, { token });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.callId, callId);
      assert.deepEqual(res.json.members.map((m) => m.userId).sort(), ['alice', 'bob']);
    }
    assertProblem(await worker.request('GET', `/api/v1/calls/${callId}`, { token: CAROL }), 404, 'call_not_found');
    assertProblem(await worker.request('GET', `/api/v1/calls/${callId}`), 401, 'token_missing');
  });

  test('POST /api/v1/calls/{callId}/end: outsider 404 leaves the call up, no token 401, member 200', async () => {
    const callId = await liveCall();
    assertProblem(await worker.request('POST', `/api/v1/calls/${callId}/end`, { token: CAROL }), 404, 'call_not_found');
    assertProblem(await worker.request('POST', `/api/v1/calls/${callId}/end`), 401, 'token_missing');
    assert.equal(await received('end_call'), 0, 'a denied caller must not reach end_call');
    const still = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
    assert.equal(still.status, 200, still.text);

    // The callee must have answered to end it for everyone (issue 10, defect 8).
    await ctl().act(callId, 'answer', 'bob');
    const ended = await worker.request('POST', `/api/v1/calls/${callId}/end`, { token: BOB });
    assert.equal(ended.status, 200, ended.text);
    assert.deepEqual([ended.json.callId, ended.json.ended], [callId, true]);
    assertProblem(await worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN }), 404, 'call_not_found');

    // An admin may end a call they are not in.
    const other = await liveCall('dave', ['erin']);
    const byAdmin = await worker.request('POST', `/api/v1/calls/${other}/end`, { token: ADMIN });
    assert.equal(byAdmin.status, 200, byAdmin.text);
  });

  test('GET /api/v1/records/{callId}: admin, caller and callee 200, outsider 404, no token 401', async () => {
    const callId = await endedCall();
    for (const token of [ADMIN, ALICE, BOB]) {
      const res = await worker.request('GET', `/api/v1/records/${callId}`, { token });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.record.callId, callId);
      assert.match(res.json.requestId, REQUEST_ID);
    }
    assertProblem(await worker.request('GET', `/api/v1/records/${callId}`, { token: CAROL }), 404, 'record_not_found');
    assertProblem(await worker.request('GET', `/api/v1/records/${callId}`), 401, 'token_missing');
  });
});

describe('a hidden call or record answers exactly like a missing one', () => {
  test('GET /api/v1/calls/{callId}: someone else’s call and a missing call give the same 404', async () => {
    const callId = await liveCall('dave', ['erin']);
    const hidden = await worker.request('GET', `/api/v1/calls/${callId}`, { token: ALICE });
    const missing = await worker.request('GET', `/api/v1/calls/${randomUUID()}`, { token: ALICE });
    assertIndistinguishable(hidden, missing, 'call_not_found');
  });

  test('POST /api/v1/calls/{callId}/end: someone else’s call and a missing call give the same 404', async () => {
    const callId = await liveCall('dave', ['erin']);
    const hidden = await worker.request('POST', `/api/v1/calls/${callId}/end`, { token: ALICE });
    const missing = await worker.request('POST', `/api/v1/calls/${randomUUID()}/end`, { token: ALICE });
    assertIndistinguishable(hidden, missing, 'call_not_found');
  });

  test('GET /api/v1/records/{callId}: own 200, someone else’s and a missing record give the same 404', async () => {
    const own = await endedCall();
    const mine = await worker.request('GET', `/api/v1/records/${own}`, { token: ALICE });
    assert.equal(mine.status, 200, mine.text);
    const theirs = await liveCall('dave', ['erin']);
    await ctl().act(theirs, 'hangup', 'dave');
    const check = await worker.request('GET', `/api/v1/records/${theirs}`, { token: ADMIN });
    assert.equal(check.status, 200, `the other record exists: ${check.text}`);
    const hidden = await worker.request('GET', `/api/v1/records/${theirs}`, { token: ALICE });
    const missing = await worker.request('GET', `/api/v1/records/${randomUUID()}`, { token: ALICE });
    assertIndistinguishable(hidden, missing, 'record_not_found');
  });
});

// ------------------------------------------------------------ admin routes

describe('admin-only routes: admin allowed, member 403 forbidden, no token 401', () => {
  const hookBody = { url: 'https://hooks.example/callkit', commands: ['Call.CallbackAfterEndCall'] };
  const routes = [
    ['PUT', '/api/v1/callback', hookBody, 200, 'set_callback'],
    ['GET', '/api/v1/callback', undefined, 200, 'get_callback'],
    ['DELETE', '/api/v1/callback', undefined, 200, 'delete_callback'],
    ['POST', '/api/v1/calls', { robot: 'bot1', callees: ['alice'], mediaType: 'Audio' }, 201, 'start_call_by_robot'],
    ['GET', '/api/v1/records?perPage=5', undefined, 200, 'get_record_by_filter'],
  ];

  test('members and anonymous callers never reach Tencent; admins do', async () => {
    for (const [method, path, body, , command] of routes) {
      const asMember = await worker.request(method, path, { token: ALICE, body });
      const p = assertProblem(asMember, 403, 'forbidden', `${method} ${path} as alice`);
      assert.match(p.detail, /administrator/i, p.detail);
      assertProblem(await worker.request(method, path, { body }), 401, 'token_missing', `${method} ${path} anonymous`);
      assert.equal(await received(command), 0, `${command} reached upstream for a denied caller`);
    }
    for (const [method, path, body, status, command] of routes) {
      const res = await worker.request(method, path, { token: ADMIN, body });
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      assert.match(res.json.requestId, REQUEST_ID, res.text);
      assert.equal(await received(command), 1, command);
    }
  });

  test('admin1 from ADMIN_USERS is an admin too', async () => {
    const res = await worker.request('GET', '/api/v1/records', { token: mintUserSig('admin1') });
    assert.equal(res.status, 200, res.text);
  });
});

// ------------------------------------------------------------ usersig

describe('POST /api/v1/usersig mints for the caller themself', () => {
  test('alice gets a sig for alice, verifiable with the app key; no token 401', async () => {
    for (const [token, who] of [
      [ALICE, 'alice'],
      [mintUserSig('admin1'), 'admin1'],
    ]) {
      const res = await worker.request('POST', '/api/v1/usersig', { token });
      assert.equal(res.status, 200, res.text);
      minted.push(res.json.userSig);
      assert.equal(res.json.userId, who);
      assert.equal(res.json.sdkAppId, DEMO_SDKAPPID);
      const doc = decodeUserSig(res.json.userSig);
      assert.equal(doc['TLS.identifier'], who);
      assert.equal(doc['TLS.sdkappid'], DEMO_SDKAPPID);
      assert.equal(doc['TLS.time'] + doc['TLS.expire'], res.json.expiresAt);
      assert.ok(verifyUserSig(res.json.userSig, { identifier: who }).ok);
    }
    assertProblem(await worker.request('POST', '/api/v1/usersig'), 401, 'token_missing');
  });

  test('never for the Tencent admin account: its UserSig is the admin credential', async () => {
    assertProblem(await worker.request('POST', '/api/v1/usersig', { token: ADMIN }), 403, 'forbidden');
  });

  test('a minted sig never outlives the token that asked for it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const shortLived = mintUserSig('alice', { time: now, expire: 600 });
    const res = await worker.request('POST', '/api/v1/usersig', { token: shortLived });
    assert.equal(res.status, 200, res.text);
    minted.push(res.json.userSig);
    assert.ok(res.json.expiresAt <= now + 600, `expiresAt ${res.json.expiresAt} > token expiry ${now + 600}`);
    assert.ok(res.json.expiresAt >= now + 590, res.text);
    const doc = decodeUserSig(res.json.userSig);
    assert.equal(doc['TLS.time'] + doc['TLS.expire'], res.json.expiresAt);
  });

  test('a body cannot choose another user', async () => {
    const res = await worker.request('POST', '/api/v1/usersig', { token: ALICE, body: { userId: 'bob' } });
    const p = assertProblem(res, 400, 'unknown_field');
    assert.match(p.detail, /userId/);
  });
});

// ------------------------------------------------------------ ACTION_POLICY

describe(`ACTION_POLICY=${OVERRIDES}`, () => {
  test('start_call=off: 403 action_disabled for an admin and before any sign-in; Tencent never asked', async () => {
    const body = { robot: 'bot1', callees: ['alice'], mediaType: 'Audio' };
    for (const token of [ADMIN, ALICE, undefined]) {
      const res = await policyWorker.request('POST', '/api/v1/calls', { token, body });
      const p = assertProblem(res, 403, 'action_disabled');
      assert.match(p.detail, /start calls/, p.detail);
    }
    assert.equal(await received('start_call_by_robot'), 0);
    // The default worker, same emulator, still starts calls.
    const res = await worker.request('POST', '/api/v1/calls', { token: ADMIN, body });
    assert.equal(res.status, 201, res.text);
  });

  test('end_call=admin: a member of the call is now 403 forbidden, an admin still ends it', async () => {
    const callId = await liveCall();
    assertProblem(await policyWorker.request('POST', `/api/v1/calls/${callId}/end`, { token: ALICE }), 403, 'forbidden');
    assertProblem(await policyWorker.request('POST', `/api/v1/calls/${callId}/end`), 401, 'token_missing');
    assert.equal(await received('end_call'), 0);
    const res = await policyWorker.request('POST', `/api/v1/calls/${callId}/end`, { token: ADMIN });
    assert.equal(res.status, 200, res.text);
  });

  test('mint_usersig=admin: a member is 403 forbidden, an admin is served', async () => {
    assertProblem(await policyWorker.request('POST', '/api/v1/usersig', { token: ALICE }), 403, 'forbidden');
    const res = await policyWorker.request('POST', '/api/v1/usersig', { token: mintUserSig('admin1') });
    assert.equal(res.status, 200, res.text);
    minted.push(res.json.userSig);
    assert.equal(res.json.userId, 'admin1');
  });

  test('rules not overridden keep their defaults', async () => {
    const callId = await liveCall();
    const own = await policyWorker.request('GET', `/api/v1/calls/${callId}`, { token: ALICE });
    assert.equal(own.status, 200, own.text);
    assertProblem(await policyWorker.request('GET', `/api/v1/calls/${callId}`, { token: CAROL }), 404, 'call_not_found');
    assertProblem(await policyWorker.request('GET', '/api/v1/records', { token: ALICE }), 403, 'forbidden');
    assert.equal((await policyWorker.request('GET', '/api/v1/health')).status, 200);
  });
});

describe(`an invalid ACTION_POLICY (${BROKEN_POLICY})`, () => {
  test('every route, health included, answers 503 misconfigured naming ACTION_POLICY', async () => {
    for (const [method, path, token] of [
      ['GET', '/api/v1/health', undefined],
      ['POST', '/api/v1/usersig', ALICE],
      ['GET', `/api/v1/calls/${randomUUID()}`, ADMIN],
    ]) {
      const res = await brokenWorker.request(method, path, { token });
      const p = assertProblem(res, 503, 'misconfigured', `${method} ${path}`);
      assert.match(p.detail, /ACTION_POLICY/, p.detail);
      assert.match(p.detail, /end_call/, `the bad entry is named: ${p.detail}`);
    }
    const c = await ctl().counters();
    assert.equal(Object.values(c.received).reduce((a, b) => a + b, 0), 0, 'nothing reached Tencent');
  });
});

// ------------------------------------------------------------ sweep (last)

describe('sweep', () => {
  const workers = () => [
    ['default worker', worker],
    ['policy worker', policyWorker],
    ['broken-policy worker', brokenWorker],
  ];
  const secrets = () =>
    collectSecrets({
      secretKey: DEMO_KEY,
      // The tokens each worker was actually asked with, not fresh look-alikes.
      tokens: workers().flatMap(([, w]) => sentTokens(w)),
      userSigs: minted,
      emulatorUrl: emulator.url,
    });

  test('no answer or log line carries a secret, a token, an upstream URL or a foreign UserSig; errors are problem+json', async () => {
    let checked = 0;
    for (const [label, w] of workers()) checked += await assertCleanWorker(w, secrets(), label);
    assert.ok(checked > 40, `only ${checked} answers recorded`);
  });

  test('every answer left exactly one audit line with its identity, action and status', async () => {
    for (const [label, w] of workers()) {
      const lines = await assertAuditTrail(w, label);
      assert.ok(lines.length >= w.responses.length, label);
    }
  });
});

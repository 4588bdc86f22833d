// Issue 10: hardening. Each test here failed before its fix:
//   defect 2  every admin account, in any ASCII case, is refused a UserSig;
//   defect 4  a clear-text or user-info TENCENT_API_BASE is a configuration error;
//   defect 6  a body past the limit is answered 413 at once, not read to its end;
//   defect 8  only a connected member (or an admin) may end a call (not one who left);
//   defect 10 a method no route declares is 405, whatever its name.
//
// One emulator; three workers started together: one with extra admin
// accounts, and two whose TENCENT_API_BASE must be refused.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertAuditTrail,
  assertCleanWorker,
  assertProblem,
  collectSecrets,
  startEmulator,
  startWorker,
} from './harness.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';

const MAX_BODY = 16 * 1024;
const ADMIN = mintUserSig('administrator');
const ADMIN_ACCOUNTS = 'ops-root, Backup_Admin';
const CLEAR_TEXT_BASE = 'http://tencent-proxy.example';
const USERINFO_BASE = 'http://localhost:80@evil.example';

let emulator;
let worker;
let clearTextWorker;
let userInfoWorker;
const minted = [];

before(async () => {
  emulator = await startEmulator();
  [worker, clearTextWorker, userInfoWorker] = await Promise.all([
    startWorker({ emulator, vars: { TENCENT_ADMIN_ACCOUNTS: ADMIN_ACCOUNTS } }),
    startWorker({ vars: { TENCENT_API_BASE: CLEAR_TEXT_BASE } }),
    startWorker({ vars: { TENCENT_API_BASE: USERINFO_BASE } }),
  ]);
});

after(async () => {
  await Promise.all([worker?.stop(), clearTextWorker?.stop(), userInfoWorker?.stop()]);
  await emulator?.stop();
});

beforeEach(async () => {
  await emulator.control.reset();
});

const ctl = () => emulator.control;
const received = async (command) => (await ctl().counters()).received[command] ?? 0;
/** Every command Tencent received since the last reset. */
const receivedAny = async () => Object.values((await ctl().counters()).received).reduce((a, b) => a + b, 0);

/**
 * After a 413 that stopped reading a streamed body mid-way, wrangler dev's
 * proxy holds the next request it gets until that request is abandoned (a
 * dev-only artifact of answering without reading the rest, which issue 10
 * requires). A short GET, retried, takes that slot.
 */
async function settleAfterEarly413(worker) {
  for (let i = 0; i < 10; i += 1) {
    const res = await worker.request('GET', '/api/v1/health', { timeoutMs: 1_000 }).catch(() => undefined);
    if (res?.status === 200) return;
  }
  assert.fail('the worker did not answer after an early 413');
}

describe('defect 2: no UserSig for any Tencent admin account', () => {
  test('every admin account, in any ASCII case, and padded names → 403 forbidden', async () => {
    for (const id of ['Administrator', 'ADMINISTRATOR', 'ops-root', 'OPS-Root', 'backup_admin', ' alice', 'alice ']) {
      const res = await worker.request('POST', '/api/v1/usersig', { token: mintUserSig(id) });
      assertProblem(res, 403, 'forbidden', JSON.stringify(id));
    }
  });

  test('an ordinary user still gets their own UserSig', async () => {
    const res = await worker.request('POST', '/api/v1/usersig', { token: mintUserSig('alice') });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.userId, 'alice');
    minted.push(res.json.userSig);
  });
});

describe('defect 4: TENCENT_API_BASE', () => {
  for (const [label, base, get] of [
    ['http:// to a host that is not loopback', CLEAR_TEXT_BASE, () => clearTextWorker],
    ['user info before the host', USERINFO_BASE, () => userInfoWorker],
  ]) {
    test(`${label} → 503 misconfigured naming the setting, never its value`, async () => {
      for (const [method, path, token] of [
        ['GET', '/api/v1/health', undefined],
        ['GET', '/api/v1/callback', ADMIN],
      ]) {
        const res = await get().request(method, path, { token });
        const p = assertProblem(res, 503, 'misconfigured', `${method} ${path}`);
        assert.match(p.detail, /TENCENT_API_BASE/);
        for (const part of [base, 'evil.example', 'tencent-proxy.example']) {
          assert.ok(!res.text.includes(part), `the answer echoes ${part}`);
        }
      }
    });
  }
});

describe('defect 6: oversized bodies', () => {
  test('a streamed body gets its 413 at the first byte past the limit, before the client finishes', async () => {
    let finish;
    const finished = new Promise((r) => {
      finish = r;
    });
    const chunk = new TextEncoder().encode(`{"url":"${'a'.repeat(MAX_BODY + 1024)}`);
    // The stream sends more than the limit, then stays open until the answer came.
    const body = new ReadableStream({
      async start(controller) {
        controller.enqueue(chunk);
        await finished;
        controller.close();
      },
    });
    try {
      const res = await worker.fetch('/api/v1/callback', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
        body,
        duplex: 'half',
        signal: AbortSignal.timeout(8_000),
      });
      const text = await res.text();
      const answer = { status: res.status, headers: Object.fromEntries(res.headers), text, json: JSON.parse(text) };
      assertProblem(answer, 413, 'body_too_large', 'unfinished stream');
      // Sent with fetch (a stream): recorded by hand for the audit trail and the sweep.
      worker.responses.push({ method: 'PUT', path: '/api/v1/callback', status: res.status, headers: answer.headers, text, token: ADMIN });
    } finally {
      finish();
    }
    assert.equal(await received('set_callback'), 0);
    await settleAfterEarly413(worker);
  });
});

describe('defect 8: who may end a call', () => {
  async function groupCall() {
    const { callId } = await ctl().createCall({ caller: 'alice', callees: ['bob', 'carol'], mediaType: 'Audio' });
    await ctl().act(callId, 'answer', 'carol');
    return callId;
  }
  const end = (callId, who) => worker.request('POST', `/api/v1/calls/${callId}/end`, { token: mintUserSig(who) });
  const live = async (callId) => (await ctl().call(callId)).state !== 'ended';

  test('an invitee who never answered → 403 forbidden, and the call goes on', async () => {
    const callId = await groupCall();
    assertProblem(await end(callId, 'bob'), 403, 'forbidden', 'bob (Waiting)');
    assert.ok(await live(callId), 'the call was ended');
    assert.equal(await received('end_call'), 0);
  });

  test('a non-member → the 404 of a missing call', async () => {
    const callId = await groupCall();
    assertProblem(await end(callId, 'dave'), 404, 'call_not_found', 'dave');
    assert.ok(await live(callId));
    assert.equal(await received('end_call'), 0);
  });

  test('a member who has left → the 404 of a missing call (Tencent lists her no more), and the call goes on', async () => {
    // Two others stay connected, so the call outlives carol's leaving.
    const { callId } = await ctl().createCall({ caller: 'alice', callees: ['bob', 'carol', 'dave'], mediaType: 'Audio' });
    await ctl().act(callId, 'answer', 'carol');
    await ctl().act(callId, 'answer', 'dave');
    await ctl().act(callId, 'hangup', 'carol');
    assert.ok(await live(callId), 'the call ended with carol\'s leaving');
    assertProblem(await end(callId, 'carol'), 404, 'call_not_found', 'carol (left)');
    assert.ok(await live(callId), 'the call was ended');
    assert.equal(await received('end_call'), 0);
  });

  test('a callee who answered, the caller, or an admin may end it', async () => {
    for (const who of ['carol', 'alice', 'administrator']) {
      const callId = await groupCall();
      const res = await end(callId, who);
      assert.equal(res.status, 200, `${who}: ${res.text}`);
      assert.equal(res.json.ended, true);
      assert.ok(!(await live(callId)), `${who} did not end the call`);
    }
  });
});

describe('defect 10: methods no route declares', () => {
  // workerd's HTTP parser answers 501 itself for a name it has never heard of
  // (FROB, or a lower-case patch): those never reach the Worker. Every name it passes must be a 405.
  test('QUERY, PROPFIND, MKCOL, SEARCH → 405 with Allow, nothing runs', async () => {
    for (const [method, path, allow] of [
      ['QUERY', '/api/v1/health', 'GET'],
      ['QUERY', '/api/v1/callback', 'GET, PUT, DELETE'],
      ['PROPFIND', '/api/v1/records', 'GET'],
      ['MKCOL', '/api/v1/calls/abc', 'GET'],
      ['SEARCH', '/api/v1/usersig', 'POST'],
    ]) {
      const res = await worker.request(method, path, { token: ADMIN });
      assertProblem(res, 405, 'method_not_allowed', `${method} ${path}`);
      assert.equal(res.headers.allow, allow, `${method} ${path}`);
    }
    assert.equal(await receivedAny(), 0, 'a 405 reached Tencent');
  });
});

describe('sweep', () => {
  test('every worker: an audit line per answer, and no answer or log line leaks a secret', async () => {
    const secrets = collectSecrets({ secretKey: DEMO_KEY, userSigs: [ADMIN, ...minted], emulatorUrl: emulator.url });
    await assertAuditTrail(worker, 'worker');
    assert.ok((await assertCleanWorker(worker, secrets, 'worker')) > 0);
    // The refused bases: neither their hosts nor their user info may be logged.
    const bases = collectSecrets({
      secretKey: DEMO_KEY,
      userSigs: [ADMIN],
      extra: [CLEAR_TEXT_BASE, USERINFO_BASE, 'tencent-proxy.example', 'evil.example', 'localhost:80@'],
    });
    for (const [label, refused] of [['clear-text worker', clearTextWorker], ['user-info worker', userInfoWorker]]) {
      await assertAuditTrail(refused, label);
      assert.ok((await assertCleanWorker(refused, bases, label)) > 0);
    }
  });
});

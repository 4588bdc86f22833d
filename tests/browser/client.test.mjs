// The reusable browser client (www/callkit-edge-client.js), run in Node (not in Chromium)
// against the real stack (emulator + built worker), and against a plain HTTP server that
// answers the way a proxy in front of the edge can (HTML error pages, dates in Retry-After,
// garbage). Every answer of the worker, and its log, is swept for leaked secrets at the end.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { CallKitEdgeClient, CallKitEdgeError, parseRetryAfter } from '../../www/callkit-edge-client.js';
import {
  assertAuditTrail,
  assertCleanWorker,
  collectSecrets,
  freePort,
  mintedUserSigs,
  recordingFetch,
  REQUEST_ID,
  sentTokens,
  startEmulator,
  startWorker,
} from '../integration/harness.mjs';
import { DEMO_KEY, mintUserSig, verifyUserSig } from '../integration/tokens.mjs';

/** Awaits `promise`, asserting it rejects with a CallKitEdgeError; returns the error. */
async function edgeError(promise) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CallKitEdgeError, `a CallKitEdgeError, got ${error}`);
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('expected a CallKitEdgeError');
}

describe('client against the edge', { timeout: 180_000 }, () => {
  let emulator;
  let worker;
  let adminClient;
  let aliceClient;
  const admin = mintUserSig('administrator');
  const alice = mintUserSig('alice');
  /** A client of the worker whose every answer is recorded for the sweep. */
  const edgeClient = (options = {}) => new CallKitEdgeClient({ baseUrl: worker.url, fetch: recordingFetch(worker), ...options });

  before(async () => {
    emulator = await startEmulator();
    await emulator.control.seed({ records: 50, liveCalls: 3 });
    worker = await startWorker({ emulator });
    adminClient = edgeClient({ baseUrl: `${worker.url}/`, token: admin });
    aliceClient = edgeClient({ token: async () => alice });
  });

  after(async () => {
    await worker?.stop();
    await emulator?.stop();
  });

  test('health() needs no token', async () => {
    const health = await edgeClient().health();
    assert.equal(health.status, 'ok');
    assert.equal(health.sdkAppId, 1400000000);
    assert.equal(health.authMode, 'usersig');
    assert.equal(health.credentialMode, 'secretKey');
  });

  test('getCall() and endCall() on a live call', async () => {
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    const call = await aliceClient.getCall(callId);
    assert.equal(call.callId, callId);
    assert.match(call.requestId, REQUEST_ID);
    assert.deepEqual(call.members.map((m) => m.userId), ['alice', 'bob']);
    const ended = await aliceClient.endCall(callId);
    assert.deepEqual({ callId: ended.callId, ended: ended.ended }, { callId, ended: true });
    const gone = await edgeError(aliceClient.getCall(callId));
    assert.equal(gone.status, 404);
    assert.equal(gone.code, 'call_not_found');
    assert.equal(gone.title, 'Not found');
    assert.equal(typeof gone.detail, 'string');
  });

  test('a missing call is a 404 that does not reveal the upstream trace', async () => {
    const error = await edgeError(adminClient.getCall(randomUUID()));
    assert.equal(error.status, 404);
    assert.equal(error.code, 'call_not_found');
    // Identical to a call the caller may not see: no Tencent code, no RequestId.
    assert.equal(error.tencentErrorCode, null);
    assert.equal(error.requestId, null);
    assert.equal(error.name, 'CallKitEdgeError');
  });

  test('startCall() starts a robot call', async () => {
    const result = await adminClient.startCall({ robot: 'bot1', callees: ['alice'], mediaType: 'Video' });
    assert.equal(typeof result.callId, 'string');
    assert.deepEqual(result.results, [{ userId: 'alice', resultCode: 0 }]);
    const call = await adminClient.getCall(result.callId);
    assert.deepEqual(call.members.map((m) => m.userId).sort(), ['alice', 'bot1']);
  });

  test('listRecords() sends the filter (Dates included) and getRecord() reads one', async () => {
    const now = Date.now();
    const page = await adminClient.listRecords({
      start: new Date(now - 3 * 86_400_000), end: Math.floor(now / 1000), result: 'NormalEnd', page: 1, perPage: 5,
    });
    assert.equal(page.page, 1);
    assert.equal(page.perPage, 5);
    assert.ok(page.records.length > 0 && page.records.length <= 5);
    for (const r of page.records) {
      assert.equal(r.result, 'NormalEnd');
      assert.ok(r.startTime * 1000 >= now - 3 * 86_400_000 - 1000);
    }
    const { record } = await adminClient.getRecord(page.records[0].callId);
    assert.deepEqual(record, page.records[0]);
  });

  test('a bad filter is a 400 the caller can read', async () => {
    const error = await edgeError(adminClient.listRecords({ perPage: 500 }));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'invalid_filter');
  });

  test('setCallback(), getCallback(), deleteCallback()', async () => {
    const url = 'https://hooks.example.com/callkit';
    const commands = ['Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged'];
    const saved = await adminClient.setCallback({ url, commands });
    assert.equal(saved.url, url);
    const loaded = await adminClient.getCallback();
    assert.equal(loaded.url, url);
    assert.deepEqual([...loaded.commands].sort(), [...commands].sort());
    assert.equal((await adminClient.deleteCallback()).deleted, true);
    const none = await edgeError(adminClient.getCallback());
    assert.equal(none.code, 'callback_not_configured');
    assert.equal(none.tencentErrorCode, 100301);
  });

  test('mintUserSig() returns a valid UserSig for the caller', async () => {
    const minted = await aliceClient.mintUserSig();
    assert.equal(minted.userId, 'alice');
    assert.equal(minted.sdkAppId, 1400000000);
    const verified = verifyUserSig(minted.userSig, { identifier: 'alice' });
    assert.ok(verified.ok, verified.reason);
    assert.equal(verified.doc['TLS.time'] + verified.doc['TLS.expire'], minted.expiresAt);
  });

  test('auth failures: no token is 401, a member on an admin action is 403', async () => {
    const anonymous = await edgeError(edgeClient().listRecords());
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.code, 'token_missing');
    const member = await edgeError(aliceClient.listRecords());
    assert.equal(member.status, 403);
    assert.equal(member.code, 'forbidden');
  });

  test('a token getter is asked before every request', async () => {
    let calls = 0;
    const client = edgeClient({ token: () => { calls += 1; return alice; } });
    await client.mintUserSig();
    await client.mintUserSig();
    assert.equal(calls, 2);
  });

  test('sweep: no answer or log line carries the key, a token, an upstream URL or a foreign UserSig', async () => {
    const secrets = collectSecrets({
      secretKey: DEMO_KEY,
      tokens: sentTokens(worker),
      userSigs: mintedUserSigs(worker),
      emulatorUrl: emulator.url,
    });
    const checked = await assertCleanWorker(worker, secrets, 'worker');
    assert.ok(checked > 15, `only ${checked} answers recorded`);
    await assertAuditTrail(worker, 'worker');
  });
});

describe('client against answers that are not problem+json', () => {
  let server;
  let base;
  let requests = [];
  const routes = {
    '/api/v1/health': (res) => { res.writeHead(502, { 'content-type': 'text/html' }); res.end('<html><h1>502 Bad Gateway</h1></html>'); },
    '/api/v1/records': (res) => {
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': new Date(Date.now() + 30_000).toUTCString() });
      res.end('slow down');
    },
    '/api/v1/callback': (res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>login page</html>'); },
    '/api/v1/usersig': (res) => {
      res.writeHead(403, { 'content-type': 'application/problem+json', 'x-tencent-request-id': 'Id-header' });
      res.end(JSON.stringify({ title: 'Forbidden', status: 403 }));
    },
  };

  before(async () => {
    server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        requests.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const route = routes[req.url.split('?')[0]];
        if (route) route(res);
        else { res.writeHead(404); res.end(); }
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(() => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }));

  test('an HTML 502 page becomes a generic server_error', async () => {
    const error = await edgeError(new CallKitEdgeClient({ baseUrl: base }).health());
    assert.equal(error.status, 502);
    assert.equal(error.code, 'server_error');
    assert.equal(error.title, 'Server error');
    assert.equal(error.detail, '');
  });

  test('a 429 with an HTTP-date Retry-After gives seconds to wait', async () => {
    const error = await edgeError(new CallKitEdgeClient({ baseUrl: base, token: 't' }).listRecords({ page: 2 }));
    assert.equal(error.code, 'rate_limited');
    assert.ok(error.retryAfter >= 28 && error.retryAfter <= 31, `retryAfter ${error.retryAfter}`);
  });

  test('a problem without a code gets a generic one and the header RequestId', async () => {
    const error = await edgeError(new CallKitEdgeClient({ baseUrl: base, token: 't' }).mintUserSig());
    assert.equal(error.status, 403);
    assert.equal(error.code, 'forbidden');
    assert.equal(error.requestId, 'Id-header');
  });

  test('a 200 that is not JSON is bad_response', async () => {
    const error = await edgeError(new CallKitEdgeClient({ baseUrl: base, token: 't' }).getCallback());
    assert.equal(error.status, 200);
    assert.equal(error.code, 'bad_response');
  });

  test('requests carry the bearer token, JSON bodies and encoded ids', async () => {
    requests = [];
    const client = new CallKitEdgeClient({ baseUrl: base, token: 'tok-1' });
    await edgeError(client.setCallback({ url: 'https://x.test/h', commands: [] }));
    await edgeError(client.getCall('a/b?c'));
    assert.equal(requests[0].method, 'PUT');
    assert.equal(requests[0].headers.authorization, 'Bearer tok-1');
    assert.equal(requests[0].headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(requests[0].body), { url: 'https://x.test/h', commands: [] });
    assert.equal(requests[1].url, '/api/v1/calls/a%2Fb%3Fc');
    assert.equal(requests[1].headers['content-type'], undefined, 'no body, no content type');
  });

  test('no answer at all is network_error with status 0', async () => {
    const port = await freePort();
    const error = await edgeError(new CallKitEdgeClient({ baseUrl: `http://127.0.0.1:${port}` }).health());
    assert.equal(error.status, 0);
    assert.equal(error.code, 'network_error');
    assert.ok(error.cause);
  });

  test('parseRetryAfter reads seconds and dates, and ignores junk', () => {
    assert.equal(parseRetryAfter('12'), 12);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2037 00:00:10 GMT', Date.UTC(2037, 0, 1)), 10);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2037 00:00:10 GMT', Date.UTC(2038, 0, 1)), 0);
    assert.equal(parseRetryAfter('soon'), null);
    assert.equal(parseRetryAfter(null), null);
  });
});

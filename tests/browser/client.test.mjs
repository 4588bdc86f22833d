// The reusable browser client (www/callkit-edge-client.js), run in Node (not in Chromium)
// against the real stack (emulator + built worker), and against a plain HTTP server that
// answers the way a proxy in front of the edge can (HTML error pages, dates in Retry-After,
// garbage). Every answer of the worker, and its log, is swept for leaked secrets at the end.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import { CallKitEdgeClient, CallKitEdgeError, parseRetryAfter, reconnectDelay } from '../../www/callkit-edge-client.js';
import {
  assertAuditTrail,
  assertCleanWorker,
  collectSecrets,
  freePort,
  mintedUserSigs,
  recordingFetch,
  REQUEST_ID,
  sentTokens,
  sleep,
  startEmulator,
  startWorker,
} from '../integration/harness.mjs';
import { DEMO_KEY, mintUserSig, verifyUserSig } from '../integration/tokens.mjs';
import { EMULATOR_OPTIONS, WORKER_VARS, configureBoard, eventually, liveStackSecrets, statuses } from './live-stack.mjs';

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

/** A WebSocket class (Node's `ws`) that notes every socket it opens, for URL and close checks. */
function notingWebSocket() {
  const opened = [];
  class NotingWebSocket extends NodeWebSocket {
    constructor(url, ...rest) {
      super(url, ...rest);
      opened.push({ url: String(url), socket: this });
    }
  }
  return { WebSocket: NotingWebSocket, opened };
}

/**
 * Subscribes with `client`, noting every onChange as `{ calls, status, detail }`. `until(pred)`
 * resolves with the first noted change from the latest one on that satisfies `pred`.
 */
function follow(client, options) {
  const changes = [];
  const waiters = new Set();
  const unsubscribe = client.subscribe((calls, status, detail) => {
    changes.push({ calls, status, detail });
    for (const w of waiters) w();
  }, options);
  return {
    changes,
    unsubscribe,
    until(pred, ms = 15_000, label = 'a change') {
      const from = Math.max(0, changes.length - 1);
      return new Promise((resolveWait, reject) => {
        const check = () => {
          const hit = changes.slice(from).find(pred);
          if (!hit) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolveWait(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${label} within ${ms} ms; last: ${JSON.stringify(changes.at(-1))?.slice(0, 800)}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
  };
}

const callIn = (change, callId) => change.calls.find((c) => c.callId === callId);
const LIVE_URL = /^ws:\/\/127\.0\.0\.1:\d+\/api\/v1\/live\?ticket=[0-9a-f]{138,200}$/;

describe('live board through the client', { timeout: 240_000 }, () => {
  let emulator;
  let worker;
  const admin = mintUserSig('administrator');
  const alice = mintUserSig('alice');
  const edgeClient = (options = {}) => new CallKitEdgeClient({ baseUrl: worker.url, fetch: recordingFetch(worker), ...options });
  const tickets = () => worker.responses.filter((r) => r.path === '/api/v1/live/ticket');
  const fast = { minDelayMs: 200, maxDelayMs: 2_000 };

  before(async () => {
    emulator = await startEmulator(EMULATOR_OPTIONS);
    worker = await startWorker({ emulator, vars: WORKER_VARS });
    await configureBoard(worker, admin);
  });

  after(async () => {
    await worker?.stop();
    await emulator?.stop();
  });

  test('liveCalls() follows a call from its start, through a member answering, to its end', async () => {
    const client = edgeClient({ token: admin });
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'], mediaType: 'Video', roomId: '4321' });
    const board = await eventually(() => client.liveCalls(), (b) => b.calls.some((c) => c.callId === callId),
      { label: 'the call on the board' });
    assert.ok(Math.abs(board.now - Date.now()) < 60_000, `now is the edge's clock in ms: ${board.now}`);
    const call = board.calls.find((c) => c.callId === callId);
    assert.equal(call.state, 'live');
    assert.equal(call.mediaType, 'Video');
    // Inferred from the start (one callee, no group); the end's record confirms it.
    assert.equal(call.callType, 'SingleCall');
    assert.equal(call.caller, 'alice');
    assert.equal(call.roomId, '4321');
    assert.equal(call.endedAt, null);
    assert.ok(Number.isInteger(call.startedAt) && Number.isInteger(call.updatedAt));
    assert.deepEqual(statuses(call), { alice: 'Calling', bob: 'Waiting' });

    await emulator.control.act(callId, 'answer', 'bob');
    await eventually(() => client.liveCalls(), (b) => statuses(b.calls.find((c) => c.callId === callId)).bob === 'Calling',
      { label: 'bob answering' });

    await emulator.control.act(callId, 'hangup', 'alice');
    const ended = (await eventually(() => client.liveCalls(),
      (b) => b.calls.find((c) => c.callId === callId)?.state === 'ended', { label: 'the end' }))
      .calls.find((c) => c.callId === callId);
    assert.equal(ended.callResult, 'NormalEnd');
    assert.equal(ended.callType, 'SingleCall');
    assert.equal(ended.endedBy, 'webhook');
    assert.ok(Number.isInteger(ended.endedAt) && ended.endedAt >= ended.startedAt);
  });

  test("a member's liveCalls() holds only the calls she is in", async () => {
    const adminClient = edgeClient({ token: admin });
    const others = await emulator.control.createCall({ caller: 'bob', callees: ['carol'], mediaType: 'Audio' });
    const hers = await emulator.control.createCall({ caller: 'dave', callees: ['alice'], mediaType: 'Audio' });
    await eventually(() => adminClient.liveCalls(),
      (b) => [others.callId, hers.callId].every((id) => b.calls.some((c) => c.callId === id)), { label: 'both calls' });
    const mine = await edgeClient({ token: alice }).liveCalls();
    const ids = mine.calls.map((c) => c.callId);
    assert.ok(ids.includes(hers.callId), 'her call');
    assert.ok(!ids.includes(others.callId), 'not a call she is not in');
    for (const c of mine.calls) {
      assert.ok(c.caller === 'alice' || c.members.some((m) => m.userId === 'alice'), `${c.callId} is not hers`);
    }
    await emulator.control.act(others.callId, 'hangup', 'bob');
    await emulator.control.act(hers.callId, 'hangup', 'dave');
  });

  test('subscribe() gets the snapshot, then every change; unsubscribe() closes for good', async () => {
    const { WebSocket, opened } = notingWebSocket();
    const client = edgeClient({ token: admin, WebSocket });
    const live = follow(client, fast);
    assert.equal(live.changes[0]?.status, 'connecting', 'connecting at once');
    const first = await live.until((c) => c.status === 'open', 15_000, 'open');
    assert.equal(first.detail.error, null);
    assert.ok(Math.abs(first.detail.clockOffsetMs) < 60_000);
    assert.equal(opened.length, 1);
    assert.match(opened[0].url, LIVE_URL);

    const { callId } = await emulator.control.createCall({ caller: 'carol', callees: ['dave', 'erin'], mediaType: 'Audio' });
    const started = await live.until((c) => callIn(c, callId), 15_000, 'the start');
    assert.deepEqual(statuses(callIn(started, callId)), { carol: 'Calling', dave: 'Waiting', erin: 'Waiting' });
    assert.equal(started.calls[0].callId, callId, 'newest first');
    await emulator.control.act(callId, 'answer', 'dave');
    await live.until((c) => statuses(callIn(c, callId)).dave === 'Calling', 15_000, 'dave answering');
    await emulator.control.act(callId, 'reject', 'erin');
    const rejected = await live.until((c) => statuses(callIn(c, callId)).erin === 'Left', 15_000, 'erin rejecting');
    assert.equal(typeof callIn(rejected, callId).members.find((m) => m.userId === 'erin').lastAction, 'string');
    await emulator.control.act(callId, 'hangup', 'dave');
    const ended = await live.until((c) => callIn(c, callId)?.state === 'ended', 15_000, 'the end');
    assert.equal(callIn(ended, callId).callType, 'MultiCall');
    assert.deepEqual(statuses(callIn(ended, callId)), { carol: 'Left', dave: 'Left', erin: 'Left' });
    assert.ok(live.changes.every((c) => c.status !== 'closed'), 'no drop on the way');

    const ticketsBefore = tickets().length;
    const seen = live.changes.length;
    live.unsubscribe();
    await eventually(() => opened[0].socket.readyState, (s) => s === NodeWebSocket.CLOSED, { ms: 5_000, label: 'the socket closed' });
    const later = await emulator.control.createCall({ caller: 'carol', callees: ['bob'], mediaType: 'Audio' });
    await eventually(() => edgeClient({ token: admin }).liveCalls(), (b) => b.calls.some((c) => c.callId === later.callId),
      { label: 'a later call on the board' });
    await sleep(500);
    assert.equal(live.changes.length, seen, 'no onChange after unsubscribe()');
    assert.equal(tickets().length, ticketsBefore, 'no reconnect after unsubscribe()');
    assert.equal(opened.length, 1);
    live.unsubscribe(); // twice is harmless
    await emulator.control.act(later.callId, 'hangup', 'carol');
  });

  test('a real drop: the client reconnects with a fresh ticket; the bearer token is never in a URL', async () => {
    const { WebSocket, opened } = notingWebSocket();
    const client = edgeClient({ token: alice, WebSocket });
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    const live = follow(client, fast);
    await live.until((c) => c.status === 'open' && callIn(c, callId), 15_000, 'open with her call');
    const ticketsBefore = tickets().length;

    // Stop the worker (every connection drops) and start it again on the same port and state.
    const back = worker.restart({ pauseMs: 1_000 });
    const dropped = await live.until((c) => c.status === 'closed', 10_000, 'the drop');
    assert.equal(dropped.detail.final, false);
    assert.ok(dropped.detail.retryAt > Date.now() - 1_000, 'a retry is scheduled');
    assert.ok(callIn(dropped, callId), 'the last list is kept while reconnecting');
    await back;
    const reopened = await live.until((c) => c.status === 'open', 30_000, 'open again');
    assert.ok(callIn(reopened, callId), 'the snapshot after the reconnect has the call');
    assert.ok(opened.length >= 2, `sockets opened: ${opened.length}`);
    assert.ok(tickets().length > ticketsBefore, 'a ticket per (re)connect');

    // Changes after the reconnect arrive on the new socket.
    await emulator.control.act(callId, 'answer', 'bob');
    await live.until((c) => statuses(callIn(c, callId)).bob === 'Calling', 15_000, 'bob answering after the reconnect');

    const urls = opened.map((o) => o.url);
    for (const url of urls) {
      assert.match(url, LIVE_URL);
      assert.ok(!url.includes(alice) && !url.includes(encodeURIComponent(alice)), 'no bearer token in a socket URL');
    }
    assert.equal(new Set(urls).size, urls.length, 'every socket has its own ticket');
    for (const r of tickets()) assert.ok(!r.path.includes('?'), 'the ticket request has no query');

    // A ticket is good for one socket: the first one, again, is refused.
    const refused = await new Promise((resolveRefused) => {
      const again = new NodeWebSocket(urls[0]);
      again.on('unexpected-response', (_req, res) => { resolveRefused(res.statusCode); again.terminate(); });
      again.on('open', () => { resolveRefused(101); again.close(); });
      again.on('error', () => {});
    });
    assert.equal(refused, 401, 'a used ticket opens nothing');
    live.unsubscribe();
    await emulator.control.act(callId, 'hangup', 'alice');
  });

  test('the edge answers ping with pong, so the watchdog keeps a quiet socket open', async () => {
    const { WebSocket, opened } = notingWebSocket();
    const live = follow(edgeClient({ token: admin, WebSocket }), { ...fast, pingIntervalMs: 250 });
    await live.until((c) => c.status === 'open', 15_000, 'open');
    const pongs = [];
    opened[0].socket.on('message', (data) => { if (String(data) === 'pong') pongs.push(Date.now()); });
    // Four pongs: the watchdog (a ping unanswered by the next one drops the socket) had three chances.
    const deadline = Date.now() + 10_000;
    while (pongs.length < 4) {
      assert.ok(Date.now() < deadline, `pongs in 10 s at a 250 ms ping: ${pongs.length}`);
      await sleep(50);
    }
    assert.deepEqual(live.changes.filter((c) => c.status !== 'open').map((c) => c.status), ['connecting'],
      'never dropped by the watchdog');
    assert.equal(opened.length, 1);
    live.unsubscribe();
  });

  test('a token the edge refuses closes the subscription for good, without retrying', async () => {
    const expired = mintUserSig('alice', { time: Math.floor(Date.now() / 1000) - 7200, expire: 3600 });
    const { WebSocket, opened } = notingWebSocket();
    const ticketsBefore = tickets().length;
    const live = follow(edgeClient({ token: expired, WebSocket }), fast);
    const closed = await live.until((c) => c.status === 'closed', 10_000, 'closed');
    assert.equal(closed.detail.final, true);
    assert.equal(closed.detail.retryAt, null);
    assert.ok(closed.detail.error instanceof CallKitEdgeError);
    assert.equal(closed.detail.error.status, 401);
    await sleep(1_000);
    assert.equal(tickets().length - ticketsBefore, 1, 'asked for one ticket only');
    assert.equal(opened.length, 0, 'no socket without a ticket');
    live.unsubscribe();
  });

  test('sweep: no answer or log line carries the key, a token, the webhook secret, a ticket or a foreign UserSig', async () => {
    const ticketValues = tickets().filter((r) => r.status === 200).map((r) => JSON.parse(r.text).ticket);
    assert.ok(ticketValues.length >= 3);
    const secrets = liveStackSecrets(worker, emulator);
    const checked = await assertCleanWorker(worker, secrets, 'worker');
    assert.ok(checked >= 10, `only ${checked} answers recorded`);
    const logs = worker.logs();
    for (const ticket of ticketValues) assert.ok(!logs.includes(ticket), 'a ticket in the worker log');
    // The emulator's webhooks and the sockets (authenticated by their ticket) are requests this
    // test did not answer-record itself.
    await assertAuditTrail(worker, 'worker', 5_000, { external: ['receive_webhook', 'live_socket'] });
  });
});

/**
 * A stand-in edge for what the real one cannot be made to do on demand: answer pings or
 * not, refuse tickets with a given status, push hand-made messages.
 */
async function startStubEdge() {
  const state = {
    ticketAnswers: [], // statuses to answer the next ticket requests with (then 200)
    ticketRequests: [],
    socketUrls: [],
    sockets: [],
    answerPings: true,
    pings: 0,
    snapshot: [],
  };
  const issued = new Set();
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/api/v1/live/ticket') {
      state.ticketRequests.push({ at: Date.now(), headers: req.headers });
      const status = state.ticketAnswers.shift() ?? 200;
      if (status !== 200) {
        const headers = { 'content-type': 'application/problem+json' };
        if (status === 429) headers['retry-after'] = '1';
        res.writeHead(status, headers);
        res.end(JSON.stringify({ status, code: `stub_${status}`, title: 'Stub', detail: '' }));
        return;
      }
      const ticket = randomBytes(32).toString('hex');
      issued.add(ticket);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ticket, expiresIn: 30 }));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const ticket = new URL(req.url, 'http://stub').searchParams.get('ticket');
    state.socketUrls.push(req.url);
    if (!issued.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      state.sockets.push(ws);
      ws.on('message', (data) => {
        if (String(data) !== 'ping') return;
        state.pings += 1;
        if (state.answerPings) ws.send('pong');
      });
      ws.send(JSON.stringify({ type: 'snapshot', calls: state.snapshot, now: Date.now() }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    /** Sends `message` (an object as JSON, a string as is) on the newest socket. */
    send(message) {
      state.sockets.at(-1).send(typeof message === 'string' ? message : JSON.stringify(message));
    },
    stop() {
      for (const ws of state.sockets) ws.terminate();
      wss.close();
      return new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
    },
  };
}

const liveCall = (callId, startedAt, extra = {}) => ({
  callId, state: 'live', mediaType: 'Audio', callType: 'SingleCall', caller: 'alice', groupId: '', roomId: '',
  roomIdType: null, startedAt, endedAt: null, callResult: null, endedBy: null, updatedAt: startedAt,
  members: [{ userId: 'alice', status: 'Calling', lastAction: null, changedAt: startedAt }], ...extra,
});

describe('subscribe() against a stub edge', { timeout: 60_000 }, () => {
  let stub;

  before(async () => { stub = await startStubEdge(); });
  after(() => stub?.stop());

  test('reconnectDelay(): exponential from minDelayMs, jittered to 50-100 %, capped at maxDelayMs', () => {
    const top = (attempt) => reconnectDelay(attempt, { random: () => 0.999999 });
    const bottom = (attempt) => reconnectDelay(attempt, { random: () => 0 });
    assert.deepEqual([0, 1, 2, 3, 4].map(top), [1000, 2000, 4000, 8000, 16000]);
    assert.deepEqual([0, 1, 2, 3, 4].map(bottom), [500, 1000, 2000, 4000, 8000]);
    for (const attempt of [5, 6, 10, 50, 1000]) {
      assert.equal(top(attempt), 30_000, 'capped at 30 s by default');
      assert.equal(bottom(attempt), 15_000);
    }
    assert.equal(reconnectDelay(3, { minDelayMs: 100, maxDelayMs: 500, random: () => 0.5 }), 375);
    const spread = new Set(Array.from({ length: 50 }, () => reconnectDelay(2)));
    assert.ok(spread.size > 10, 'jitter spreads the delays');
    for (const d of spread) assert.ok(d >= 2000 && d <= 4000, `${d}`);
  });

  test('snapshot, call and removed are applied; pong and unknown messages are ignored', async () => {
    const t = Date.now();
    stub.state.snapshot = [liveCall('c-old', t - 5000), liveCall('c-mid', t - 3000)];
    const live = follow(new CallKitEdgeClient({ baseUrl: stub.url, token: 'tok', WebSocket: NodeWebSocket }));
    const open = await live.until((c) => c.status === 'open', 5_000, 'open');
    assert.deepEqual(open.calls.map((c) => c.callId), ['c-mid', 'c-old'], 'newest first');
    stub.send({ type: 'call', call: liveCall('c-new', t - 1000) });
    stub.send({ type: 'call', call: liveCall('c-mid', t - 3000, { state: 'ended', endedAt: t, callResult: 'NormalEnd' }) });
    stub.send({ type: 'removed', callId: 'c-old' });
    stub.send('pong');
    stub.send({ type: 'something-new', calls: [] });
    stub.send('{not json');
    const last = await live.until((c) => !callIn(c, 'c-old'), 5_000, 'the removal');
    assert.deepEqual(last.calls.map((c) => [c.callId, c.state]), [['c-new', 'live'], ['c-mid', 'ended']]);
    await sleep(200);
    assert.equal(live.changes.at(-1), last, 'nothing after the removal changed the list');
    // A new snapshot replaces the list.
    stub.state.snapshot = [liveCall('c-only', t)];
    stub.state.sockets.at(-1).close(1012);
    const again = await live.until((c) => c.status === 'open' && callIn(c, 'c-only'), 10_000, 'the next snapshot');
    assert.deepEqual(again.calls.map((c) => c.callId), ['c-only']);
    live.unsubscribe();
  });

  test('the ticket request carries the token in its header; the socket URL carries only the ticket', async () => {
    stub.state.ticketRequests.length = 0;
    stub.state.socketUrls.length = 0;
    const live = follow(new CallKitEdgeClient({ baseUrl: `${stub.url}/`, token: async () => 'secret-token-1', WebSocket: NodeWebSocket }));
    await live.until((c) => c.status === 'open', 5_000, 'open');
    assert.equal(stub.state.ticketRequests[0].headers.authorization, 'Bearer secret-token-1');
    assert.equal(stub.state.socketUrls.length, 1);
    assert.match(stub.state.socketUrls[0], /^\/api\/v1\/live\?ticket=[0-9a-f]{64}$/);
    live.unsubscribe();
  });

  test('an https edge is reached over wss, on the base URL’s origin and path', async () => {
    const urls = [];
    class FakeSocket {
      constructor(url) { urls.push(url); }
      close() {}
    }
    const fetchTicket = async () => new Response(JSON.stringify({ ticket: 'ab'.repeat(32), expiresIn: 30 }),
      { status: 200, headers: { 'content-type': 'application/json' } });
    const unsubscribe = new CallKitEdgeClient({ baseUrl: 'https://edge.example/prefix', token: 't', fetch: fetchTicket, WebSocket: FakeSocket })
      .subscribe(() => {});
    await eventually(() => urls.length, (n) => n === 1, { ms: 2_000, label: 'the socket' });
    assert.equal(urls[0], `wss://edge.example/prefix/api/v1/live?ticket=${'ab'.repeat(32)}`);
    unsubscribe();
    assert.throws(() => new CallKitEdgeClient({ baseUrl: stub.url }).subscribe(() => {}), /pass \{ WebSocket \}/);
    assert.throws(() => new CallKitEdgeClient({ baseUrl: stub.url, WebSocket: FakeSocket }).subscribe(), TypeError);
  });

  test('a socket that stops answering pings is dropped and replaced, with a new ticket', async () => {
    const live = follow(new CallKitEdgeClient({ baseUrl: stub.url, token: 'tok', WebSocket: NodeWebSocket }),
      { pingIntervalMs: 150, minDelayMs: 50, maxDelayMs: 100 });
    await live.until((c) => c.status === 'open', 5_000, 'open');
    await sleep(600);
    assert.equal(live.changes.filter((c) => c.status === 'closed').length, 0, 'answered pings keep it open');
    assert.ok(stub.state.pings >= 2, `pings sent: ${stub.state.pings}`);
    const sockets = stub.state.sockets.length;
    const requests = stub.state.ticketRequests.length;
    stub.state.answerPings = false;
    try {
      const lost = await live.until((c) => c.status === 'closed', 5_000, 'the silent socket dropped');
      assert.equal(lost.detail.error.code, 'network_error');
      await live.until((c) => c.status === 'open', 5_000, 'a new socket');
      assert.ok(stub.state.sockets.length > sockets);
      assert.ok(stub.state.ticketRequests.length > requests);
      await eventually(() => stub.state.sockets[sockets - 1].readyState, (s) => s === NodeWebSocket.CLOSED,
        { ms: 5_000, label: 'the old socket closed' });
    } finally {
      stub.state.answerPings = true;
      live.unsubscribe();
    }
  });

  test('a socket closed with 4008 (replaced by a newer one of the same user) is not reconnected', async () => {
    const live = follow(new CallKitEdgeClient({ baseUrl: stub.url, token: 'tok', WebSocket: NodeWebSocket }),
      { minDelayMs: 50, maxDelayMs: 100 });
    await live.until((c) => c.status === 'open', 5_000, 'open');
    const sockets = stub.state.sockets.length;
    stub.state.sockets[sockets - 1].close(4008, 'replaced');
    const closed = await live.until((c) => c.status === 'closed', 5_000, 'the replaced socket');
    assert.equal(closed.detail.error.code, 'socket_replaced');
    assert.equal(closed.detail.final, true);
    await sleep(400);
    assert.equal(stub.state.sockets.length, sockets, 'no new socket pushes the newer one out in turn');
    live.unsubscribe();
  });

  test('a failing ticket request is retried with growing delays; a 403 stops for good', async () => {
    stub.state.ticketRequests.length = 0;
    stub.state.ticketAnswers = [503, 503, 503, 200];
    const live = follow(new CallKitEdgeClient({ baseUrl: stub.url, token: 'tok', WebSocket: NodeWebSocket }),
      { minDelayMs: 100, maxDelayMs: 10_000, random: () => 0.999999 });
    const retrying = await live.until((c) => c.status === 'closed', 5_000, 'the first failure');
    assert.equal(retrying.detail.final, false);
    assert.equal(retrying.detail.error.status, 503);
    await live.until((c) => c.status === 'open', 10_000, 'open after the retries');
    const at = stub.state.ticketRequests.map((r) => r.at);
    assert.equal(at.length, 4);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    // 100, 200, 400 ms (random 1: no jitter shortening), give or take the timers.
    [100, 200, 400].forEach((want, i) => assert.ok(gaps[i] >= want - 5 && gaps[i] < want + 250, `gap ${i}: ${gaps[i]} ms`));
    live.unsubscribe();

    stub.state.ticketRequests.length = 0;
    stub.state.ticketAnswers = [429, 403];
    const limited = follow(new CallKitEdgeClient({ baseUrl: stub.url, token: 'tok', WebSocket: NodeWebSocket }),
      { minDelayMs: 10, maxDelayMs: 10 });
    const waiting = await limited.until((c) => c.status === 'closed', 5_000, 'the 429');
    assert.ok(waiting.detail.retryAt - Date.now() > 800, 'Retry-After: 1 is honoured over a shorter backoff');
    const refused = await limited.until((c) => c.status === 'closed' && c.detail.final, 5_000, 'the 403');
    assert.equal(refused.detail.error.status, 403);
    await sleep(300);
    assert.equal(stub.state.ticketRequests.length, 2, 'nothing after a final refusal');
    // reconnect() tries again even then.
    limited.unsubscribe.reconnect();
    await limited.until((c) => c.status === 'open', 5_000, 'open after reconnect()');
    limited.unsubscribe();
  });

  test('unsubscribe() during the ticket request opens no socket', async () => {
    const sockets = stub.state.sockets.length;
    const live = follow(new CallKitEdgeClient({ baseUrl: stub.url, token: 'tok', WebSocket: NodeWebSocket }));
    live.unsubscribe();
    await sleep(300);
    assert.equal(stub.state.sockets.length, sockets);
    assert.deepEqual(live.changes.map((c) => c.status), ['connecting']);
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

// The relay (docs/relay.md): every webhook the built worker accepts goes
// through its real local queue to the app's backends, here two sinks that
// verify each delivery with the `standardwebhooks` library as a backend
// would; the delivery log, retries, the dead-letter queue and redelivery.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import {
  assertAuditTrail,
  assertCleanWorker,
  assertNoSecrets,
  assertProblem,
  collectSecrets,
  sentTokens,
  sleep,
  startEmulator,
  startWorker,
} from './harness.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';
import { startSink } from './relay-sink.mjs';
import {
  FORWARD_SECRET,
  OTHER_SECRET,
  TOKEN,
  URL_KEY,
  acceptedCalls,
  deliver,
  eventually,
  newCallId,
  relayVars,
  sign,
  startEvent,
} from './relay-common.mjs';

const ADMINS = Array.from({ length: 6 }, (_, i) => `relayadmin${i}`);
const adminTokens = ADMINS.map((a) => mintUserSig(a));
let turn = 0;
const admin = () => adminTokens[turn++ % adminTokens.length];
const alice = mintUserSig('alice');

let emulator;
let worker;
let sinkA;
let sinkB;
const extraWorkers = [];

before(async () => {
  emulator = await startEmulator({ extraArgs: ['--webhook-token', TOKEN] });
  sinkA = await startSink({ secret: FORWARD_SECRET, label: 'sink A' });
  sinkB = await startSink({ secret: FORWARD_SECRET, label: 'sink B' });
  worker = await startWorker({ emulator, vars: relayVars([sinkA, sinkB], { ADMIN_USERS: ADMINS.join(',') }) });
});

after(async () => {
  for (const w of extraWorkers) await w.stop();
  await worker?.stop();
  await emulator?.stop();
  await sinkA?.stop();
  await sinkB?.stop();
});

const forCall = (sink, callId) => sink.received.filter((r) => r.body.includes(`"${callId}"`));

async function log(target = worker, query = '') {
  const res = await target.request('GET', `/api/v1/relay/deliveries${query}`, { token: admin() });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

describe('every accepted webhook reaches every backend, signed', () => {
  test("an emulated call's webhooks arrive at both sinks and verify with standardwebhooks", async () => {
    const set = await worker.request('PUT', '/api/v1/callback', {
      token: admin(),
      body: { url: `${worker.url}/api/v1/webhooks/tencent`, commands: ['Call.CallbackAfterStartCall'] },
    });
    assert.equal(set.status, 200, set.text);
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'] });
    for (const sink of [sinkA, sinkB]) {
      await sink.waitUntil(() => acceptedCalls(sink).has(callId), 15_000, `the start of ${callId}`);
      const [delivery] = forCall(sink, callId);
      assert.ok(delivery.verified, 'standardwebhooks accepts the signature');
      assert.equal(delivery.path, '/hook');
      assert.equal(delivery.headers['x-callkit-source'], 'callkit');
      assert.equal(delivery.headers['x-tencent-callbackcommand'], 'Call.CallbackAfterStartCall');
      assert.match(delivery.headers['webhook-id'], /^msg_[A-Za-z0-9_-]{24}$/);
      assert.match(delivery.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/);
      assert.equal(delivery.headers['content-type'], 'application/json');
    }
    const [a] = forCall(sinkA, callId);
    const [b] = forCall(sinkB, callId);
    assert.equal(a.body, b.body);
    assert.notEqual(a.id, b.id, 'one webhook-id per event and URL');
  });

  test('the body is passed on byte for byte, and a wrong secret fails verification', async () => {
    const callId = newCallId('bytes');
    // Tencent-style formatting: tabs, newlines, a non-ASCII name. Re-serialising would change it.
    const raw = JSON.stringify(startEvent(callId), null, '\t').replace('"alice"', '"alic\u00e9"');
    const res = await deliver(worker, startEvent(callId), { raw });
    assert.equal(res.status, 200, res.text);
    await sinkA.waitUntil(() => acceptedCalls(sinkA).has(callId), 10_000, callId);
    const [delivery] = forCall(sinkA, callId);
    assert.equal(delivery.body, raw);
    const wrong = new Webhook(OTHER_SECRET);
    assert.throws(() => wrong.verify(delivery.body, delivery.headers), /signature/i);
    const tampered = { ...delivery.headers, 'webhook-id': `${delivery.id.slice(0, -1)}x` };
    assert.throws(() => new Webhook(FORWARD_SECRET).verify(delivery.body, tampered));
  });

  test("Tencent's parameters arrive as headers; its proofs never do", async () => {
    const callId = newCallId('params');
    const time = Math.floor(Date.now() / 1000);
    assert.equal((await deliver(worker, startEvent(callId), { time })).status, 200);
    const keyed = newCallId('keyed');
    assert.equal((await deliver(worker, startEvent(keyed), { query: { key: URL_KEY } })).status, 200);
    for (const id of [callId, keyed]) {
      await sinkB.waitUntil(() => acceptedCalls(sinkB).has(id), 10_000, id);
      const [d] = forCall(sinkB, id);
      assert.equal(d.headers['x-tencent-sdkappid'], '1400000000');
      assert.equal(d.headers['x-tencent-clientip'], '127.0.0.1');
      assert.equal(d.headers['x-tencent-optplatform'], 'RESTAPI');
      for (const name of ['x-tencent-sign', 'x-tencent-requesttime', 'x-tencent-key']) assert.equal(d.headers[name], undefined, name);
      assertNoSecrets(
        { status: 200, headers: d.headers, text: d.body },
        collectSecrets({ extra: [TOKEN, URL_KEY, sign(time), FORWARD_SECRET] }),
        'a delivery',
      );
    }
  });

  test('a replay is not relayed, a duplicate is not delivered twice, a refused webhook not at all', async () => {
    const callId = newCallId('once');
    const time = Math.floor(Date.now() / 1000);
    const body = startEvent(callId);
    assert.equal((await deliver(worker, body, { time })).status, 200);
    assert.equal((await deliver(worker, body, { time })).status, 200, 'the replay is answered OK');
    // The same event again with a fresh proof: Tencent's duplicate.
    assert.equal((await deliver(worker, body, { time: time + 1 })).status, 200);
    const forged = newCallId('forged');
    const good = sign(time);
    const forgedSign = `${good[0] === 'a' ? 'b' : 'a'}${good.slice(1)}`;
    const refused = await deliver(worker, startEvent(forged), { query: { Sign: forgedSign, RequestTime: String(time) } });
    assertProblem(refused, 401, 'webhook_unauthenticated');
    await sinkA.waitUntil(() => acceptedCalls(sinkA).has(callId), 10_000, callId);
    await sleep(4_000); // time for anything extra to arrive
    assert.equal(forCall(sinkA, callId).length, 1, 'one delivery at A');
    assert.equal(forCall(sinkB, callId).length, 1, 'one delivery at B');
    assert.equal(forCall(sinkA, forged).length + forCall(sinkB, forged).length, 0, 'nothing of the forged one');
  });
});

describe('the delivery log', () => {
  test('lists deliveries per URL, filters them, and is for admins only', async () => {
    const callId = newCallId('logged');
    assert.equal((await deliver(worker, startEvent(callId))).status, 200);
    await sinkB.waitUntil(() => acceptedCalls(sinkB).has(callId), 10_000, callId);
    const [delivery] = forCall(sinkB, callId);
    const page = await eventually(async () => {
      const p = await log(worker, `?url=${encodeURIComponent(`${sinkB.url}/hook`)}&status=delivered`);
      return p.deliveries.some((d) => d.id === delivery.id) && p;
    }, 'the delivery in the log');
    const row = page.deliveries.find((d) => d.id === delivery.id);
    assert.equal(row.status, 'delivered');
    assert.equal(row.attempts, 1);
    assert.equal(row.lastStatus, 204);
    assert.equal(row.source, 'callkit');
    assert.ok(Number.isInteger(row.latencyMs) && row.latencyMs >= 0);
    assert.ok(page.deliveries.every((d) => d.url === `${sinkB.url}/hook` && d.status === 'delivered'));
    assert.deepEqual(page.urls.map((u) => u.url).sort(), [`${sinkA.url}/hook`, `${sinkB.url}/hook`].sort());
    assert.ok(!('body' in row), 'the log lists no bodies');

    assertProblem(await worker.request('GET', '/api/v1/relay/deliveries', { token: alice }), 403, 'forbidden');
    assertProblem(await worker.request('GET', '/api/v1/relay/deliveries'), 401, 'token_missing');
    for (const q of ['?status=failed', '?cursor=nope', '?page=2']) {
      assertProblem(await worker.request('GET', `/api/v1/relay/deliveries${q}`, { token: admin() }), 400, 'invalid_filter', q);
    }
  });

  test('pages with a cursor, newest first', async () => {
    const first = await log(worker);
    assert.ok(first.deliveries.length > 0);
    const times = first.deliveries.map((d) => d.acceptedAt);
    assert.deepEqual(times, [...times].sort((x, y) => y - x), 'newest first');
    if (first.nextCursor) {
      const second = await log(worker, `?cursor=${encodeURIComponent(first.nextCursor)}`);
      const seen = new Set(first.deliveries.map((d) => d.id));
      assert.ok(second.deliveries.every((d) => !seen.has(d.id)), 'no row twice');
    } else {
      assert.ok(first.deliveries.length <= 50);
    }
  });
});

describe('retries, the dead-letter queue, redelivery', () => {
  test('a failing URL is retried with backoff while the other is served at once', async () => {
    sinkA.mode('fail');
    const callId = newCallId('retry');
    const sent = Date.now();
    assert.equal((await deliver(worker, startEvent(callId))).status, 200);
    await sinkB.waitUntil(() => acceptedCalls(sinkB).has(callId), 10_000, `${callId} at B`);
    const atB = forCall(sinkB, callId)[0].at - sent;
    await sinkA.waitUntil(() => forCall(sinkA, callId).length >= 2, 20_000, 'two failed attempts at A');
    sinkA.mode('ok');
    await sinkA.waitUntil(() => acceptedCalls(sinkA).has(callId), 40_000, `${callId} at A after the retries`);
    const attempts = forCall(sinkA, callId);
    assert.ok(attempts.length >= 3, `${attempts.length} attempts`);
    assert.equal(new Set(attempts.map((r) => r.id)).size, 1, 'one webhook-id across retries');
    const gaps = attempts.slice(1).map((r, i) => r.at - attempts[i].at);
    assert.ok(gaps[1] === undefined || gaps[1] > gaps[0] * 1.4, `backoff grows: ${gaps}`);
    assert.ok(atB < 5_000, `B got it in ${atB} ms despite A failing`);
    const id = attempts[0].id;
    const row = await eventually(async () => (await log()).deliveries.find((d) => d.id === id && d.status === 'delivered'), 'A delivered in the log');
    assert.equal(row.attempts, attempts.length);
  });

  test('redelivery sends the same webhook-id again, even when delivered', async () => {
    const callId = newCallId('again');
    assert.equal((await deliver(worker, startEvent(callId))).status, 200);
    await sinkB.waitUntil(() => acceptedCalls(sinkB).has(callId), 10_000, callId);
    const { id } = forCall(sinkB, callId)[0];
    await eventually(async () => (await log()).deliveries.some((d) => d.id === id && d.status === 'delivered'), 'logged');
    const res = await worker.request('POST', `/api/v1/relay/deliveries/${id}/redeliver`, { token: admin() });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(res.json, { id, status: 'pending' });
    await sinkB.waitUntil(() => forCall(sinkB, callId).length === 2, 10_000, 'the redelivery');
    const [one, two] = forCall(sinkB, callId);
    assert.equal(two.id, one.id);
    assert.equal(two.body, one.body);
    assert.ok(two.verified);

    assertProblem(await worker.request('POST', '/api/v1/relay/deliveries/msg_AAAAAAAAAAAAAAAAAAAAAAAA/redeliver', { token: admin() }), 404, 'delivery_not_found');
    // Not an id at all: bad input, as openapi.json's pattern says.
    assertProblem(await worker.request('POST', '/api/v1/relay/deliveries/nope/redeliver', { token: admin() }), 400, 'invalid_field');
    assertProblem(await worker.request('POST', `/api/v1/relay/deliveries/${id}/redeliver`, { token: alice }), 403, 'forbidden');
  });

  test('after max_retries the event goes to the dead-letter queue, and can be redelivered from the log', { timeout: 180_000 }, async () => {
    const sink = await startSink({ secret: FORWARD_SECRET, label: 'dead sink' });
    sink.mode('fail');
    const short = await startWorker({
      emulator,
      vars: relayVars([sink], { ADMIN_USERS: ADMINS.join(',') }),
      tomlEdit: (t) => t.replace(/max_retries = \d+/g, 'max_retries = 1'),
    });
    extraWorkers.push(short);
    try {
      const callId = newCallId('dead');
      assert.equal((await deliver(short, startEvent(callId))).status, 200);
      const row = await eventually(async () => (await log(short, '?status=dead')).deliveries[0], 'a dead delivery', 60_000);
      assert.equal(row.attempts, 2, 'the first attempt and one retry');
      assert.equal(row.lastStatus, 500);
      assert.equal(forCall(sink, callId).length, 2);
      const summary = (await log(short)).urls[0];
      assert.equal(summary.dead, 1);

      sink.mode('ok');
      const res = await short.request('POST', `/api/v1/relay/deliveries/${row.id}/redeliver`, { token: admin() });
      assert.equal(res.status, 202, res.text);
      await sink.waitUntil(() => acceptedCalls(sink).has(callId), 15_000, 'the redelivered dead event');
      await eventually(async () => (await log(short, '?status=delivered')).deliveries.some((d) => d.id === row.id), 'delivered in the log');
      await assertCleanWorker(short, secrets(short), 'short-retry worker');
    } finally {
      await sink.stop();
    }
  });

  test('a worker without the relay settings relays nothing and refuses redelivery', { timeout: 180_000 }, async () => {
    // The same state, first with the relay on, then off.
    const dir = await mkdtemp(join(tmpdir(), 'callkit-relay-off-'));
    try {
      const on = await startWorker({ emulator, vars: relayVars([sinkA], { ADMIN_USERS: ADMINS.join(',') }), persistDir: dir });
      const before = newCallId('before-off');
      assert.equal((await deliver(on, startEvent(before))).status, 200);
      await sinkA.waitUntil(() => acceptedCalls(sinkA).has(before), 10_000, before);
      const { id } = forCall(sinkA, before)[0];
      await eventually(async () => (await log(on)).deliveries.some((d) => d.id === id && d.status === 'delivered'), 'logged');
      await on.stop();

      const off = await startWorker({ emulator, vars: { TENCENT_CALLBACK_TOKEN: TOKEN, ADMIN_USERS: ADMINS.join(',') }, persistDir: dir });
      extraWorkers.push(off);
      const callId = newCallId('off');
      assert.equal((await deliver(off, startEvent(callId))).status, 200);
      const p = assertProblem(await off.request('POST', `/api/v1/relay/deliveries/${id}/redeliver`, { token: admin() }), 503, 'misconfigured');
      assert.match(p.detail, /WEBHOOK_FORWARD_URLS/);
      assertProblem(await off.request('POST', '/api/v1/relay/deliveries/msg_AAAAAAAAAAAAAAAAAAAAAAAA/redeliver', { token: admin() }), 404, 'delivery_not_found');
      const half = await startWorker({ emulator, vars: { TENCENT_CALLBACK_TOKEN: TOKEN, WEBHOOK_FORWARD_URLS: `${sinkA.url}/hook` } });
      extraWorkers.push(half);
      const misconfigured = assertProblem(await deliver(half, startEvent(newCallId('half'))), 503, 'misconfigured');
      assert.match(misconfigured.detail, /WEBHOOK_FORWARD_SECRET/);
      await sleep(2_000);
      assert.equal(forCall(sinkA, callId).length, 0, 'nothing relayed while off');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function secrets(target) {
  return collectSecrets({
    secretKey: DEMO_KEY,
    userSigs: [...adminTokens, alice],
    tokens: sentTokens(target),
    emulatorUrl: emulator.url,
    extra: [TOKEN, URL_KEY, FORWARD_SECRET, FORWARD_SECRET.slice('whsec_'.length)],
  });
}

test('no answer or log line carries a secret, and every answer has its audit line', async () => {
  await assertCleanWorker(worker, secrets(worker), 'relay worker');
  await assertAuditTrail(worker, 'relay worker', 5_000, { external: ['receive_webhook'] });
});

// The built worker against Tencent's own Node UserSig library (`tls-sig-api-v2`,
// pinned in package.json), not against tokens.mjs, our re-implementation of it:
// the edge accepts the sigs the official library mints for members, refuses
// the ones it mints with another key, for another app, too long ago or with a
// userbuf, each with its 401 code; and both sigs the edge mints (a member's at
// `POST /api/v1/usersig`, its own admin sig in the upstream query string) are
// the very document the official library writes for the same user, time and
// expire, `TLS.sig` included.
//
// The library takes no issue time: it reads `Date.now()`, which `officialAt`
// stubs for the length of one call. The upstream is a tap in front of the
// emulator, to read the admin sig the worker sends.

import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import TLSSigAPIv2 from 'tls-sig-api-v2';
import {
  assertAuditTrail,
  assertCleanWorker,
  assertProblem,
  collectSecrets,
  mintedUserSigs,
  sentTokens,
  startEmulator,
  startWorker,
} from './harness.mjs';
import { DEMO_KEY, DEMO_SDKAPPID, decodeUserSig } from './tokens.mjs';

const official = new TLSSigAPIv2.Api(DEMO_SDKAPPID, DEMO_KEY);
const now = () => Math.floor(Date.now() / 1000);

/** What `make` returns, made by the official library with its clock at `time` (Unix s). */
function officialAt(time, make) {
  const clock = mock.method(Date, 'now', () => time * 1000);
  let sig;
  try {
    sig = make();
  } finally {
    clock.mock.restore();
  }
  // A stub that did not take would silently test "now" instead.
  assert.equal(decode(sig)['TLS.time'], time, 'the official library used the stubbed clock');
  return sig;
}

/**
 * A UserSig's JSON document: Tencent's base64 (`*-_` for `+/=`, the official
 * library's `base64url.escape`), then zlib.
 */
function decode(sig) {
  assert.match(sig, /^[A-Za-z0-9*_-]+$/, 'only Tencent\'s base64 alphabet');
  return decodeUserSig(sig);
}

/** `[key, typeof value]` pairs, sorted: a document's layout without its values. */
const layout = (doc) => Object.entries(doc).map(([k, v]) => [k, typeof v]).sort(([a], [b]) => a.localeCompare(b));

/**
 * Asserts `sig` is, field for field, the document the official library
 * writes for its identifier, time and expire with the demo app's key, and
 * that its `TLS.sig` is the library's own HMAC of those fields.
 * Key order may differ (Node writes `time` before `expire`, the edge the Go
 * order): verifiers parse the JSON, and Tencent's server is one.
 */
function assertOfficialDocument(sig, label) {
  const doc = decode(sig);
  const { 'TLS.identifier': identifier, 'TLS.time': time, 'TLS.expire': expire } = doc;
  const reference = decode(officialAt(time, () => official.genUserSig(identifier, expire)));
  assert.deepEqual(layout(doc), layout(reference), `${label}: keys and types`);
  assert.deepEqual(doc, reference, `${label}: fields`);
  assert.equal(doc['TLS.sig'], official._hmacsha256(identifier, time, expire, null), `${label}: TLS.sig`);
  return doc;
}

/**
 * An HTTP server that passes every request on to `target` and keeps its URL:
 * the worker's upstream, so the test sees the admin sig in the query string.
 */
async function startUpstreamTap(target) {
  const seen = [];
  const server = createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      seen.push(new URL(req.url, 'http://tap'));
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (err) {
      res.writeHead(599).end(String(err));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

let emulator;
let tap;
let worker;
let startedAt;

before(async () => {
  emulator = await startEmulator();
  tap = await startUpstreamTap(emulator.url);
  startedAt = now();
  worker = await startWorker({ emulator: tap.url });
});

after(async () => {
  await worker?.stop();
  await tap?.stop();
  await emulator?.stop();
});

/** Who the edge says the bearer is, from the route that answers with the identity. */
const whoami = (token) => worker.request('POST', '/api/v1/usersig', { token });
/** A route any member may use. */
const liveCalls = (token) => worker.request('GET', '/api/v1/live/calls', { token });

/** A 401 with `code`, whose detail says what to do, as for every token error. */
function assertRefused(res, code, label) {
  const p = assertProblem(res, 401, code, label);
  assert.match(p.detail, /sign in again/i, `${label}: ${p.detail}`);
}

test('helper: with its clock stubbed, the official library writes the published Node vector', () => {
  // docs/tencent-callkit-v4.md §7.4 (also in tokens.test.mjs): the pinned
  // package is the library those bytes came from, and `officialAt` sets its time.
  assert.equal(
    officialAt(1700000000, () => official.genUserSig('xiaojun', 15552000)),
    'eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__',
  );
});

describe('UserSigs from the official library as bearer tokens', () => {
  test('a member\'s sig (genUserSig) is accepted as its identifier, on a member route too', async () => {
    for (const [user, expire] of [
      ['alice', 86400],
      ['bob_01-x', 180 * 86400], // the library's default lifetime
    ]) {
      const token = official.genUserSig(user, expire);
      const res = await whoami(token);
      assert.equal(res.status, 200, `${user}: ${res.text}`);
      assert.equal(res.json.userId, user);
      const live = await liveCalls(token);
      assert.equal(live.status, 200, `${user}: ${live.text}`);
      assert.ok(Array.isArray(live.json.calls), live.text);
    }
  });

  test('a sig issued in the past is accepted until time + expire, then refused as token_expired', async () => {
    const t = now();
    // 60 s left, and 40 s past: far from the boundary second, so no race.
    const current = officialAt(t - 100, () => official.genUserSig('alice', 160));
    assert.equal((await liveCalls(current)).status, 200);
    const lapsed = officialAt(t - 100, () => official.genUserSig('alice', 60));
    assertRefused(await liveCalls(lapsed), 'token_expired', 'expired 40 s ago');
    const yesterday = officialAt(t - 2 * 86400, () => official.genUserSig('alice', 86400));
    assertRefused(await liveCalls(yesterday), 'token_expired', 'expired a day ago');
  });

  test('another key, another SDKAppID and a userbuf (TRTC room keys) are refused with their codes', async () => {
    const otherKey = new TLSSigAPIv2.Api(DEMO_SDKAPPID, DEMO_KEY.replace(/^5/, '6'));
    const otherApp = new TLSSigAPIv2.Api(DEMO_SDKAPPID + 1, DEMO_KEY);
    const otherAppAndKey = new TLSSigAPIv2.Api(DEMO_SDKAPPID + 1, DEMO_KEY.replace(/^5/, '6'));
    const cases = [
      ['another key', otherKey.genUserSig('alice', 86400), 'token_bad_signature'],
      ['another SDKAppID, same key', otherApp.genUserSig('alice', 86400), 'token_wrong_app'],
      ['another SDKAppID and its key', otherAppAndKey.genUserSig('alice', 86400), 'token_wrong_app'],
      // Login sigs carry no userbuf (src/api/auth/usersig.rs): one that does is not a login credential.
      ['userbuf (genSig)', official.genSig('alice', 86400, Buffer.from('abc')), 'token_malformed'],
      ['PrivateMapKey', official.genPrivateMapKey('alice', 86400, 10000, 255), 'token_malformed'],
      ['PrivateMapKey, string room', official.genPrivateMapKeyWithStringRoomID('alice', 86400, 'room-1', 255), 'token_malformed'],
    ];
    for (const [label, token, code] of cases) {
      assertRefused(await liveCalls(token), code, label);
      assertRefused(await whoami(token), code, label);
    }
  });
});

describe('UserSigs the edge mints, against the official library', () => {
  test('POST /api/v1/usersig answers the document genUserSig writes for the same user, time and expire', async () => {
    // bob's token runs out sooner than USERSIG_TTL_SECS: the minted sig's expire is cut to it.
    for (const [user, expire] of [
      ['alice', 86400],
      ['bob', 600],
    ]) {
      const asked = now();
      const res = await whoami(official.genUserSig(user, expire));
      assert.equal(res.status, 200, res.text);
      const doc = assertOfficialDocument(res.json.userSig, user);
      assert.equal(doc['TLS.identifier'], user);
      assert.equal(doc['TLS.sdkappid'], DEMO_SDKAPPID);
      assert.equal(res.json.sdkAppId, DEMO_SDKAPPID);
      assert.equal(res.json.expiresAt, doc['TLS.time'] + doc['TLS.expire']);
      assert.ok(Math.abs(doc['TLS.time'] - asked) <= 5, `TLS.time ${doc['TLS.time']}, asked at ${asked}`);
      assert.ok(doc['TLS.expire'] > expire - 10 && doc['TLS.expire'] <= expire, `TLS.expire ${doc['TLS.expire']}`);
      // And it logs in, like the official one.
      const back = await whoami(res.json.userSig);
      assert.equal(back.status, 200, back.text);
      assert.equal(back.json.userId, user);
    }
  });

  test('the admin sig the edge sends upstream is the document genUserSig writes for the admin account', async () => {
    const res = await worker.request('GET', '/api/v1/records', { token: official.genUserSig('administrator', 86400) });
    assert.equal(res.status, 200, res.text);
    const calls = tap.seen.filter((u) => u.pathname.startsWith('/v4/'));
    assert.ok(calls.length >= 1, `no upstream call seen: ${tap.seen.map((u) => u.pathname)}`);
    for (const url of calls) {
      const sig = url.searchParams.get('usersig');
      assert.ok(sig, `${url.pathname}: no usersig in the query`);
      const doc = assertOfficialDocument(sig, `admin sig of ${url.pathname}`);
      // TENCENT_ADMIN_IDENTIFIER and ADMIN_USERSIG_TTL_SECS defaults.
      assert.equal(doc['TLS.identifier'], 'administrator');
      assert.equal(url.searchParams.get('identifier'), 'administrator');
      assert.equal(url.searchParams.get('sdkappid'), String(DEMO_SDKAPPID));
      assert.equal(doc['TLS.sdkappid'], DEMO_SDKAPPID);
      assert.equal(doc['TLS.expire'], 86400);
      assert.ok(doc['TLS.time'] >= startedAt - 5 && doc['TLS.time'] <= now() + 5, `TLS.time ${doc['TLS.time']}`);
    }
  });
});

// ------------------------------------------------------------ sweep (last)

describe('sweep', () => {
  test('no answer or log line carries the key, a token, the upstream URL or a foreign UserSig; errors are problem+json', async () => {
    const adminSigs = tap.seen.map((u) => u.searchParams.get('usersig')).filter(Boolean);
    assert.ok(adminSigs.length >= 1, 'the admin sig is among the forbidden strings');
    const secrets = collectSecrets({
      secretKey: DEMO_KEY,
      userSigs: [...adminSigs, ...mintedUserSigs(worker)],
      tokens: sentTokens(worker),
      emulatorUrl: tap.url,
      extra: [`${emulator.url}/v4/`],
    });
    const checked = await assertCleanWorker(worker, secrets, 'worker');
    assert.ok(checked >= 20, `only ${checked} answers recorded`);
  });

  test('every answer left exactly one audit line with its identity, action and status', async () => {
    await assertAuditTrail(worker, 'worker');
  });
});

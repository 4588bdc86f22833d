// Issue 4: caller authentication through the built worker. Forged and
// edge-case tokens, each rejected with 401 and its stable code, in both
// auth modes: `usersig`, and `jwt` with HS256 (JWT_SECRET), RS256 and ES256
// (JWKS served on loopback). Then the sweep of every answer and log line.
//
// One emulator; four workers started together, one per auth setup. The
// probe route is `POST /api/v1/usersig` (no upstream call, answers with the
// authenticated identity); admin rights are probed with `GET /api/v1/records`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomUUID } from 'node:crypto';
import {
  assertAuditTrail,
  assertCleanWorker,
  assertProblem,
  collectSecrets,
  startEmulator,
  startJwksServer,
  startWorker,
} from './harness.mjs';
import { DEMO_KEY, claims, generateSigningKey, jwks, mintUserSig, signJwt, verifyUserSig } from './tokens.mjs';

const JWT_SECRET = `integration-hs256-${randomUUID()}`;
const ISS = 'https://id.example.test/';
const AUD = 'callkit-edge-tests';
const RSA = generateSigningKey('RS256', 'rsa-1');
const EC = generateSigningKey('ES256', 'ec-1');
const ROGUE_RSA = generateSigningKey('RS256', 'rsa-rogue');
const ROGUE_EC = generateSigningKey('ES256', 'ec-1'); // claims the trusted kid
const RSA_PUBLIC_PEM = createPublicKey({ key: RSA.jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });

const now = () => Math.floor(Date.now() / 1000);

let emulator;
let rsJwks;
let esJwks;
let sigWorker;
let hsWorker;
let rsWorker;
let esWorker;
const minted = [];

before(async () => {
  emulator = await startEmulator();
  // Both sets hold an RSA and an EC key: each worker must pick the pinned algorithm's keys.
  [rsJwks, esJwks] = await Promise.all([startJwksServer(jwks(RSA, EC)), startJwksServer(jwks(RSA, EC))]);
  const jwt = { AUTH_MODE: 'jwt', JWT_ISSUER: ISS, JWT_AUDIENCE: AUD };
  [sigWorker, hsWorker, rsWorker, esWorker] = await Promise.all([
    startWorker({ emulator }),
    startWorker({ emulator, vars: { ...jwt, JWT_SECRET, ADMIN_CLAIM: 'role=admin' } }),
    startWorker({ emulator, vars: { ...jwt, JWT_ALG: 'RS256', JWT_JWKS_URL: rsJwks.url } }),
    startWorker({ emulator, vars: { ...jwt, JWT_ALG: 'ES256', JWT_JWKS_URL: esJwks.url } }),
  ]);
});

after(async () => {
  await Promise.all([sigWorker?.stop(), hsWorker?.stop(), rsWorker?.stop(), esWorker?.stop()]);
  await Promise.all([rsJwks?.stop(), esJwks?.stop()]);
  await emulator?.stop();
});

/** Asks `w` who the token's bearer is: their identity on success. */
async function whoami(w, token, headers = {}) {
  const res = await w.request('POST', '/api/v1/usersig', { token, headers });
  if (res.status === 200) minted.push(res.json.userSig);
  return res;
}

async function assertAccepted(w, token, sub) {
  const res = await whoami(w, token);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.userId, sub);
}

async function assertRejected(w, token, code, label, headers) {
  const p = assertProblem(await whoami(w, token, headers), 401, code, label);
  // The detail says what is wrong, never what the token said.
  assert.match(p.detail, /sign in again/i, p.detail);
  return p;
}

// ------------------------------------------------------------ usersig mode

describe('AUTH_MODE=usersig', () => {
  test('a UserSig for this app, signed with its key, is accepted as its identifier', async () => {
    await assertAccepted(sigWorker, mintUserSig('alice'), 'alice');
  });

  test('forged and stale UserSigs are rejected with their codes', async () => {
    const valid = mintUserSig('alice');
    const cases = [
      ['another SDKAppID', mintUserSig('alice', { sdkappid: 1400000001 }), 'token_wrong_app'],
      ['another key', mintUserSig('alice', { key: DEMO_KEY.replace(/^5/, '6') }), 'token_bad_signature'],
      ['expired', mintUserSig('alice', { time: now() - 2 * 86400, expire: 86400 }), 'token_expired'],
      ['garbage', `garbage-${randomUUID()}`, 'token_malformed'],
      ['truncated', valid.slice(0, Math.floor(valid.length / 2)), 'token_malformed'],
      ['a JWT', signJwt(claims('alice'), { alg: 'HS256', key: JWT_SECRET }), 'token_malformed'],
    ];
    for (const [label, token, code] of cases) await assertRejected(sigWorker, token, code, label);
  });

  test('a missing, empty or non-Bearer Authorization header is rejected', async () => {
    await assertRejected(sigWorker, undefined, 'token_missing', 'no header');
    await assertRejected(sigWorker, undefined, 'token_malformed', 'empty Bearer', { authorization: 'Bearer' });
    await assertRejected(sigWorker, undefined, 'token_malformed', 'Basic', {
      authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}`,
    });
  });
});

// ------------------------------------------------------------ jwt, HS256

describe('AUTH_MODE=jwt with HS256 (JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, ADMIN_CLAIM=role=admin)', () => {
  const hs = (payload, options = {}) => signJwt(payload, { alg: 'HS256', key: JWT_SECRET, ...options });
  const good = (sub, extra = {}) => claims(sub, { iss: ISS, aud: AUD, ...extra });

  test('a valid token is accepted as its sub; skew within JWT_LEEWAY_SECS is tolerated', async () => {
    await assertAccepted(hsWorker, hs(good('alice')), 'alice');
    await assertAccepted(hsWorker, hs(good('alice', { aud: ['other', AUD] })), 'alice');
    await assertAccepted(hsWorker, hs(good('alice', { exp: now() - 5 })), 'alice');
    await assertAccepted(hsWorker, hs(good('alice', { nbf: now() + 5 })), 'alice');
  });

  test('forged and edge-case tokens are rejected with their codes', async () => {
    const valid = hs(good('alice'));
    const [head, payload] = valid.split('.');
    const { exp: _exp, ...noExp } = good('alice');
    const { sub: _sub, ...noSub } = good('alice');
    const tamperedPayload = Buffer.from(JSON.stringify(good('administrator'))).toString('base64url');
    const none = signJwt(good('alice'), { alg: 'none' });
    const cases = [
      ['alg none', none, 'token_wrong_algorithm'],
      ['alg none, HS256 signature kept', `${none}${valid.split('.')[2]}`, 'token_wrong_algorithm'],
      ['wrong aud', hs(good('alice', { aud: 'another-app' })), 'token_wrong_audience'],
      ['no aud', hs(claims('alice', { iss: ISS })), 'token_wrong_audience'],
      ['wrong iss', hs(good('alice', { iss: 'https://evil.example/' })), 'token_wrong_issuer'],
      ['expired', hs(good('alice', { exp: now() - 3600 })), 'token_expired'],
      ['nbf in the future', hs(good('alice', { nbf: now() + 3600 })), 'token_not_yet_valid'],
      ['truncated', valid.slice(0, head.length + 1 + Math.floor(payload.length / 2)), 'token_malformed'],
      ['signature cut off', `${head}.${payload}.`, 'token_bad_signature'],
      ['missing sub', hs(noSub), 'token_missing_claim'],
      ['missing exp', hs(noExp), 'token_missing_claim'],
      ['sub not a UserID', hs(good('x'.repeat(33))), 'token_invalid_subject'],
      ['another secret', signJwt(good('alice'), { alg: 'HS256', key: `${JWT_SECRET}-other` }), 'token_bad_signature'],
      ['payload swapped, signature kept', `${head}.${tamperedPayload}.${valid.split('.')[2]}`, 'token_bad_signature'],
      ['RS256 where HS256 is pinned', signJwt(good('alice'), { alg: 'RS256', key: RSA }), 'token_wrong_algorithm'],
      ['a UserSig', mintUserSig('alice'), 'token_malformed'],
    ];
    for (const [label, token, code] of cases) {
      const p = await assertRejected(hsWorker, token, code, label);
      if (code === 'token_missing_claim') assert.match(p.detail, label.includes('sub') ? /`sub`/ : /`exp`/, p.detail);
    }
  });

  test('a JWT naming the Tencent admin account cannot mint that account\'s UserSig', async () => {
    // The admin's UserSig is the upstream admin credential: any identity
    // provider user called `administrator` must not walk away with it.
    assertProblem(await whoami(hsWorker, hs(good('administrator'))), 403, 'forbidden');
  });

  test('a minted sig never outlives the JWT that asked for it, and lives as long as it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await whoami(hsWorker, hs(good('alice', { exp: now + 120 })));
    assert.equal(res.status, 200, res.text);
    // Cut to the token's expiry (USERSIG_TTL_SECS would give a day), not shorter.
    assert.ok(res.json.expiresAt <= now + 120, res.text);
    assert.ok(res.json.expiresAt >= now + 110, res.text);
    const check = verifyUserSig(res.json.userSig, { identifier: 'alice' });
    assert.ok(check.ok, `the minted sig does not verify: ${check.reason}`);
    assert.equal(check.doc['TLS.time'] + check.doc['TLS.expire'], res.json.expiresAt);
  });

  test('admins: ADMIN_CLAIM (value or array member) and ADMIN_USERS; others are 403', async () => {
    const list = (token) => hsWorker.request('GET', '/api/v1/records', { token });
    for (const [label, token] of [
      ['role=admin', hs(good('ops-person', { role: 'admin' }))],
      ['role array with admin', hs(good('ops-person', { role: ['viewer', 'admin'] }))],
      ['ADMIN_USERS', hs(good('administrator'))],
    ]) {
      const res = await list(token);
      assert.equal(res.status, 200, `${label}: ${res.text}`);
    }
    for (const [label, token] of [
      ['role=user', hs(good('ops-person', { role: 'user' }))],
      ['role=administrator', hs(good('ops-person', { role: 'administrator' }))],
      ['no role', hs(good('ops-person'))],
    ]) {
      assertProblem(await list(token), 403, 'forbidden', label);
    }
  });
});

// ------------------------------------------------------------ jwt, JWKS

describe('AUTH_MODE=jwt with RS256 keys from JWT_JWKS_URL', () => {
  const good = (sub, extra = {}) => claims(sub, { iss: ISS, aud: AUD, ...extra });

  test('a valid RS256 token is accepted', async () => {
    await assertAccepted(rsWorker, signJwt(good('alice'), { alg: 'RS256', key: RSA }), 'alice');
    assert.ok(rsJwks.fetches() >= 1, 'the JWKS was fetched');
  });

  test('algorithm confusion: HS256 signed with the RSA public key is rejected', async () => {
    const asHs = signJwt(good('administrator'), { alg: 'HS256', key: RSA_PUBLIC_PEM, kid: RSA.kid });
    await assertRejected(rsWorker, asHs, 'token_wrong_algorithm', 'header alg HS256');
    const lying = signJwt(good('administrator'), {
      alg: 'HS256',
      key: RSA_PUBLIC_PEM,
      kid: RSA.kid,
      header: { alg: 'RS256' },
    });
    await assertRejected(rsWorker, lying, 'token_bad_signature', 'header alg RS256, HMAC signature');
  });

  test('an unknown kid is rejected, and refetches the JWKS at most once', async () => {
    await assertAccepted(rsWorker, signJwt(good('bob'), { alg: 'RS256', key: RSA }), 'bob');
    const before = rsJwks.fetches();
    for (let i = 0; i < 3; i++) {
      await assertRejected(rsWorker, signJwt(good('alice'), { alg: 'RS256', key: ROGUE_RSA }), 'token_unknown_key', `rogue ${i}`);
    }
    assert.ok(rsJwks.fetches() - before <= 1, `JWKS fetched ${rsJwks.fetches() - before} times for 3 unknown kids`);
  });

  test('claims are checked as in HS256 mode, and ES256 is not accepted here', async () => {
    await assertRejected(rsWorker, signJwt(good('alice', { exp: now() - 3600 }), { alg: 'RS256', key: RSA }), 'token_expired');
    await assertRejected(rsWorker, signJwt(good('alice', { aud: 'x' }), { alg: 'RS256', key: RSA }), 'token_wrong_audience');
    await assertRejected(rsWorker, signJwt(good('alice'), { alg: 'ES256', key: EC }), 'token_wrong_algorithm');
  });
});

describe('AUTH_MODE=jwt with ES256 keys from JWT_JWKS_URL', () => {
  const good = (sub, extra = {}) => claims(sub, { iss: ISS, aud: AUD, ...extra });

  test('a valid ES256 token is accepted', async () => {
    await assertAccepted(esWorker, signJwt(good('carol'), { alg: 'ES256', key: EC }), 'carol');
  });

  test('an ES256 token from another key under the trusted kid, and an RS256 token, are rejected', async () => {
    await assertRejected(esWorker, signJwt(good('carol'), { alg: 'ES256', key: ROGUE_EC }), 'token_bad_signature');
    await assertRejected(esWorker, signJwt(good('carol'), { alg: 'RS256', key: RSA }), 'token_wrong_algorithm');
  });
});

// ------------------------------------------------------------ sweep (last)

describe('sweep', () => {
  const workers = () => [
    ['usersig worker', sigWorker],
    ['HS256 worker', hsWorker],
    ['RS256 worker', rsWorker],
    ['ES256 worker', esWorker],
  ];
  const secrets = () =>
    collectSecrets({
      secretKey: DEMO_KEY,
      userSigs: minted,
      tokens: workers().flatMap(([, w]) => w.responses.map((r) => r.token).filter(Boolean)),
      emulatorUrl: emulator.url,
      extra: [JWT_SECRET, RSA_PUBLIC_PEM.split('\n')[1]],
    });

  test('no answer or log line carries a secret, a token, an upstream URL or a foreign UserSig; errors are problem+json', async () => {
    let checked = 0;
    for (const [label, w] of workers()) checked += await assertCleanWorker(w, secrets(), label);
    assert.ok(checked > 45, `only ${checked} answers recorded`);
  });

  test('every answer left exactly one audit line with its identity, action and status', async () => {
    for (const [label, w] of workers()) await assertAuditTrail(w, label);
  });
});

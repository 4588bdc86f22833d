// Issue 23: JWT_PROVIDER presets against tokens shaped exactly like each
// provider's (provider-tokens.mjs, from docs/identity-providers.md). Each
// provider's keys are served on loopback as that provider's JWKS document, and
// the preset is pointed at them with JWT_JWKS_URL, the only override: issuer,
// audience, algorithm and header are the preset's own. The probe is
// GET /api/v1/me (who the edge thinks the caller is); admin rights are
// checked through the policy with GET /api/v1/records.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import {
  assertAuditTrail,
  assertCleanWorker,
  assertProblem,
  collectSecrets,
  httpRequest,
  startEmulator,
  startJwksServer,
  startWorker,
} from './harness.mjs';
import { DEMO_KEY, generateSigningKey, signJwt, verifyUserSig } from './tokens.mjs';
import { auth0, clerk, cloudflareAccess, cognito, firebase, supabase } from './provider-tokens.mjs';

const P = {
  firebase: firebase(),
  supabase: supabase(),
  auth0: auth0(),
  clerk: clerk(),
  cognito: cognito(),
  cloudflareAccess: cloudflareAccess(),
};

/** Each worker: its provider, the settings beside JWT_PROVIDER and JWT_JWKS_URL, and the header it reads. */
const SETUPS = {
  firebase: { p: P.firebase, vars: { ADMIN_CLAIM: 'admin=true' } },
  supabase: { p: P.supabase, vars: {} },
  supabaseTuid: { p: P.supabase, vars: { JWT_USER_CLAIM: 'app_metadata.tuid', ADMIN_CLAIM: 'app_metadata.callkit_role=admin' } },
  auth0: { p: P.auth0, vars: { JWT_USER_CLAIM: '[https://example.com/tuid]', ADMIN_CLAIM: '[https://example.com/roles]=callkit-admin' } },
  clerk: { p: P.clerk, vars: { ADMIN_CLAIM: 'o.rol=admin' } },
  cognitoId: { p: P.cognito, vars: { JWT_USER_CLAIM: 'custom:tuid', ADMIN_CLAIM: 'cognito:groups=callkit-admins' } },
  cognitoAccess: { p: P.cognito, vars: { JWT_USER_CLAIM: 'username', ADMIN_CLAIM: 'cognito:groups=callkit-admins' } },
  cloudflareAccess: {
    p: P.cloudflareAccess,
    vars: { JWT_USER_CLAIM: 'email', ADMIN_USERS: 'ops@example.com' },
    header: 'cf-access-jwt-assertion',
  },
};

let emulator;
const jwksServers = {};
const workers = {};
const sent = [];

before(async () => {
  emulator = await startEmulator();
  for (const [name, p] of Object.entries(P)) jwksServers[name] = await startJwksServer(p.jwks);
  const serverOf = (p) => jwksServers[Object.keys(P).find((k) => P[k] === p)];
  const start = ([name, s]) =>
    startWorker({
      emulator,
      vars: { AUTH_MODE: 'jwt', ADMIN_USERS: null, JWT_PROVIDER: s.p.preset, JWT_JWKS_URL: serverOf(s.p).url, ...s.vars },
    }).then((w) => {
      workers[name] = w;
    });
  // Four at a time: the machine is small.
  const entries = Object.entries(SETUPS);
  for (let i = 0; i < entries.length; i += 4) await Promise.all(entries.slice(i, i + 4).map(start));
});

after(async () => {
  await Promise.all(Object.values(workers).map((w) => w.stop()));
  await Promise.all(Object.values(jwksServers).map((s) => s.stop()));
  await emulator?.stop();
});

/**
 * Sends `token` in the header `name`'s worker reads (or `header`), records the answer for the
 * sweep with `identity`, the UserID the edge should act as.
 */
async function ask(name, method, path, token, { header = SETUPS[name].header ?? 'authorization', identity, extra = {} } = {}) {
  const w = workers[name];
  const headers = { ...extra };
  if (token !== undefined) headers[header] = header === 'authorization' ? `Bearer ${token}` : token;
  const res = await httpRequest(`${w.url}${path}`, { method, headers });
  if (token !== undefined) sent.push(token);
  w.responses.push({ method, path, status: res.status, headers: res.headers, text: res.text, token, identity });
  return res;
}

const me = (name, token, options = {}) => ask(name, 'GET', '/api/v1/me', token, options);

async function assertMe(name, token, userId, { admin = false } = {}) {
  const res = await me(name, token, { identity: userId });
  assert.equal(res.status, 200, `${name}: ${res.text}`);
  assert.deepEqual(
    { ...res.json, expiresAt: typeof res.json.expiresAt },
    { userId, admin, provider: SETUPS[name].p.name, expiresAt: 'number' },
  );
  return res.json;
}

function assertRefused(res, code, label) {
  const p = assertProblem(res, 401, code, label);
  assert.match(p.detail, /sign in again/i, p.detail);
  return p;
}

/** Admin rights as the policy applies them: the admin-only record list. */
async function assertAdmin(name, token, userId, isAdmin) {
  const res = await ask(name, 'GET', '/api/v1/records', token, { identity: userId });
  if (isAdmin) assert.equal(res.status, 200, `${name} admin: ${res.text}`);
  else assertProblem(res, 403, 'forbidden', `${name} not admin`);
}

/** Checks every provider shares: accepted, wrong iss / aud / exp / key refused, the hostile cases. */
function commonChecks(name, { userId, sign, claims, audienceClaim = 'aud', key }) {
  const p = SETUPS[name].p;

  test(`${name}: a provider-shaped token is accepted as ${userId}`, async () => {
    const who = await assertMe(name, sign(claims()), userId);
    assert.ok(who.expiresAt > Date.now() / 1000, 'expiresAt is the token\'s exp');
    assert.ok(jwksServers[Object.keys(P).find((k) => P[k] === p)].fetches() >= 1, 'keys came from the local JWKS');
  });

  test(`${name}: the wrong issuer, audience, expiry or key is refused`, async () => {
    const cases = [
      ['issuer of another tenant', sign(claims({ iss: `${p.iss}-other` })), 'token_wrong_issuer'],
      ['expired', sign(claims({ exp: Math.floor(Date.now() / 1000) - 3600 })), 'token_expired'],
      ['another key under the same kid', sign(claims(), { with: generateSigningKey(key.alg, key.kid) }), 'token_bad_signature'],
    ];
    if (audienceClaim) cases.push(['audience of another app', sign(claims({ [audienceClaim]: 'another-app' })), 'token_wrong_audience']);
    for (const [label, token, code] of cases) assertRefused(await me(name, token), code, `${name}: ${label}`);
  });

  test(`${name}: alg none, alg confusion, a stripped signature and an unknown kid are refused`, async () => {
    const valid = sign(claims());
    const [head, body] = valid.split('.');
    const publicPem = createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' });
    const hmacWithPublicKey = (alg) =>
      signJwt(claims(), { alg: 'HS256', key: publicPem, kid: key.kid, header: alg ? { alg } : {} });
    const cases = [
      ['alg none', signJwt(claims(), { alg: 'none', kid: key.kid }), 'token_wrong_algorithm'],
      ['HS256 keyed with the public key', hmacWithPublicKey(), 'token_wrong_algorithm'],
      [`header says ${key.alg}, HMAC signature`, hmacWithPublicKey(key.alg), 'token_bad_signature'],
      ['signature stripped', `${head}.${body}.`, 'token_bad_signature'],
      ['unknown kid', sign(claims(), { kid: `${key.kid}x`, with: generateSigningKey(key.alg) }), 'token_unknown_key'],
    ];
    for (const [label, token, code] of cases) assertRefused(await me(name, token), code, `${name}: ${label}`);
  });
}

// ------------------------------------------------------------ Firebase

describe('JWT_PROVIDER=firebase:<project-id>', () => {
  const p = P.firebase;
  commonChecks('firebase', { userId: p.uid, sign: p.sign, claims: (x) => p.claims(x), key: p.key });

  test('firebase: the uid in sub is the UserID; a custom claim admin=true makes an admin', async () => {
    await assertAdmin('firebase', p.sign(p.claims()), p.uid, false);
    await assertMe('firebase', p.sign(p.claims({ admin: true })), p.uid, { admin: true });
    await assertAdmin('firebase', p.sign(p.claims({ admin: true })), p.uid, true);
    // A custom uid may be up to 128 characters: past 32 it is no UserID.
    const long = 'u'.repeat(40);
    assertRefused(await me('firebase', p.sign(p.claims({ sub: long, user_id: long }))), 'token_invalid_subject', 'long uid');
  });
});

// ------------------------------------------------------------ Supabase

describe('JWT_PROVIDER=supabase:<project-ref>', () => {
  const p = P.supabase;
  commonChecks('supabaseTuid', { userId: 'alice_sb', sign: p.sign, claims: (x) => p.claims(x), key: p.key });

  test('supabase: a UUID sub is refused under the default claim, naming the rule and the setting, never the value', async () => {
    const token = p.sign(p.claims());
    const problem = assertRefused(await me('supabase', token), 'token_invalid_subject', 'UUID sub');
    assert.match(problem.detail, /JWT_USER_CLAIM/);
    assert.match(problem.detail, /1-32 printable ASCII/);
    assert.ok(!problem.detail.includes(p.userId), 'the detail does not quote the claim');
    // The same token, with JWT_USER_CLAIM=app_metadata.tuid.
    await assertMe('supabaseTuid', token, 'alice_sb');
  });

  test('supabase: the claimed UserID is the identity of member checks and of the minted UserSig', async () => {
    const token = p.sign(p.claims());
    const mine = await emulator.control.createCall({ caller: 'alice_sb', callees: ['bob'], mediaType: 'Audio' });
    const call = await ask('supabaseTuid', 'GET', `/api/v1/calls/${mine.callId}`, token, { identity: 'alice_sb' });
    assert.equal(call.status, 200, call.text);
    // Not her call: the same 404 as a missing one.
    const theirs = await emulator.control.createCall({ caller: 'carol', callees: ['dave'], mediaType: 'Audio' });
    const hidden = await ask('supabaseTuid', 'GET', `/api/v1/calls/${theirs.callId}`, token, { identity: 'alice_sb' });
    assertProblem(hidden, 404, 'call_not_found');
    const minted = await ask('supabaseTuid', 'POST', '/api/v1/usersig', token, { identity: 'alice_sb' });
    assert.equal(minted.status, 200, minted.text);
    assert.equal(minted.json.userId, 'alice_sb');
    const check = verifyUserSig(minted.json.userSig, { identifier: 'alice_sb' });
    assert.ok(check.ok, `the minted sig does not verify: ${check.reason}`);
  });

  test('supabase: an admin by app_metadata (a nested object); role=authenticated is not one', async () => {
    const meta = (role) => ({ ...p.claims().app_metadata, callkit_role: role });
    await assertAdmin('supabaseTuid', p.sign(p.claims()), 'alice_sb', false);
    await assertAdmin('supabaseTuid', p.sign(p.claims({ app_metadata: meta('admin') })), 'alice_sb', true);
    await assertMe('supabaseTuid', p.sign(p.claims({ app_metadata: meta('user') })), 'alice_sb');
    // A claim without the UserID the setting names.
    const { tuid: _t, ...noTuid } = p.claims().app_metadata;
    assertRefused(await me('supabaseTuid', p.sign(p.claims({ app_metadata: noTuid }))), 'token_invalid_subject', 'no tuid');
  });
});

// ------------------------------------------------------------ Auth0

describe('JWT_PROVIDER=auth0:<tenant-domain>:<api-audience>', () => {
  const p = P.auth0;
  commonChecks('auth0', { userId: 'alice_a0', sign: p.sign, claims: (x) => p.claims(x), key: p.key });

  test('auth0: the namespaced claim [https://example.com/tuid] is the UserID, not sub; both access-token profiles pass', async () => {
    const token = p.sign(p.claims());
    await assertMe('auth0', token, 'alice_a0');
    // RFC 9068 profile: typ at+jwt, client_id, a string aud.
    const { azp: _azp, ...rest } = p.claims({ aud: p.aud });
    await assertMe('auth0', p.signRfc9068({ ...rest, client_id: 'my_client_id', jti: 'a1b2' }), 'alice_a0');
    const { 'https://example.com/tuid': _t, ...noTuid } = p.claims();
    assertRefused(await me('auth0', p.sign(noTuid)), 'token_invalid_subject', 'only sub');
  });

  test('auth0: an admin by the namespaced roles array', async () => {
    await assertAdmin('auth0', p.sign(p.claims()), 'alice_a0', false);
    const admin = p.sign(p.claims({ 'https://example.com/roles': ['viewer', 'callkit-admin'] }));
    await assertMe('auth0', admin, 'alice_a0', { admin: true });
    await assertAdmin('auth0', admin, 'alice_a0', true);
  });
});

// ------------------------------------------------------------ Clerk

describe('JWT_PROVIDER=clerk:<frontend-api-domain>', () => {
  const p = P.clerk;
  // Clerk session tokens carry no aud: the instance's issuer (and keys) pin the app.
  commonChecks('clerk', { userId: p.sub, sign: p.sign, claims: (x) => p.claims(x), key: p.key, audienceClaim: null });

  test('clerk: the user_… sub is the UserID; an admin by the active organization role (o.rol, a string in an object)', async () => {
    await assertAdmin('clerk', p.sign(p.claims()), p.sub, false);
    const admin = p.sign(p.claims({ o: { ...p.claims().o, rol: 'admin' } }));
    await assertMe('clerk', admin, p.sub, { admin: true });
    await assertAdmin('clerk', admin, p.sub, true);
    assertRefused(await me('clerk', p.sign(p.claims({ nbf: Math.floor(Date.now() / 1000) + 600 }))), 'token_not_yet_valid', 'nbf');
  });
});

// ------------------------------------------------------------ Cognito

describe('JWT_PROVIDER=cognito:<region>/<user-pool-id>:<app-client-id>', () => {
  const p = P.cognito;
  commonChecks('cognitoId', { userId: 'alice_cg', sign: p.signId, claims: (x) => p.idClaims(x), key: p.idKey });
  commonChecks('cognitoAccess', {
    userId: 'alice_cg', sign: p.signAccess, claims: (x) => p.accessClaims(x), key: p.accessKey, audienceClaim: 'client_id',
  });

  test('cognito: the ID token names the client in aud, the access token in client_id; each only by its own claim', async () => {
    await assertMe('cognitoId', p.signId(p.idClaims()), 'alice_cg');
    await assertMe('cognitoAccess', p.signAccess(p.accessClaims()), 'alice_cg');
    // An access token whose client is right but in `aud` only (no client_id) is not accepted.
    const { client_id: _c, ...noClientId } = p.accessClaims({ aud: p.client });
    assertRefused(await me('cognitoAccess', p.signAccess(noClientId)), 'token_wrong_audience', 'access token with aud only');
    // The UUID sub fits no UserID: custom:tuid is on the ID token only, username on the access token only.
    assertRefused(await me('cognitoId', p.signAccess(p.accessClaims())), 'token_invalid_subject', 'access token, custom:tuid');
    assertRefused(await me('cognitoAccess', p.signId(p.idClaims())), 'token_invalid_subject', 'ID token, username');
  });

  test('cognito: an admin by the cognito:groups array, in either token', async () => {
    const groups = { 'cognito:groups': ['users', 'callkit-admins'] };
    await assertAdmin('cognitoId', p.signId(p.idClaims()), 'alice_cg', false);
    await assertAdmin('cognitoId', p.signId(p.idClaims(groups)), 'alice_cg', true);
    await assertMe('cognitoAccess', p.signAccess(p.accessClaims(groups)), 'alice_cg', { admin: true });
  });
});

// ------------------------------------------------------------ Cloudflare Access

describe('JWT_PROVIDER=cloudflare-access:<team-domain>:<application-aud>', () => {
  const p = P.cloudflareAccess;
  commonChecks('cloudflareAccess', { userId: 'alice@example.com', sign: p.sign, claims: (x) => p.claims(x), key: p.key });

  test('cloudflare-access: the token counts in Cf-Access-Jwt-Assertion only; in Authorization it is refused', async () => {
    const token = p.sign(p.claims());
    await assertMe('cloudflareAccess', token, 'alice@example.com');
    assertRefused(await me('cloudflareAccess', token, { header: 'authorization' }), 'token_missing', 'in Authorization');
    // Both headers: the configured one decides, the other is ignored either way.
    const both = await me('cloudflareAccess', token, { identity: 'alice@example.com', extra: { authorization: 'Bearer not-a-token' } });
    assert.equal(both.status, 200, both.text);
    const wrong = await me('cloudflareAccess', 'not-a-token', { extra: { authorization: `Bearer ${token}` } });
    assertRefused(wrong, 'token_malformed', 'good token in Authorization, garbage in the Access header');
    // A worker that reads Authorization ignores the Access header.
    assertRefused(await me('clerk', P.clerk.sign(P.clerk.claims()), { header: 'cf-access-jwt-assertion' }), 'token_missing', 'clerk');
  });

  test('cloudflare-access: the UUID sub is no UserID; admins are listed by email in ADMIN_USERS', async () => {
    await assertAdmin('cloudflareAccess', p.sign(p.claims()), 'alice@example.com', false);
    const ops = p.sign(p.claims({ email: 'ops@example.com' }));
    await assertMe('cloudflareAccess', ops, 'ops@example.com', { admin: true });
    await assertAdmin('cloudflareAccess', ops, 'ops@example.com', true);
    // A service token has an empty sub and no email.
    const { email: _e, ...service } = p.claims({ sub: '', common_name: 'svc.access' });
    assertRefused(await me('cloudflareAccess', p.sign(service)), 'token_invalid_subject', 'service token');
  });
});

// ------------------------------------------------------------ sweep (last)

describe('sweep', () => {
  const secrets = () =>
    collectSecrets({
      secretKey: DEMO_KEY,
      tokens: sent,
      emulatorUrl: emulator.url,
      extra: Object.values(P).flatMap((p) => [p.key, p.idKey, p.accessKey].filter(Boolean).map((k) =>
        k.privateKey.export({ type: 'pkcs8', format: 'pem' }).split('\n')[1])),
    });

  test('no answer or log line carries a token, a key or an upstream URL; errors are problem+json', async () => {
    let checked = 0;
    for (const [name, w] of Object.entries(workers)) checked += await assertCleanWorker(w, secrets(), name);
    assert.ok(checked > 100, `only ${checked} answers recorded`);
  });

  test('every answer left exactly one audit line, with the UserID from the configured claim', async () => {
    for (const [name, w] of Object.entries(workers)) await assertAuditTrail(w, name);
  });
});

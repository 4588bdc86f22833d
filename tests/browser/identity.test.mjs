// Issue 23 in the browser-facing pieces: the client's getToken() callback and me(), run in
// Node against the built worker; and the console in Debian's Chromium showing who the edge
// says is signed in: from GET /api/v1/me for a pasted JWT whose UserID is not its `sub`
// (JWT_USER_CLAIM), and with no token at all behind Cloudflare Access (the page's requests
// carry Cf-Access-Jwt-Assertion, as Access adds it). Answers and logs are swept at the end.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchChromium, recordApiAnswers } from './chromium.mjs';
import { CallKitEdgeClient, CallKitEdgeError } from '../../www/callkit-edge-client.js';
import {
  assertAuditTrail,
  assertCleanWorker,
  collectSecrets,
  startEmulator,
  startJwksServer,
  startWorker,
} from '../integration/harness.mjs';
import { DEMO_KEY, claims, signJwt } from '../integration/tokens.mjs';
import { cloudflareAccess } from '../integration/provider-tokens.mjs';

const UI_TIMEOUT = 15_000;
const JWT_SECRET = `browser-hs256-${randomUUID()}`;
const ACCESS = cloudflareAccess();

let emulator;
let jwtWorker;
let accessWorker;
let accessJwks;
let browser;
const sent = [];

before(async () => {
  emulator = await startEmulator();
  accessJwks = await startJwksServer(ACCESS.jwks);
  [jwtWorker, accessWorker] = await Promise.all([
    startWorker({ emulator, vars: { AUTH_MODE: 'jwt', JWT_SECRET, JWT_USER_CLAIM: 'tuid', ADMIN_USERS: 'ops_tuid' } }),
    startWorker({
      emulator,
      vars: { AUTH_MODE: 'jwt', JWT_PROVIDER: ACCESS.preset, JWT_JWKS_URL: accessJwks.url, JWT_USER_CLAIM: 'email', ADMIN_USERS: null },
    }),
  ]);
});

after(async () => {
  await browser?.close().catch(() => {});
  await Promise.all([jwtWorker?.stop(), accessWorker?.stop()]);
  await accessJwks?.stop();
  await emulator?.stop();
});

const now = () => Math.floor(Date.now() / 1000);
/** A JWT whose `sub` is a UUID and whose UserID is in `tuid`. */
const jwt = (tuid, extra = {}) => {
  const token = signJwt(claims(randomUUID(), { tuid, ...extra }), { alg: 'HS256', key: JWT_SECRET });
  sent.push(token);
  return token;
};

/** fetch for the client that records each answer with the UserID the edge should log. */
const recording = (worker, identity) => async (input, init = {}) => {
  const url = new URL(input);
  const res = await fetch(input, init);
  const auth = new Headers(init.headers).get('authorization');
  worker.responses.push({
    method: init.method ?? 'GET',
    path: `${url.pathname}${url.search}`,
    status: res.status,
    headers: Object.fromEntries(res.headers),
    text: await res.clone().text(),
    token: auth?.slice(7),
    identity,
  });
  return res;
};

describe('client: getToken() and me()', () => {
  test('getToken is called before every request, without forceRefresh', async () => {
    const asked = [];
    const client = new CallKitEdgeClient({
      baseUrl: jwtWorker.url,
      fetch: recording(jwtWorker, 'alice_tuid'),
      getToken: (options) => {
        asked.push(options);
        return jwt('alice_tuid');
      },
    });
    const who = await client.me();
    assert.deepEqual({ ...who, expiresAt: typeof who.expiresAt }, { userId: 'alice_tuid', admin: false, provider: 'jwt', expiresAt: 'number' });
    assert.equal((await client.mintUserSig()).userId, 'alice_tuid');
    assert.deepEqual(asked, [{ forceRefresh: false }, { forceRefresh: false }]);
  });

  test('after 401 token_expired, getToken({ forceRefresh: true }) once, and the request is sent again', async () => {
    const asked = [];
    const client = new CallKitEdgeClient({
      baseUrl: jwtWorker.url,
      fetch: recording(jwtWorker, 'ops_tuid'),
      getToken: async ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return forceRefresh ? jwt('ops_tuid') : jwt('ops_tuid', { exp: now() - 3600 });
      },
    });
    const who = await client.me();
    assert.equal(who.userId, 'ops_tuid');
    assert.equal(who.admin, true);
    assert.deepEqual(asked, [false, true]);

    // A provider that keeps handing out an expired token: one retry, then the error.
    let calls = 0;
    const stale = new CallKitEdgeClient({
      baseUrl: jwtWorker.url,
      fetch: recording(jwtWorker),
      getToken: () => { calls += 1; return jwt('ops_tuid', { exp: now() - 3600 }); },
    });
    const error = await stale.me().then(() => assert.fail('expected token_expired'), (e) => e);
    assert.ok(error instanceof CallKitEdgeError);
    assert.equal(error.code, 'token_expired');
    assert.equal(calls, 2);
    // Other refusals are not retried.
    calls = 0;
    const foreign = new CallKitEdgeClient({
      baseUrl: jwtWorker.url,
      fetch: recording(jwtWorker),
      getToken: () => { calls += 1; return signJwt(claims('x', { tuid: 'x' }), { alg: 'HS256', key: `${JWT_SECRET}-other` }); },
    });
    assert.equal((await foreign.me().catch((e) => e)).code, 'token_bad_signature');
    assert.equal(calls, 1);
  });

  test('token and getToken together, or a getToken that is no function, are refused', () => {
    assert.throws(() => new CallKitEdgeClient({ token: 't', getToken: () => 't' }), TypeError);
    assert.throws(() => new CallKitEdgeClient({ getToken: 'a-token' }), TypeError);
  });
});

// ------------------------------------------------------------ console

async function openConsole(worker, { accessToken } = {}) {
  browser ??= await launchChromium();
  const context = await browser.newContext();
  // Cloudflare Access adds this header to every request it lets through.
  if (accessToken) await context.setExtraHTTPHeaders({ 'Cf-Access-Jwt-Assertion': accessToken });
  // No demo tokens here (`make dev` writes them); answered in the page so the worker's
  // audit trail holds only the requests this test records.
  await context.route('**/dev-tokens.json', (route) => route.fulfill({ status: 404, body: '' }));
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const settled = recordApiAnswers(page, worker.responses, { extra: () => ({ identity: page.identity }) });
  page.done = async () => {
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
    // Reads that start meanwhile included (the live panel's ticket).
    await settled({ pauseMs: 500 });
    await context.close();
  };
  await page.goto(`${worker.url}/`);
  return page;
}

describe('console: who is signed in', () => {
  test('a pasted JWT shows the UserID the edge takes from JWT_USER_CLAIM, not its sub', async () => {
    const page = await openConsole(jwtWorker);
    page.identity = 'alice_tuid';
    await page.locator('#session-status').filter({ hasText: 'Not signed in' }).waitFor();
    await page.getByLabel('Token', { exact: true }).fill(jwt('alice_tuid'));
    await page.locator('#sign-in-form').getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#session-status').filter({ hasText: 'Signed in as alice_tuid · jwt' }).waitFor();
    assert.equal(await page.locator('#sign-in').isVisible(), false);
    await page.done();
  });

  test('behind Cloudflare Access the console is signed in with no pasted token', async () => {
    const token = ACCESS.sign(ACCESS.claims());
    sent.push(token);
    const page = await openConsole(accessWorker, { accessToken: token });
    page.identity = 'alice@example.com';
    await page.locator('#session-status').filter({ hasText: 'Signed in as alice@example.com · cloudflare-access' }).waitFor();
    assert.equal(await page.locator('#sign-in').isVisible(), false, 'no token form');
    assert.equal(await page.locator('#sign-out').isVisible(), false, 'Access signs out, not the console');
    assert.equal(await page.locator('#usersig').isVisible(), true, 'the signed-in panels are shown');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('callkit-edge.token')), null, 'no token stored');
    await page.done();
  });

  test('without Access the same console asks for a token', async () => {
    const page = await openConsole(accessWorker);
    await page.locator('#session-status').filter({ hasText: 'Not signed in' }).waitFor();
    assert.equal(await page.locator('#sign-in').isVisible(), true);
    await page.done();
  });
});

describe('sweep', () => {
  test('no answer or log line carries a token, the JWT secret or an upstream URL; one audit line per answer', async () => {
    const secrets = collectSecrets({ secretKey: DEMO_KEY, tokens: sent, emulatorUrl: emulator.url, extra: [JWT_SECRET] });
    for (const [label, w] of [['jwt worker', jwtWorker], ['access worker', accessWorker]]) {
      await assertCleanWorker(w, secrets, label);
      // The live panel's socket is answered with 101 and logged; the page cannot record it.
      await assertAuditTrail(w, label, 5_000, { external: ['live_socket'] });
    }
  });
});

// Shared by the browser suites' live-board tests (not a test file itself): the webhook secret
// both sides are given, the callback configuration that points the emulator at the worker's
// receiver, what their sweeps forbid, and a poll helper.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { collectSecrets, deliverSigned as signedDelivery, mintedUserSigs, sentTokens, sleep } from '../integration/harness.mjs';
import { DEMO_KEY } from '../integration/tokens.mjs';

/** The webhook secret of a run: the worker's TENCENT_CALLBACK_TOKEN, the emulator's --webhook-token. */
export const WEBHOOK_TOKEN = randomBytes(24).toString('hex');

/** `startEmulator` options: webhooks signed with `WEBHOOK_TOKEN`. */
export const EMULATOR_OPTIONS = Object.freeze({ extraArgs: ['--webhook-token', WEBHOOK_TOKEN] });

/** `startWorker` vars: the receiver trusts webhooks signed with `WEBHOOK_TOKEN`. */
export const WORKER_VARS = Object.freeze({ TENCENT_CALLBACK_TOKEN: WEBHOOK_TOKEN });

/** What a sweep of a worker on the live stack forbids: the usual secrets and the webhook secret. */
export const liveStackSecrets = (worker, emulator) =>
  collectSecrets({
    secretKey: DEMO_KEY,
    tokens: sentTokens(worker),
    userSigs: mintedUserSigs(worker),
    emulatorUrl: emulator.url,
    extra: [WEBHOOK_TOKEN],
  });

export const CALLBACK_COMMANDS = Object.freeze([
  'Call.CallbackAfterStartCall',
  'Call.CallbackAfterMemberChanged',
  'Call.CallbackAfterEndCall',
]);

/**
 * Points the emulator's callback (v4 set_callback, through the edge's `PUT /api/v1/callback`
 * as `adminToken`) at the worker's webhook receiver, for all three commands.
 */
export async function configureBoard(worker, adminToken) {
  const url = `${worker.url}/api/v1/webhooks/tencent`;
  const res = await worker.request('PUT', '/api/v1/callback', {
    token: adminToken,
    body: { url, commands: [...CALLBACK_COMMANDS] },
  });
  assert.equal(res.status, 200, `PUT /api/v1/callback: ${res.status} ${res.text}`);
  assert.equal(res.json.url, url);
  return url;
}

/** POSTs one webhook to the worker, signed like the emulator signs them (Sign, RequestTime). */
export const deliverSigned = (worker, body) => signedDelivery(worker, WEBHOOK_TOKEN, body);

/** Polls `read()` until `check(value)` holds; resolves to that value. */
export async function eventually(read, check, { ms = 15_000, every = 150, label = 'condition' } = {}) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await read();
    if (await check(last)) return last;
    if (Date.now() > end) assert.fail(`timed out waiting for ${label}; last: ${JSON.stringify(last)?.slice(0, 600)}`);
    await sleep(every);
  }
}

/** The board's member statuses of `call` as `{ userId: status }`. */
export const statuses = (call) => Object.fromEntries((call?.members ?? []).map((m) => [m.userId, m.status]));

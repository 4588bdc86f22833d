// The rate limit guards Tencent's quota and the edge's cost, so a deployment
// without its RATE_LIMITER binding must refuse signed-in routes rather than
// serve them unlimited. wrangler dev always adds the binding from
// wrangler.toml, so this runs the built worker in bare workerd without it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAuditTrail, assertCleanWorker, assertProblem, collectSecrets, sentTokens, startEmulator } from './harness.mjs';
import { startBareWorker } from './bare-workerd.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';

let emulator;
let withLimit;
let withoutLimit;

before(async () => {
  emulator = await startEmulator();
  [withLimit, withoutLimit] = await Promise.all([
    startBareWorker({ emulator, rateLimit: { limit: 2, period: 60 } }),
    startBareWorker({ emulator, rateLimit: null }),
  ]);
});

after(async () => {
  await withLimit?.stop();
  await withoutLimit?.stop();
  await emulator?.stop();
});

const lookUp = (worker, who) => worker.request('GET', '/api/v1/records/no-such-call', { token: mintUserSig(who) });

test('without the binding, signed-in routes answer 503 misconfigured naming it; health still answers', async () => {
  const res = await lookUp(withoutLimit, 'alice');
  const problem = assertProblem(res, 503, 'misconfigured');
  assert.match(problem.detail, /RATE_LIMITER/);
  assert.equal((await withoutLimit.request('GET', '/api/v1/health')).status, 200);
});

test('with it, the third request of one identity in the period is 429; another identity is served', async () => {
  assert.equal((await lookUp(withLimit, 'bob')).status, 404);
  assert.equal((await lookUp(withLimit, 'bob')).status, 404);
  const limited = await lookUp(withLimit, 'bob');
  assertProblem(limited, 429, 'rate_limited');
  assert.equal(limited.headers['retry-after'], '60');
  assert.equal((await lookUp(withLimit, 'carol')).status, 404);
});

test('both workers: an audit line per answer, and no secret in any answer or log line', async () => {
  for (const [label, worker] of [['with the binding', withLimit], ['without it', withoutLimit]]) {
    const secrets = collectSecrets({ secretKey: DEMO_KEY, tokens: sentTokens(worker), emulatorUrl: emulator.url });
    await assertAuditTrail(worker, label);
    assert.ok((await assertCleanWorker(worker, secrets, label)) > 0);
  }
});

// A JWKS document is read with a 64 KiB cap: a declared length past it is
// refused unread, and a chunked one is cancelled at the first chunk past it.
// Either way the keys are unavailable (503), never half-read. The built
// worker runs in bare workerd, one per JWKS server.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { assertAuditTrail, assertCleanWorker, assertProblem, collectSecrets, sentTokens, startEmulator } from './harness.mjs';
import { startBareWorker } from './bare-workerd.mjs';
import { DEMO_KEY, claims, generateSigningKey, jwks, signJwt } from './tokens.mjs';

const ISS = 'https://idp.test';
const AUD = 'callkit-edge';
const RSA = generateSigningKey('RS256', 'rsa-1');
// Valid JSON either way: the padding sits in a member the parser ignores.
const PADDED = JSON.stringify({ ...jwks(RSA), padding: 'x'.repeat(80 * 1024) });

/** Serves `/jwks.json`: the normal set, or the padded one with or without a length. */
async function jwksServer(mode) {
  const server = createServer((req, res) => {
    if (mode === 'normal') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks(RSA)));
    if (mode === 'declared') return res.writeHead(200, { 'content-length': Buffer.byteLength(PADDED) }).end(PADDED);
    res.writeHead(200, { 'content-type': 'application/json' }); // no length: chunked
    for (let i = 0; i < PADDED.length; i += 8192) res.write(PADDED.slice(i, i + 8192));
    return res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/jwks.json`, stop: () => new Promise((r) => server.close(r)) };
}

let emulator;
const servers = {};
const workers = {};

before(async () => {
  emulator = await startEmulator();
  for (const mode of ['normal', 'declared', 'chunked']) servers[mode] = await jwksServer(mode);
  const vars = (mode) => ({ AUTH_MODE: 'jwt', JWT_ALG: 'RS256', JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_JWKS_URL: servers[mode].url });
  for (const mode of Object.keys(servers)) workers[mode] = await startBareWorker({ emulator, vars: vars(mode) });
});

after(async () => {
  for (const w of Object.values(workers)) await w.stop();
  for (const s of Object.values(servers)) await s.stop();
  await emulator?.stop();
});

const token = signJwt(claims('alice', { iss: ISS, aud: AUD }), { alg: 'RS256', key: RSA });
const lookUp = (mode) => workers[mode].request('GET', '/api/v1/records/no-such-call', { token });

test('a JWKS within the cap verifies the token (the record is simply not found)', async () => {
  assert.equal((await lookUp('normal')).status, 404);
});

for (const mode of ['declared', 'chunked']) {
  test(`an 80 KiB JWKS (${mode === 'declared' ? 'with a Content-Length' : 'chunked'}) → 503 auth_keys_unavailable`, async () => {
    assertProblem(await lookUp(mode), 503, 'auth_keys_unavailable');
  });
}

test('every worker: an audit line per answer, and no secret in any answer or log line', async () => {
  for (const [mode, worker] of Object.entries(workers)) {
    const secrets = collectSecrets({ secretKey: DEMO_KEY, tokens: sentTokens(worker), emulatorUrl: emulator.url });
    await assertAuditTrail(worker, `${mode} JWKS worker`);
    assert.ok((await assertCleanWorker(worker, secrets, `${mode} JWKS worker`)) > 0);
  }
});

// Tests of test helpers, not of the product: the JS token helpers against
// the published vectors (docs/tencent-callkit-v4.md §7.4) and against the Rust
// implementation in the emulator binary, so the other suites can trust them
// as an independent cross-check. Every title starts with "helper:".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createPublicKey, createVerify, createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { EMULATOR_BIN } from './harness.mjs';
import {
  DEMO_KEY,
  claims,
  decodeUserSig,
  generateSigningKey,
  jwks,
  mintUserSig,
  signJwt,
  userSigHmac,
  verifyUserSig,
} from './tokens.mjs';

const run = promisify(execFile);

test('helper: HMAC matches the published TLSSigAPIv2 vectors', () => {
  const base = { identifier: '0', sdkappid: 1400000000, time: 1569910200, expire: 15552000, key: DEMO_KEY };
  assert.equal(userSigHmac(base), 'CpjuBdQs9ZwnuGAJR8onoOeI9fweX2vIMMY94iOJWJY=');
  assert.equal(userSigHmac({ ...base, userbuf: 'YWJj' }), 'bC3u5cuslSg8Ds7KY58mhSkTrxunrFu50dkdkCYH4i8=');
  assert.equal(
    userSigHmac({ identifier: 'administrator', sdkappid: 1400000000, time: 1700000000, expire: 86400, key: DEMO_KEY }),
    'yLAe+w7WUeUuqbV9h/TX78u21oTGi+i9Zp1u3PpnY60=',
  );
});

test('helper: mint reproduces the official Node library byte for byte', () => {
  assert.equal(
    mintUserSig('xiaojun', { time: 1700000000, expire: 15552000 }),
    'eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__',
  );
});

test('helper: verify accepts the published Python-layout sig at its time and rejects tampering', () => {
  const python =
    'eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpYJkTE1NjRDiJZm5YFFzNPXFmekgG3zKHM1T9D3LzdODi-OKs8vCqpxcAvydnV2SSv2cy03cPcpDnA2SMgu0nUxslWoBHdYzUg__';
  assert.ok(verifyUserSig(python, { identifier: 'xiaojun', now: 1700000000 }).ok);
  assert.equal(verifyUserSig(python, { identifier: 'xiaojun', now: 1700000000 + 15552001 }).reason, 'expired');
  assert.equal(verifyUserSig(python, { identifier: 'bob', now: 1700000000 }).reason, 'identifier');
  assert.equal(verifyUserSig(python, { sdkappid: 1400000001, now: 1700000000 }).reason, 'sdkappid');
  assert.equal(verifyUserSig(python, { key: 'another key', now: 1700000000 }).reason, 'sig');
  assert.equal(verifyUserSig('not*a*sig', {}).reason, 'undecodable');
  const withBuf = mintUserSig('u1', { userbuf: Buffer.from('abc') });
  assert.equal(decodeUserSig(withBuf)['TLS.userbuf'], 'YWJj');
  assert.ok(verifyUserSig(withBuf, { identifier: 'u1' }).ok);
});

test('helper: the emulator (Rust) and JS agree on UserSigs in both directions', async () => {
  // Like every other integration file, fail (not skip) without the emulator.
  assert.ok(existsSync(EMULATOR_BIN), `${EMULATOR_BIN} is missing: run \`make emulator\` first`);
  const time = Math.floor(Date.now() / 1000);
  const { stdout } = await run(EMULATOR_BIN, ['mint', '--identifier', 'alice', '--expire', '3600', '--time', String(time)], {
    timeout: 10_000,
  });
  const rustSig = stdout.trim();
  const check = verifyUserSig(rustSig, { identifier: 'alice' });
  assert.ok(check.ok, `JS rejects the Rust sig: ${check.reason}`);
  assert.equal(check.doc['TLS.time'], time);
  assert.equal(check.doc['TLS.expire'], 3600);
  // Same inputs, same signature (strings may differ in layout; the HMAC may not).
  assert.equal(decodeUserSig(mintUserSig('alice', { time, expire: 3600 }))['TLS.sig'], check.doc['TLS.sig']);
});

test('helper: JWT helpers: HS256, RS256 and ES256 verify with node:crypto and JWKS export is public only', () => {
  const payload = claims('alice', { iss: 'test', aud: 'edge' });
  assert.ok(payload.exp > payload.iat);

  const hs = signJwt(payload, { alg: 'HS256', key: 'x'.repeat(32) });
  const [h, p, s] = hs.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'HS256', typ: 'JWT' });
  assert.deepEqual(JSON.parse(Buffer.from(p, 'base64url')), payload);
  assert.equal(s, createHmac('sha256', 'x'.repeat(32)).update(`${h}.${p}`).digest('base64url'));

  for (const alg of ['RS256', 'ES256']) {
    const key = generateSigningKey(alg, `kid-${alg}`);
    const jwt = signJwt(payload, { alg, key });
    const [head, body, sig] = jwt.split('.');
    assert.equal(JSON.parse(Buffer.from(head, 'base64url')).kid, `kid-${alg}`);
    const set = jwks(key);
    assert.equal(set.keys[0].kid, `kid-${alg}`);
    assert.equal(set.keys[0].d, undefined, 'no private part in the JWKS');
    const pub = createPublicKey({ key: set.keys[0], format: 'jwk' });
    const verifier = createVerify('sha256').update(`${head}.${body}`);
    const ok =
      alg === 'ES256'
        ? verifier.verify({ key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'))
        : verifier.verify(pub, Buffer.from(sig, 'base64url'));
    assert.ok(ok, `${alg} signature verifies`);
    if (alg === 'ES256') assert.equal(Buffer.from(sig, 'base64url').length, 64, 'raw r||s');
  }

  const lying = signJwt(payload, { alg: 'HS256', key: 'k'.repeat(32), header: { alg: 'RS256' } });
  assert.equal(JSON.parse(Buffer.from(lying.split('.')[0], 'base64url')).alg, 'RS256');
});

// Tokens for the integration tests, made with node:crypto only.
//
// - TUICallKit UserSigs (TLSSigAPIv2, docs/tencent-callkit-v4.md §7): an independent
//   JavaScript implementation, so the tests cross-check the Rust one instead
//   of trusting it.
// - JWTs signed with HS256, RS256 or ES256, plus key generation and JWK export
//   for a JWKS, for the edge suites in `jwt` auth mode.

import { createHmac, generateKeyPairSync, createPrivateKey, sign as cryptoSign, randomUUID } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

/** The public sample app of Tencent's UserSig examples (docs/tencent-callkit-v4.md §7.4), also the emulator's demo app. */
export const DEMO_SDKAPPID = 1400000000;
export const DEMO_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';

const nowSecs = () => Math.floor(Date.now() / 1000);

// Tencent's base64 variant: the standard alphabet with `+/=` replaced by `*-_`,
// so the string needs no escaping in a query string.
export function tencentBase64Encode(buf) {
  return Buffer.from(buf).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

export function tencentBase64Decode(text) {
  return Buffer.from(text.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '='), 'base64');
}

/**
 * The HMAC-SHA256 `TLS.sig` over the docs/tencent-callkit-v4.md §7.2 content (key used as UTF-8 text,
 * not hex-decoded). `userbuf` is the already-base64 string, or undefined.
 */
export function userSigHmac({ identifier, sdkappid, time, expire, userbuf, key }) {
  let content = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkappid}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  if (userbuf !== undefined) content += `TLS.userbuf:${userbuf}\n`;
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(content, 'utf8').digest('base64');
}

/**
 * Mints a TUICallKit UserSig the way the official Node library does (compact
 * JSON, `time` before `expire`, zlib level 6).
 *
 * @param {string} identifier the UserID
 * @param {{ time?: number, expire?: number, key?: string, sdkappid?: number, userbuf?: Buffer }} [options]
 *   `time` in unix seconds (default now), `expire` in seconds relative to it
 *   (default 86400), `key`/`sdkappid` default to the demo app.
 */
export function mintUserSig(identifier, options = {}) {
  const { time = nowSecs(), expire = 86400, key = DEMO_KEY, sdkappid = DEMO_SDKAPPID, userbuf } = options;
  const userbufB64 = userbuf === undefined ? undefined : Buffer.from(userbuf).toString('base64');
  const doc = {
    'TLS.ver': '2.0',
    'TLS.identifier': identifier,
    'TLS.sdkappid': sdkappid,
    'TLS.time': time,
    'TLS.expire': expire,
  };
  if (userbufB64 !== undefined) doc['TLS.userbuf'] = userbufB64;
  doc['TLS.sig'] = userSigHmac({ identifier, sdkappid, time, expire, userbuf: userbufB64, key });
  return tencentBase64Encode(deflateSync(Buffer.from(JSON.stringify(doc), 'utf8')));
}

/** Decodes a UserSig into its JSON document (throws on undecodable input). */
export function decodeUserSig(sig) {
  return JSON.parse(inflateSync(tencentBase64Decode(sig)).toString('utf8'));
}

/**
 * Verifies a UserSig as docs/tencent-callkit-v4.md §7.3 describes: decode, then recompute the HMAC.
 * Returns `{ ok, reason, doc }`; `reason` is one of `undecodable`,
 * `sdkappid`, `identifier`, `expired`, `sig`.
 */
export function verifyUserSig(sig, { key = DEMO_KEY, sdkappid = DEMO_SDKAPPID, identifier, now = nowSecs() } = {}) {
  let doc;
  try {
    doc = decodeUserSig(sig);
  } catch {
    return { ok: false, reason: 'undecodable' };
  }
  if (doc['TLS.sdkappid'] !== sdkappid) return { ok: false, reason: 'sdkappid', doc };
  if (identifier !== undefined && doc['TLS.identifier'] !== identifier) return { ok: false, reason: 'identifier', doc };
  if (now > doc['TLS.time'] + doc['TLS.expire']) return { ok: false, reason: 'expired', doc };
  const expected = userSigHmac({
    identifier: doc['TLS.identifier'],
    sdkappid: doc['TLS.sdkappid'],
    time: doc['TLS.time'],
    expire: doc['TLS.expire'],
    userbuf: doc['TLS.userbuf'],
    key,
  });
  if (expected !== doc['TLS.sig']) return { ok: false, reason: 'sig', doc };
  return { ok: true, doc };
}

// ---------------------------------------------------------------- JWT

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const jsonB64url = (value) => b64url(Buffer.from(JSON.stringify(value), 'utf8'));

/**
 * Generates a signing key for `RS256` (RSA 2048) or `ES256` (P-256).
 * Returns `{ alg, kid, privateKey, jwk }` where `jwk` is the public key as a
 * JWK carrying `kid`, `alg` and `use: "sig"`, ready for a JWKS.
 */
export function generateSigningKey(alg, kid = randomUUID()) {
  let pair;
  if (alg === 'RS256') pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  else if (alg === 'ES256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else throw new Error(`generateSigningKey: unsupported alg ${alg}`);
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { alg, kid, privateKey: pair.privateKey, jwk };
}

/** A JWKS document (`{ keys: [...] }`) from keys made by `generateSigningKey` or raw JWKs. */
export function jwks(...keys) {
  return { keys: keys.map((k) => (k.jwk ? k.jwk : k)) };
}

/**
 * Signs a JWT.
 *
 * @param {object} payload the claims (add `exp` yourself, or use `claims()`)
 * @param {{ alg: 'HS256'|'RS256'|'ES256'|'none', key?: string|Buffer|import('node:crypto').KeyObject|object,
 *           kid?: string, header?: object }} options
 *   `key`: the HS256 secret, or a private key (KeyObject, PEM, or the object
 *   from `generateSigningKey`). `header` fields override the generated
 *   header, e.g. to lie about `alg` in algorithm-confusion tests.
 */
export function signJwt(payload, { alg, key, kid, header = {} }) {
  const signingKey = key && key.privateKey ? key.privateKey : key;
  const keyId = kid ?? (key && key.kid);
  const head = { alg, typ: 'JWT', ...(keyId ? { kid: keyId } : {}), ...header };
  const input = `${jsonB64url(head)}.${jsonB64url(payload)}`;
  let signature;
  switch (alg) {
    case 'HS256':
      signature = createHmac('sha256', signingKey).update(input).digest();
      break;
    case 'RS256':
      signature = cryptoSign('sha256', Buffer.from(input), asPrivateKey(signingKey));
      break;
    case 'ES256':
      // JWS wants the raw r||s form, not DER.
      signature = cryptoSign('sha256', Buffer.from(input), { key: asPrivateKey(signingKey), dsaEncoding: 'ieee-p1363' });
      break;
    case 'none':
      signature = Buffer.alloc(0);
      break;
    default:
      throw new Error(`signJwt: unsupported alg ${alg}`);
  }
  return `${input}.${b64url(signature)}`;
}

function asPrivateKey(key) {
  return typeof key === 'string' || Buffer.isBuffer(key) ? createPrivateKey(key) : key;
}

/**
 * Standard claims for `sub`, valid for `ttl` seconds from now, merged with
 * `extra` (which may override `iat`, `exp`, `nbf`, `iss`, `aud`, ...).
 */
export function claims(sub, { ttl = 3600, ...extra } = {}) {
  const iat = nowSecs();
  return { sub, iat, exp: iat + ttl, ...extra };
}

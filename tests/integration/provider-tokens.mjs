// Tokens and key sets shaped like six identity providers' own, for the
// JWT_PROVIDER presets (docs/identity-providers.md cites every shape used here).
// Each provider gives: its `JWT_PROVIDER` value, its signing keys as the JWKS
// document it serves (with `use`, `alg`, `key_ops`, `x5c`, `public_cert` as
// that provider sends them), and a `token(overrides)` builder whose header
// (`alg`, `kid`, `typ`) and claims follow the provider's documented examples.

import { createHash, createPublicKey, randomBytes, randomUUID, sign as cryptoSign } from 'node:crypto';
import { generateSigningKey, signJwt } from './tokens.mjs';

const now = () => Math.floor(Date.now() / 1000);
const hex = (bytes) => randomBytes(bytes).toString('hex');
const alnum = (n) => {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(n), (b) => abc[b % abc.length]).join('');
};

// DER (X.690) just far enough for a self-signed certificate, so no tool beyond Node is needed.
function derLength(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  for (; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const der = (tag, ...parts) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
const seq = (...parts) => der(0x30, ...parts);
const oid = (hex) => der(0x06, Buffer.from(hex, 'hex'));
const SHA256_WITH_RSA = seq(oid('2a864886f70d01010b'), Buffer.from([0x05, 0x00]));
const commonName = (cn) => seq(der(0x31, seq(oid('550403'), der(0x0c, Buffer.from(cn)))));
const utcTime = (date) => der(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));

/** A self-signed X.509 v3 certificate (DER) for `key`, as Auth0's `x5c` and Access's `public_cert` carry. */
function certificateDer(key, cn) {
  const spki = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' });
  const from = new Date();
  const until = new Date(from.getTime() + 3650 * 86_400_000);
  const serial = der(0x02, Buffer.concat([Buffer.from([0x01]), randomBytes(8)]));
  const version = der(0xa0, der(0x02, Buffer.from([0x02])));
  const tbs = seq(version, serial, SHA256_WITH_RSA, commonName(cn), seq(utcTime(from), utcTime(until)), commonName(cn), spki);
  const signature = cryptoSign('sha256', tbs, key.privateKey);
  return seq(tbs, SHA256_WITH_RSA, der(0x03, Buffer.concat([Buffer.from([0x00]), signature])));
}

const certificatePem = (der) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;

/** The public key as a JWK with exactly the members `order` names, in that order. */
function jwkOf(key, order, extra = {}) {
  const raw = { ...createPublicKey(key.privateKey).export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig', ...extra };
  return Object.fromEntries(order.map((name) => [name, raw[name]]));
}

/** A signer for one provider: `header` members come first, as the provider orders them. */
function signer(key, header) {
  return (claims, { kid = key.kid, with: other = key } = {}) =>
    signJwt(claims, { alg: key.alg, key: other, kid, header: { ...header, kid } });
}

// ---------------------------------------------------------------- Firebase

export function firebase() {
  const projectId = 'callkit-edge-demo';
  // Google's key IDs are 40 hex digits.
  const key = generateSigningKey('RS256', hex(20));
  const sign = signer(key, { alg: 'RS256', typ: 'JWT' });
  const uid = alnum(28); // the Auth emulator's uid shape
  return {
    name: 'firebase',
    preset: `firebase:${projectId}`,
    key,
    // https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com:
    // key IDs to PEM certificates, no JWKS.
    jwks: { [key.kid]: certificatePem(certificateDer(key, 'securetoken.system.gserviceaccount.com')) },
    iss: `https://securetoken.google.com/${projectId}`,
    aud: projectId,
    uid,
    claims(extra = {}) {
      const iat = now();
      return {
        iss: `https://securetoken.google.com/${projectId}`,
        aud: projectId,
        auth_time: iat - 60,
        user_id: uid,
        sub: uid,
        iat,
        exp: iat + 3600,
        email: 'alice@example.com',
        email_verified: true,
        firebase: { identities: { email: ['alice@example.com'] }, sign_in_provider: 'password' },
        ...extra,
      };
    },
    sign,
  };
}

// ---------------------------------------------------------------- Supabase

export function supabase() {
  const ref = 'abcdefghijklmnopqrst';
  const key = generateSigningKey('ES256', randomUUID());
  const sign = signer(key, { alg: 'ES256', typ: 'JWT' });
  const userId = randomUUID();
  const iss = `https://${ref}.supabase.co/auth/v1`;
  return {
    name: 'supabase',
    preset: `supabase:${ref}`,
    key,
    jwks: { keys: [jwkOf(key, ['kid', 'alg', 'kty', 'key_ops', 'use', 'crv', 'x', 'y'], { key_ops: ['verify'] })] },
    iss,
    aud: 'authenticated',
    userId,
    claims(extra = {}) {
      const iat = now();
      return {
        iss,
        sub: userId,
        aud: 'authenticated',
        exp: iat + 3600,
        iat,
        email: 'alice@example.com',
        phone: '',
        app_metadata: { provider: 'email', providers: ['email'], tuid: 'alice_sb' },
        user_metadata: { email_verified: true },
        role: 'authenticated',
        aal: 'aal1',
        amr: [{ method: 'password', timestamp: iat - 60 }],
        session_id: randomUUID(),
        is_anonymous: false,
        ...extra,
      };
    },
    sign,
  };
}

// ---------------------------------------------------------------- Auth0

export function auth0() {
  const domain = 'dev-callkit.us.auth0.com';
  const api = 'https://calls.example.com/api';
  const key = generateSigningKey('RS256', randomBytes(16).toString('base64url'));
  const der = certificateDer(key, domain);
  const x5t = createHash('sha1').update(der).digest('base64url');
  const sign = signer(key, { alg: 'RS256', typ: 'JWT' });
  // RFC 9068 profile: `typ` at+jwt and `client_id`.
  const signRfc9068 = signer(key, { alg: 'RS256', typ: 'at+jwt' });
  return {
    name: 'auth0',
    preset: `auth0:${domain}:${api}`,
    key,
    jwks: { keys: [{ ...jwkOf(key, ['kty', 'use', 'n', 'e', 'kid', 'x5t', 'alg'], { x5t }), x5c: [der.toString('base64')] }] },
    iss: `https://${domain}/`,
    aud: api,
    sub: 'auth0|6553da60a54af58e29493993',
    claims(extra = {}) {
      const iat = now();
      return {
        'https://example.com/tuid': 'alice_a0',
        'https://example.com/roles': ['viewer'],
        iss: `https://${domain}/`,
        sub: 'auth0|6553da60a54af58e29493993',
        aud: [api, `https://${domain}/userinfo`],
        iat,
        exp: iat + 86400,
        azp: 'my_client_id',
        scope: 'openid profile read:calls',
        ...extra,
      };
    },
    sign,
    signRfc9068,
  };
}

// ---------------------------------------------------------------- Clerk

export function clerk() {
  const domain = 'clerk.example.com';
  const key = generateSigningKey('RS256', `ins_${alnum(27)}`);
  const sign = signer(key, { alg: 'RS256', kid: key.kid, typ: 'JWT' });
  const sub = `user_${alnum(27)}`; // 32 bytes, like Clerk's samples
  return {
    name: 'clerk',
    preset: `clerk:${domain}`,
    key,
    jwks: { keys: [jwkOf(key, ['use', 'kty', 'kid', 'alg', 'n', 'e'])] },
    iss: `https://${domain}`,
    sub,
    claims(extra = {}) {
      const iat = now();
      return {
        azp: 'https://app.example.com',
        exp: iat + 60,
        fva: [0, -1],
        iat,
        iss: `https://${domain}`,
        nbf: iat - 10,
        sid: `sess_${alnum(27)}`,
        sts: 'active',
        sub,
        v: 2,
        o: { id: `org_${alnum(27)}`, rol: 'member', slg: 'acme' },
        ...extra,
      };
    },
    sign,
  };
}

// ---------------------------------------------------------------- Amazon Cognito

export function cognito() {
  const region = 'us-east-1';
  const pool = `${region}_Example12`;
  const client = '3n4b5urk1ft4fl3mg5e62d9ado';
  const iss = `https://cognito-idp.${region}.amazonaws.com/${pool}`;
  // ID and access tokens are signed with different keys; Cognito's headers have no `typ`.
  const idKey = generateSigningKey('RS256', randomBytes(32).toString('base64'));
  const accessKey = generateSigningKey('RS256', randomBytes(32).toString('base64'));
  const signId = signer(idKey, { kid: idKey.kid, alg: 'RS256', typ: undefined });
  const signAccess = signer(accessKey, { kid: accessKey.kid, alg: 'RS256', typ: undefined });
  const sub = randomUUID();
  const common = () => {
    const iat = now();
    return { sub, iss, origin_jti: randomUUID(), event_id: randomUUID(), auth_time: iat - 60, exp: iat + 3600, iat, jti: randomUUID() };
  };
  const order = ['alg', 'e', 'kid', 'kty', 'n', 'use'];
  return {
    name: 'cognito',
    preset: `cognito:${region}/${pool}:${client}`,
    idKey,
    accessKey,
    key: idKey,
    jwks: { keys: [jwkOf(idKey, order), jwkOf(accessKey, order)] },
    iss,
    client,
    sub,
    idClaims(extra = {}) {
      return {
        ...common(),
        'cognito:groups': ['users'],
        email_verified: true,
        'cognito:username': 'alice_cg',
        aud: client,
        token_use: 'id',
        email: 'alice@example.com',
        'custom:tuid': 'alice_cg',
        ...extra,
      };
    },
    accessClaims(extra = {}) {
      return {
        ...common(),
        'cognito:groups': ['users'],
        client_id: client,
        token_use: 'access',
        scope: 'aws.cognito.signin.user.admin',
        username: 'alice_cg',
        ...extra,
      };
    },
    claims(extra = {}) {
      return this.idClaims(extra);
    },
    sign: signId,
    signId,
    signAccess,
  };
}

// ---------------------------------------------------------------- Cloudflare Access

export function cloudflareAccess() {
  const team = 'callkit.cloudflareaccess.com';
  const aud = hex(32);
  const key = generateSigningKey('RS256', hex(32)); // kid: 64 hex digits
  const der = certificateDer(key, team);
  const cert = { kid: key.kid, cert: certificatePem(der) };
  const sign = signer(key, { alg: 'RS256', kid: key.kid, typ: 'JWT' });
  return {
    name: 'cloudflare-access',
    preset: `cloudflare-access:${team}:${aud}`,
    key,
    // /cdn-cgi/access/certs: the JWKs, and the same keys as PEM certificates.
    jwks: { keys: [jwkOf(key, ['kid', 'kty', 'alg', 'use', 'e', 'n'])], public_cert: cert, public_certs: [cert] },
    iss: `https://${team}`,
    aud,
    sub: randomUUID(),
    claims(extra = {}) {
      const iat = now();
      return {
        aud: [aud],
        email: 'alice@example.com',
        exp: iat + 3600,
        iat,
        nbf: iat,
        iss: `https://${team}`,
        type: 'app',
        identity_nonce: alnum(16),
        sub: this.sub,
        country: 'US',
        ...extra,
      };
    },
    sign,
  };
}

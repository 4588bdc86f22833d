// The bench's identities, settings and bearer tokens, made with the
// integration tests' independent node:crypto implementation (read-only import).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_KEY, DEMO_SDKAPPID, mintUserSig, signJwt, claims } from '../../tests/integration/tokens.mjs';

export { DEMO_KEY, DEMO_SDKAPPID, mintUserSig };

/** A member of the sample call (get_call_info's UserList) and of the sample record. */
export const CALLER = 'user1';
export const ADMIN = 'bench-admin';
export const JWT_SECRET = 'bench-edge-hs256-secret-0123456789abcdef';
export const JWT_ISSUER = 'https://issuer.bench.test';
export const JWT_AUDIENCE = 'callkit-edge-bench';
export const RSA_KID = 'rsa-1'; // src/api/auth/testdata/jwks.json

/** Bearer tokens valid for `ttl` seconds (default 6 h, longer than any run). */
export function benchTokens(root, ttl = 6 * 3600) {
  const rsaKey = readFileSync(join(root, 'src/api/auth/testdata/rsa_private.pem'), 'utf8');
  return {
    caller: mintUserSig(CALLER, { expire: ttl }),
    admin: mintUserSig(ADMIN, { expire: ttl }),
    hs256: signJwt(claims(CALLER, { ttl }), { alg: 'HS256', key: JWT_SECRET }),
    rs256: signJwt(claims(CALLER, { ttl, iss: JWT_ISSUER, aud: JWT_AUDIENCE }), { alg: 'RS256', key: rsaKey, kid: RSA_KID }),
  };
}

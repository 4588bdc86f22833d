// Best-effort reading of who a token names, for display only: the edge is the authority.
// A TUICallKit UserSig is zlib-compressed JSON in Tencent's base64; a JWT names `sub`.

function base64ToBytes(b64) {
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Response(stream).text();
}

/** Resolves `{ identity, expiresAt }` (expiresAt in unix s or null), or null when unreadable. */
export async function describeToken(token) {
  try {
    const parts = token.split('.');
    if (parts.length === 3) {
      const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      const claims = JSON.parse(new TextDecoder().decode(base64ToBytes(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='))));
      if (typeof claims.sub !== 'string') return null;
      return { identity: claims.sub, expiresAt: Number.isFinite(claims.exp) ? claims.exp : null };
    }
    const b64 = token.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
    const doc = JSON.parse(await inflate(base64ToBytes(b64)));
    const identity = doc['TLS.identifier'];
    if (typeof identity !== 'string') return null;
    const time = Number(doc['TLS.time']);
    const expire = Number(doc['TLS.expire']);
    return { identity, expiresAt: Number.isFinite(time + expire) ? time + expire : null };
  } catch {
    return null;
  }
}

// The JS reference: callkit-edge's bench routes as a competent JS developer
// would write them (nodejs_compat for zlib and HMAC, WebCrypto for JWTs).
// Same settings, status codes and JSON shapes for the happy paths; error
// paths are kept short. Used only by bench/edge.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { Buffer } from 'node:buffer';

const now = () => Math.floor(Date.now() / 1000);
const fail = (status, code) => Object.assign(new Error(code), { status, code });
const reply = (status, body, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': type, 'cache-control': 'no-store' } });

// ---- TLSSigAPIv2 UserSigs
const tbase64 = (buf) => buf.toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
const untbase64 = (s) => Buffer.from(s.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '='), 'base64');
const sigHmac = (key, id, appid, time, expire) =>
  createHmac('sha256', key)
    .update(`TLS.identifier:${id}\nTLS.sdkappid:${appid}\nTLS.time:${time}\nTLS.expire:${expire}\n`)
    .digest('base64');

function mintSig(env, id, ttl, time = now()) {
  const appid = Number(env.TENCENT_SDKAPPID);
  const sig = sigHmac(env.TENCENT_SECRET_KEY, id, appid, time, ttl);
  const doc = { 'TLS.ver': '2.0', 'TLS.identifier': id, 'TLS.sdkappid': appid, 'TLS.expire': ttl, 'TLS.time': time, 'TLS.sig': sig };
  return tbase64(deflateSync(JSON.stringify(doc)));
}

function verifySig(env, token) {
  let d;
  try {
    d = JSON.parse(inflateSync(untbase64(token)).toString());
  } catch {
    throw fail(401, 'token_malformed');
  }
  if (d['TLS.sdkappid'] !== Number(env.TENCENT_SDKAPPID)) throw fail(401, 'token_wrong_app');
  if (d['TLS.userbuf'] !== undefined || typeof d['TLS.sig'] !== 'string') throw fail(401, 'token_malformed');
  const expiresAt = d['TLS.time'] + d['TLS.expire'];
  if (now() > expiresAt) throw fail(401, 'token_expired');
  const want = Buffer.from(sigHmac(env.TENCENT_SECRET_KEY, d['TLS.identifier'], d['TLS.sdkappid'], d['TLS.time'], d['TLS.expire']));
  const got = Buffer.from(d['TLS.sig']);
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw fail(401, 'token_bad_signature');
  return { user: d['TLS.identifier'], expiresAt };
}

// ---- JWTs (alg pinned by config), keys cached per isolate
const utf8 = new TextEncoder();
const unb64url = (s) => Buffer.from(s, 'base64url');
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
let hsKey, jwksKeys;

async function jwtKey(env, alg, kid) {
  if (alg === 'HS256') {
    hsKey ??= await crypto.subtle.importKey('raw', utf8.encode(env.JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    return hsKey;
  }
  if (!jwksKeys) {
    const res = await fetch(env.JWT_JWKS_URL);
    if (!res.ok) throw fail(503, 'auth_keys_unavailable');
    const { keys } = await res.json();
    const rsa = keys.filter((k) => k.kty === 'RSA' && k.kid);
    const imported = await Promise.all(rsa.map((k) => crypto.subtle.importKey('jwk', { kty: 'RSA', n: k.n, e: k.e }, RSA, false, ['verify'])));
    jwksKeys = new Map(rsa.map((k, i) => [k.kid, imported[i]]));
  }
  const key = jwksKeys.get(kid);
  if (!key) throw fail(401, 'token_unknown_key');
  return key;
}

async function verifyJwt(env, token) {
  const [h, p, s, extra] = token.split('.');
  if (!s || extra !== undefined) throw fail(401, 'token_malformed');
  let header, claims;
  try {
    header = JSON.parse(unb64url(h).toString());
    claims = JSON.parse(unb64url(p).toString());
  } catch {
    throw fail(401, 'token_malformed');
  }
  const alg = env.JWT_ALG || 'HS256';
  if (header.alg !== alg) throw fail(401, 'token_wrong_algorithm');
  const key = await jwtKey(env, alg, header.kid);
  const ok = await crypto.subtle.verify(alg === 'HS256' ? 'HMAC' : RSA, key, unb64url(s), utf8.encode(`${h}.${p}`));
  if (!ok) throw fail(401, 'token_bad_signature');
  const leeway = Number(env.JWT_LEEWAY_SECS || 30);
  if (typeof claims.exp !== 'number' || now() > claims.exp + leeway) throw fail(401, 'token_expired');
  if (typeof claims.nbf === 'number' && now() + leeway < claims.nbf) throw fail(401, 'token_not_yet_valid');
  if (env.JWT_ISSUER && claims.iss !== env.JWT_ISSUER) throw fail(401, 'token_wrong_issuer');
  const aud = [claims.aud].flat();
  if (env.JWT_AUDIENCE && !aud.includes(env.JWT_AUDIENCE)) throw fail(401, 'token_wrong_audience');
  if (typeof claims.sub !== 'string' || !claims.sub) throw fail(401, 'token_invalid_subject');
  return { user: claims.sub, expiresAt: claims.exp };
}

async function authenticate(req, env) {
  const token = (req.headers.get('authorization') || '').match(/^Bearer (\S+)$/)?.[1];
  if (!token) throw fail(401, 'token_missing');
  const who = env.AUTH_MODE === 'jwt' ? await verifyJwt(env, token) : verifySig(env, token);
  who.admin = (env.ADMIN_USERS || '').split(',').map((u) => u.trim()).includes(who.user);
  const { success } = await env.RATE_LIMITER.limit({ key: who.user });
  if (!success) throw fail(429, 'rate_limited');
  return who;
}

// ---- Tencent REST v4 with a cached admin UserSig
let admin = { sig: '', expiresAt: 0 };
function adminSig(env) {
  const ttl = Number(env.ADMIN_USERSIG_TTL_SECS || 86400);
  if (now() >= admin.expiresAt - Math.min(ttl / 5, 600)) {
    const t = now();
    admin = { sig: mintSig(env, env.TENCENT_ADMIN_IDENTIFIER || 'administrator', ttl, t), expiresAt: t + ttl };
  }
  return admin.sig;
}

async function tencent(env, path, body) {
  const id = encodeURIComponent(env.TENCENT_ADMIN_IDENTIFIER || 'administrator');
  const random = crypto.getRandomValues(new Uint32Array(1))[0];
  const url = `${env.TENCENT_API_BASE}/v4/${path}?sdkappid=${env.TENCENT_SDKAPPID}&identifier=${id}&usersig=${adminSig(env)}&random=${random}&contenttype=json`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  const data = await res.json().catch(() => null);
  if (!res.ok || !data) throw fail(502, 'upstream_bad_response');
  if (data.ErrorCode === 101004) throw fail(404, 'call_not_found');
  if (data.ErrorCode === 101050) throw fail(404, 'record_not_found');
  if (data.ErrorCode !== 0) throw fail(502, 'upstream_error');
  return data;
}

const record = (r) => ({
  callId: r.CallId, caller: r.Caller_Account, callees: r.CalleeList_Account, mediaType: r.MediaType, callType: r.CallType,
  result: r.CallResult, startTime: r.StartTime, endTime: r.EndTime, acceptTime: r.AcceptTime, roomId: r.RoomId, roomIdType: r.RoomIdType,
});
const checkCallId = (id) => {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(id)) throw fail(400, 'invalid_call_id');
  return id;
};

async function getCall(env, who, callId) {
  const { RequestId, Response: r } = await tencent(env, 'call_engine_http_srv/get_call_info', { CallId: callId });
  if (!who.admin && !r.UserList.some((m) => m.User_Account === who.user)) throw fail(404, 'call_not_found');
  const c = r.CallInfo;
  const members = r.UserList.map((m) => ({ userId: m.User_Account, status: m.Status }));
  return { requestId: RequestId, callId: c.CallId, mediaType: c.MediaType, groupId: c.ChatGroupId, roomId: c.RoomId, roomIdType: c.RoomIdType, members };
}

async function getRecord(env, who, callId) {
  const { RequestId, Response: r } = await tencent(env, 'call_record_http_srv/get_record_by_callid', { CallId: callId });
  const rec = r.CallRecord;
  if (!who.admin && rec.Caller_Account !== who.user && !rec.CalleeList_Account.includes(who.user)) throw fail(404, 'record_not_found');
  return { requestId: RequestId, record: record(rec) };
}

async function listRecords(env, who, q) {
  if (!who.admin) throw fail(403, 'forbidden');
  const num = (k, d) => (q.has(k) ? (/^\d+$/.test(q.get(k)) ? Number(q.get(k)) : NaN) : d);
  const t = now();
  const f = { start: num('start', t - 7 * 86400), end: num('end', t), page: num('page', 1), perPage: num('perPage', 20) };
  if (Object.values(f).some(Number.isNaN) || f.start > f.end || f.page < 1 || f.perPage < 1 || f.perPage > 100) throw fail(400, 'invalid_filter');
  const body = { StartTime: f.start, EndTime: f.end, NumberPerPage: f.perPage, Page: f.page };
  if (q.has('result')) body.CallResult = q.get('result');
  if (q.has('type')) body.CallType = q.get('type');
  const { RequestId, Response: r } = await tencent(env, 'call_record_http_srv/get_record_by_filter', body);
  return { requestId: RequestId, total: r.TotalNum, page: f.page, perPage: f.perPage, records: r.CallRecordList.map(record) };
}

function mintUserSig(env, who) {
  if (who.user === (env.TENCENT_ADMIN_IDENTIFIER || 'administrator')) throw fail(403, 'forbidden');
  const t = now();
  const ttl = Math.min(Number(env.USERSIG_TTL_SECS || 86400), Math.max(0, who.expiresAt - t));
  return { userId: who.user, userSig: mintSig(env, who.user, ttl, t), sdkAppId: Number(env.TENCENT_SDKAPPID), expiresAt: t + ttl };
}

function health(env) {
  adminSig(env);
  return { status: 'ok', region: env.TENCENT_REGION || 'custom', sdkAppId: Number(env.TENCENT_SDKAPPID), authMode: env.AUTH_MODE, credentialMode: 'secretKey', credentialExpiresAt: admin.expiresAt };
}

async function route(req, env, url, audit) {
  const path = url.pathname;
  const m = path.match(/^\/api\/v1\/(calls|records)\/([^/]+)$/);
  if (req.method === 'GET' && path === '/api/v1/health') return health(env);
  if (req.method === 'GET' && m) {
    audit.callId = checkCallId(decodeURIComponent(m[2]));
    const who = (audit.identity = await authenticate(req, env));
    return m[1] === 'calls' ? getCall(env, who, audit.callId) : getRecord(env, who, audit.callId);
  }
  if (req.method === 'GET' && path === '/api/v1/records') return listRecords(env, (audit.identity = await authenticate(req, env)), url.searchParams);
  if (req.method === 'POST' && path === '/api/v1/usersig') return mintUserSig(env, (audit.identity = await authenticate(req, env)));
  throw fail(404, 'route_not_found');
}

export default {
  async fetch(req, env) {
    const started = Date.now();
    const audit = {};
    let status, body;
    try {
      body = await route(req, env, new URL(req.url), audit);
      status = 200;
    } catch (e) {
      status = e.status || 500;
      body = { type: `https://callkit-edge.dev/problems/${e.code || 'internal'}`, title: e.code || 'internal', status, detail: e.code || 'internal', code: e.code || 'internal' };
    }
    const line = { kind: 'audit', identity: audit.identity?.user ?? null, callId: audit.callId ?? null, status, code: status === 200 ? null : body.code, requestId: body.requestId ?? null, latencyMs: Date.now() - started };
    console.log(JSON.stringify(line));
    return reply(status, body, status === 200 ? 'application/json' : 'application/problem+json');
  },
};

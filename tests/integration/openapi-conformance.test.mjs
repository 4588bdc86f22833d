// Issue 10, defect 11: the OpenAPI document promises exactly what the API
// accepts. Requests are generated from the served openapi.json itself: for
// every operation, every parameter and the request body, values the schema
// allows and values it forbids (one keyword broken at a time). A small
// validator checks each generated value against its schema first, so the
// generator cannot fool the test. Then:
//   - a schema-valid request gets a status the operation documents, and never
//     a 400 from the edge's own validation (Tencent may still refuse one:
//     `upstream_invalid_parameter`);
//   - a schema-invalid one gets 400 problem+json from the edge itself.
// And the documented order: auth and policy come before validation.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { assertAuditTrail, assertCleanWorker, assertProblem, collectSecrets, mintedUserSigs, sentTokens, startEmulator, startWorker } from './harness.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';

// Admins rotate so the per-identity rate limit (120 / 60 s) is never reached.
// None is a Tencent admin account, so `POST /api/v1/usersig` serves them.
const ADMINS = Array.from({ length: 12 }, (_, i) => `admin${i + 1}`);
const EDGE_400_CODES = new Set([
  'invalid_json', 'invalid_body', 'unknown_field', 'missing_field', 'invalid_field', 'invalid_call_id', 'invalid_filter',
  'invalid_webhook',
  // The history routes' own checks (docs/call-ledger.md); `invalid_cursor` is not one: no
  // schema tells a cursor the edge made from any other string.
  'invalid_query', 'invalid_user_id',
]);
// The webhook proves itself with this key (its other proof, a fresh Sign, the generator cannot make).
const WEBHOOK_URL_KEY = 'conformance-webhook-key-0123456789';
// TRTC's receiver: the test signs each body with this key, so that the body is what is checked.
const TRTC_CALLBACK_KEY = 'conformanceTrtcKey0123456789';

let emulator;
let worker;
let doc;
let turn = 0;
const adminToken = () => mintUserSig(ADMINS[turn++ % ADMINS.length]);

before(async () => {
  emulator = await startEmulator();
  worker = await startWorker({ emulator, vars: { ADMIN_USERS: ADMINS.join(','), WEBHOOK_URL_KEY, TRTC_CALLBACK_KEY } });
  doc = (await worker.request('GET', '/api/v1/openapi.json')).json;
});

after(async () => {
  await worker?.stop();
  await emulator?.stop();
});

// ------------------------------------------------------------ schemas

function resolve(schema) {
  let s = schema;
  while (s && s.$ref) s = s.$ref.split('/').slice(1).reduce((node, key) => node[key], doc);
  return s;
}

const typesOf = (s) => (s.type === undefined ? [] : [].concat(s.type));

function typeMatches(type, v) {
  switch (type) {
    case 'null': return v === null;
    case 'integer': return Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'array': return Array.isArray(v);
    case 'object': return v !== null && typeof v === 'object' && !Array.isArray(v);
    default: return false;
  }
}

/** JSON Schema 2020-12, the keywords openapi.json uses. */
function valid(schema, v) {
  const s = resolve(schema);
  const types = typesOf(s);
  if (types.length && !types.some((t) => typeMatches(t, v))) return false;
  if (s.enum && !s.enum.some((e) => e === v)) return false;
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) return false;
    if (s.maximum !== undefined && v > s.maximum) return false;
  }
  if (typeof v === 'string') {
    const len = [...v].length;
    if (s.minLength !== undefined && len < s.minLength) return false;
    if (s.maxLength !== undefined && len > s.maxLength) return false;
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) return false;
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) return false;
    if (s.maxItems !== undefined && v.length > s.maxItems) return false;
    if (s.items && !v.every((item) => valid(s.items, item))) return false;
  }
  if (typeMatches('object', v)) {
    if ((s.required ?? []).some((k) => !(k in v))) return false;
    for (const [k, value] of Object.entries(v)) {
      const prop = s.properties?.[k];
      if (prop ? !valid(prop, value) : s.additionalProperties === false) return false;
    }
  }
  return true;
}

// Bounds past 2^53 do not survive JSON in JavaScript: leave them to the unit tests.
const safe = (n) => n !== undefined && Number.isSafeInteger(n);

/** Values the schema allows: examples, enums, bounds, and one per optional property. */
function validValues(schema) {
  const s = resolve(schema);
  const out = [];
  if (s.examples) out.push(...s.examples);
  if (s.enum) out.push(...s.enum);
  const types = typesOf(s);
  if (types.includes('null') && !s.enum) out.push(null);
  if (types.includes('integer') && !s.enum) {
    out.push(...[s.minimum, s.maximum, s.default].filter(safe));
    if (!out.some(Number.isInteger)) out.push(safe(s.minimum) ? s.minimum : 1);
  }
  if (types.includes('string') && !s.enum && !s.examples) {
    out.push('a'.repeat(Math.max(s.minLength ?? 0, 1)));
    if (s.maxLength !== undefined) out.push('a'.repeat(s.maxLength));
  }
  if (types.includes('array')) {
    const item = validValues(s.items)[0];
    out.push(Array(Math.max(s.minItems ?? 0, 1)).fill(item));
    if (s.maxItems !== undefined) out.push(Array(s.maxItems).fill(item));
    for (const other of validValues(s.items).slice(1)) out.push([other]);
  }
  if (types.includes('object')) {
    const base = minimalObject(s);
    out.push(base);
    for (const [k, prop] of Object.entries(s.properties ?? {})) {
      for (const v of validValues(prop)) out.push({ ...base, [k]: v });
    }
  }
  return out;
}

function minimalObject(s) {
  return Object.fromEntries((s.required ?? []).map((k) => [k, validValues(s.properties[k])[0]]));
}

/** Values that break one keyword of the schema, each a different way. */
function invalidValues(schema) {
  const s = resolve(schema);
  // A number in a string too: serde or a lenient parser might take it.
  const out = ['text', '1', '2', 12, 1.5, true, null, [], {}];
  if (s.enum) out.push('NotInTheEnum');
  if (safe(s.minimum)) out.push(s.minimum - 1);
  if (safe(s.maximum)) out.push(s.maximum + 1);
  if (s.minLength) out.push('a'.repeat(s.minLength - 1));
  if (s.maxLength !== undefined) out.push('a'.repeat(s.maxLength + 1));
  if (s.pattern) out.push('', ' ', 'a b', 'a/b', 'ünï', 'tab\there', 'ftp://host', 'https://user@host/', 'https:///x');
  if (typesOf(s).includes('array')) {
    if (s.minItems) out.push([]);
    const item = validValues(s.items)[0];
    if (s.maxItems !== undefined) out.push(Array(s.maxItems + 1).fill(item));
    for (const bad of invalidValues(s.items)) out.push([bad]);
  }
  if (typesOf(s).includes('object')) {
    const base = minimalObject(s);
    for (const k of s.required ?? []) {
      const { [k]: _, ...rest } = base;
      out.push(rest);
    }
    if (s.additionalProperties === false) out.push({ ...base, zzUnknown: 1 });
    for (const [k, prop] of Object.entries(s.properties ?? {})) {
      for (const bad of invalidValues(prop)) out.push({ ...base, [k]: bad });
    }
  }
  return dedupe(out.filter((v) => !valid(s, v)));
}

function dedupe(values) {
  const seen = new Set();
  return values.filter((v) => {
    const key = JSON.stringify(v);
    return !seen.has(key) && seen.add(key);
  });
}

// ------------------------------------------------------------ requests

/** A query or path value as the server reads it: a number where the schema wants one and the text is one. */
function asParsed(schema, text) {
  const numeric = typesOf(resolve(schema)).some((t) => t === 'integer' || t === 'number');
  return numeric && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

function operations() {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) out.push({ path, method: method.toUpperCase(), op });
  }
  return out;
}

function buildRequest({ path, method, op }, { params = {}, body } = {}) {
  let url = path;
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    const value = p.name in params ? params[p.name] : p.in === 'path' ? validValues(p.schema)[0] : undefined;
    if (value === undefined) continue;
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)));
    else query.set(p.name, String(value));
  }
  if (op['x-callkit-action'] === 'receive_webhook') {
    // Proven and for this app, so that the body is what is checked.
    if (!query.has('key')) query.set('key', WEBHOOK_URL_KEY);
    if (!query.has('SdkAppid')) query.set('SdkAppid', '1400000000');
  }
  const qs = query.toString();
  const headers = {};
  if (op['x-callkit-action'] === 'receive_trtc_event' && body !== undefined) {
    // Signed over the bytes `send` posts, and for this app.
    headers.SdkAppId = '1400000000';
    headers.Sign = createHmac('sha256', TRTC_CALLBACK_KEY).update(JSON.stringify(body)).digest('base64');
  }
  return { method, path: qs ? `${url}?${qs}` : url, body, headers };
}

function baselineBody(op) {
  const schema = op.requestBody?.content?.['application/json']?.schema;
  if (!schema || !op.requestBody.required) return undefined;
  return validValues(schema)[0];
}

/** `as`: a token, `ANONYMOUS` for none, or (default) the next admin's. */
const ANONYMOUS = Symbol('no token');
async function send(req, as = adminToken()) {
  const headers = { ...(req.body === undefined ? {} : { 'content-type': 'application/json' }), ...req.headers };
  const body = req.body === undefined ? undefined : JSON.stringify(req.body);
  return worker.request(req.method, req.path, { token: as === ANONYMOUS ? undefined : as, body, headers });
}

/**
 * A schema-valid request is served (2xx), finds no such call or record (404),
 * or is refused by Tencent (400 `upstream_*`): any other documented status
 * (500, say) is a failure too. Answers no schema can rule out: the socket
 * route's request cannot carry `Upgrade` from fetch (400 `upgrade_required`),
 * and a webhook's `SdkAppid` may be another app's (400 `wrong_sdkappid`) and
 * its `key` not the secret (401 `webhook_unauthenticated`); a TRTC event may
 * be stale (401 `webhook_unauthenticated`). A third: a history or live board
 * cursor the edge did not make (400 `invalid_cursor`), which no schema can
 * tell from one it did.
 */
function assertServed(res, op, label, req) {
  assertDocumented(res, op, label);
  const code = res.json?.code ?? '';
  const action = op['x-callkit-action'];
  const query = new URLSearchParams(req.path.split('?')[1]);
  const served =
    (res.status >= 200 && res.status < 300) ||
    res.status === 404 ||
    (res.status === 400 && code.startsWith('upstream_')) ||
    (action === 'live_socket' && res.status === 400 && code === 'upgrade_required') ||
    (action === 'receive_webhook' && res.status === 400 && code === 'wrong_sdkappid' && query.get('SdkAppid') !== '1400000000') ||
    (action === 'receive_webhook' && res.status === 401 && code === 'webhook_unauthenticated' && query.get('key') !== WEBHOOK_URL_KEY) ||
    (['list_history', 'live_calls'].includes(action) && res.status === 400 && code === 'invalid_cursor' && query.has('cursor')) ||
    // A TRTC event's `EventMsTs` must be within 5 minutes of now, which no schema can state.
    (action === 'receive_trtc_event' && res.status === 401 && code === 'webhook_unauthenticated');
  assert.ok(served, `${label}: a schema-valid request answered ${res.status} ${code}: ${res.text.slice(0, 300)}`);
}

function assertDocumented(res, op, label) {
  const documented = Object.keys(op.responses);
  assert.ok(documented.includes(String(res.status)), `${label}: ${res.status} is not documented (${documented}): ${res.text.slice(0, 300)}`);
  if (res.status >= 400) {
    assertProblem(res, res.status, res.json?.code, label);
    assert.ok(!(res.status === 400 && EDGE_400_CODES.has(res.json.code)), `${label}: a schema-valid request was refused: ${res.text}`);
  } else {
    // JSON, or what the operation documents instead (the history export's CSV or NDJSON).
    const types = Object.keys(op.responses[String(res.status)]?.content ?? { 'application/json': {} });
    const type = (res.headers['content-type'] ?? '').split(';')[0];
    assert.ok(types.some((t) => t.split(';')[0] === type), `${label}: ${type} is not one of ${types}`);
  }
}

function assertRefused(res, label) {
  assertProblem(res, 400, res.json?.code, label);
  assert.ok(EDGE_400_CODES.has(res.json.code), `${label}: refused by Tencent, not by the edge: ${res.text}`);
}

// ------------------------------------------------------------ tests

describe('openapi.json ⇔ the API', () => {
  test('the served document is the repository file and every operation has an action', async () => {
    const { readFile } = await import('node:fs/promises');
    const file = JSON.parse(await readFile(new URL('../../src/api/openapi.json', import.meta.url), 'utf8'));
    assert.deepEqual(doc, file);
    for (const { path, method, op } of operations()) assert.ok(op['x-callkit-action'], `${method} ${path}`);
  });

  test('every parameter: schema-valid values are served, schema-invalid ones are 400', async (t) => {
    let checked = 0;
    for (const operation of operations()) {
      const { path, method, op } = operation;
      const body = baselineBody(op);
      // A header here is the WebSocket handshake's `Upgrade`, which fetch may not send.
      for (const p of (op.parameters ?? []).filter((p) => p.in !== 'header')) {
        const goods = validValues(p.schema);
        const bads = invalidValues(p.schema)
          // Text only: a URL has no null, array or object; the empty path segment is another route.
          .filter((v) => typeof v === 'string' || typeof v === 'number')
          .filter((v) => !(p.in === 'path' && v === ''))
          .filter((v) => !valid(p.schema, asParsed(p.schema, String(v))));
        for (const v of goods) {
          assert.ok(valid(p.schema, asParsed(p.schema, String(v))), `generator: ${p.name}=${v}`);
          const label = `${method} ${path} ${p.name}=${JSON.stringify(v)} (valid)`;
          const req = buildRequest(operation, { params: { [p.name]: v }, body });
          assertServed(await send(req), op, label, req);
          checked += 1;
        }
        for (const v of bads) {
          const label = `${method} ${path} ${p.name}=${JSON.stringify(v)} (invalid)`;
          assertRefused(await send(buildRequest(operation, { params: { [p.name]: v }, body })), label);
          checked += 1;
        }
      }
    }
    t.diagnostic(`${checked} parameter cases`);
    assert.ok(checked > 30, `only ${checked} parameter cases`);
  });

  test('every request body: schema-valid bodies are served, schema-invalid ones are 400', async (t) => {
    let checked = 0;
    for (const operation of operations()) {
      const { path, method, op } = operation;
      const schema = op.requestBody?.content?.['application/json']?.schema;
      if (!schema) continue;
      for (const v of validValues(schema)) {
        assert.ok(valid(schema, v), `generator: ${JSON.stringify(v)}`);
        const label = `${method} ${path} body ${JSON.stringify(v).slice(0, 120)} (valid)`;
        const req = buildRequest(operation, { body: v });
        assertServed(await send(req), op, label, req);
        checked += 1;
      }
      for (const v of invalidValues(schema)) {
        const label = `${method} ${path} body ${JSON.stringify(v).slice(0, 120)} (invalid)`;
        assertRefused(await send(buildRequest(operation, { body: v })), label);
        checked += 1;
      }
      if (!op.requestBody.required) {
        const req = buildRequest(operation);
        assertServed(await send(req), op, `${method} ${path} without a body`, req);
      }
    }
    t.diagnostic(`${checked} body cases`);
    assert.ok(checked > 60, `only ${checked} body cases`);
  });

  test('the documented order: a bad token is 401 and a forbidden caller 403 before any 400', async () => {
    for (const operation of operations()) {
      const { path, method, op } = operation;
      if (!op.security?.length) continue;
      const schema = op.requestBody?.content?.['application/json']?.schema;
      const bad = schema ? { body: invalidValues(schema)[0] } : {};
      const idParam = (op.parameters ?? []).find((p) => p.in === 'path');
      if (idParam) bad.params = { [idParam.name]: 'a b' };
      if (!schema && !idParam) bad.params = { page: 0 };
      const req = buildRequest(operation, bad);
      assertProblem(await send(req, ANONYMOUS), 401, 'token_missing', `${method} ${path} no token`);
      if (op['x-callkit-action'] === 'start_call' || op['x-callkit-action'].endsWith('callback') || op['x-callkit-action'] === 'list_records') {
        assertProblem(await send(req, mintUserSig('alice')), 403, 'forbidden', `${method} ${path} alice`);
      }
    }
  });

  test('sweep: an audit line per answer, and no answer or log line leaks a secret', async () => {
    const secrets = collectSecrets({
      secretKey: DEMO_KEY,
      userSigs: mintedUserSigs(worker),
      tokens: sentTokens(worker),
      emulatorUrl: emulator.url,
      extra: [WEBHOOK_URL_KEY, TRTC_CALLBACK_KEY],
    });
    await assertAuditTrail(worker, 'conformance worker');
    assert.ok((await assertCleanWorker(worker, secrets, 'conformance worker')) > 100);
  });
});

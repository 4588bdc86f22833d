// Shared by live-security.test.mjs and live-shards.test.mjs (not a test file itself): signed
// webhooks, edge-style tickets (the test knows the app's secret key, so it can sign them as the
// edge does, or forge them), WebSocket upgrades that report how they ended, and the board
// object's own socket log lines, by which object invocations are counted.

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { assertNoSecrets, httpRequest, sleep } from './harness.mjs';
import { DEMO_KEY, DEMO_SDKAPPID } from './tokens.mjs';

export const URL_KEY = 'live-tests-url-key-0123456789abcdef0123';
export const WAIT_MS = 15_000;

/** POSTs a webhook proven by the URL key (or `query`), from `ip` when given. */
export function deliver(worker, body, { query = { key: URL_KEY }, ip, raw } = {}) {
  const params = new URLSearchParams({ SdkAppid: String(DEMO_SDKAPPID), CallbackCommand: body?.CallbackCommand ?? 'x', ...query });
  const headers = { 'content-type': 'application/json' };
  if (ip) headers['cf-connecting-ip'] = ip;
  return httpRequest(`${worker.url}/api/v1/webhooks/tencent?${params}`, {
    method: 'POST', headers, body: raw ?? JSON.stringify(body),
  });
}

export const startEvent = (callId, at, users = [['alice', 'Calling'], ['bob', 'Waiting']]) => ({
  CallbackCommand: 'Call.CallbackAfterStartCall',
  CallInfo: { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: '', RoomIdType: 1 },
  UserList: users.map(([u, s]) => ({ User_Account: u, Status: s })),
  EventTime: at,
});
export const memberEvent = (callId, at, present, changed = []) => ({
  CallbackCommand: 'Call.CallbackAfterMemberChanged',
  CallId: callId,
  UserList: present.map(([u, s]) => ({ User_Account: u, Status: s })),
  ChangedUserList: changed.map(([u, a]) => ({ User_Account: u, ActionType: a })),
  EventTime: at,
});
export const endEvent = (callId, at, callees = ['alice', 'bob']) => ({
  CallbackCommand: 'Call.CallbackAfterEndCall',
  CallRecord: {
    CallId: callId, Caller_Account: callees[0], MediaType: 'Audio', CallType: 'SingleCall',
    StartTime: Math.floor(at / 1000) - 10, EndTime: Math.floor(at / 1000), AcceptTime: 0,
    CallResult: 'NormalEnd', CalleeList_Account: callees, RoomId: '', RoomIdType: 1,
  },
  EventTime: at,
});

/** A page of the live board as `token` sees it, with `query` (limit, cursor, user, callId). */
export function boardPage(worker, token, query = {}) {
  const qs = new URLSearchParams(query).toString();
  return httpRequest(`${worker.url}/api/v1/live/calls${qs ? `?${qs}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
}

/** The whole live board as `token` sees it, page after page (each call once). */
export async function board(worker, token, query = {}) {
  const calls = [];
  for (let cursor; ;) {
    const res = await boardPage(worker, token, cursor ? { ...query, cursor } : query);
    assert.equal(res.status, 200, res.text);
    calls.push(...res.json.calls);
    cursor = res.json.nextCursor;
    if (!cursor) break;
  }
  const ids = calls.map((c) => c.callId);
  assert.equal(new Set(ids).size, ids.length, 'a call on two pages');
  return calls;
}

/** Tickets as `token` gets them. */
export async function tickets(worker, token) {
  const res = await httpRequest(`${worker.url}/api/v1/live/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

/**
 * A ticket signed as the edge signs them (src/live/tickets.rs): hex of
 * `01 ‖ nonce ‖ expires ‖ until ‖ shard ‖ admin ‖ user ‖ HMAC`. `key` other than the app's
 * secret, or `mac` given, makes a forgery.
 */
export function signTicket({ user = 'alice', admin = false, shard = 0, expiresMs = Date.now() + 30_000,
  untilMs = Date.now() + 3_600_000, key = DEMO_KEY, mac } = {}) {
  const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
  const shardBytes = Buffer.alloc(2);
  shardBytes.writeUInt16BE(shard);
  const payload = Buffer.concat([
    Buffer.from([1]), randomBytes(16), u64(expiresMs), u64(untilMs), shardBytes, Buffer.from([admin ? 1 : 0]), Buffer.from(user),
  ]);
  const signed = mac ?? createHmac('sha256', key).update('callkit-edge/live-ticket/v1\0').update(payload).digest();
  return Buffer.concat([payload, signed]).toString('hex');
}

/**
 * Opens `/api/v1/live?ticket=…`: `{ status, json }` when refused, or `{ ws, messages, closed, waitFor }`
 * once open (`closed` resolves to `{ code, reason }`).
 */
export function upgrade(worker, ticket, { headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${worker.port}/api/v1/live?ticket=${ticket}`, { headers });
    const messages = [];
    const closed = new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const text = data.toString();
      messages.push(text === 'pong' ? text : JSON.parse(text));
    });
    ws.once('open', () => {
      const waitFor = async (pred, label) => {
        for (const deadline = Date.now() + WAIT_MS; ; await sleep(50)) {
          const hit = messages.find(pred);
          if (hit) return hit;
          if (Date.now() > deadline) assert.fail(`no socket message ${label}: ${JSON.stringify(messages).slice(0, 500)}`);
        }
      };
      resolve({ ws, messages, closed, waitFor, status: 101 });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined }));
    });
    ws.once('error', (e) => reject(e));
  });
}

/** The board objects' socket lines so far: one per upgrade that reached an object. */
export function objectSocketLines(logText) {
  return (logText.match(/"kind":"board","event":"socket","outcome":"(opened|refused)"/g) ?? []);
}

/** workerd.log of a bare worker. */
export const bareLogs = (worker) => readFileSync(join(worker.dir, 'workerd.log'), 'utf8');

/** A bare-workerd suite's `after`: sweeps its answers and the worker's log for `secrets`, then stops both. */
export async function sweepAndStop({ worker, emulator, answers, secrets }) {
  try {
    for (const res of answers) assertNoSecrets(res, secrets, 'answer');
    if (worker) assertNoSecrets(bareLogs(worker), secrets, 'workerd.log');
  } finally {
    await worker?.stop();
    await emulator?.stop();
  }
}

/** `promise`, or a failure naming `label` after `ms`. */
export function within(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${label}`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually(fn, label, ms = WAIT_MS) {
  for (const deadline = Date.now() + ms; ; await sleep(100)) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${label}`);
  }
}

// What the relay suites share: the settings of a relaying worker, and
// webhooks delivered the way Tencent does (docs/relay.md).

import assert from 'node:assert/strict';
import { sendWebhook, sleep, webhookSign } from './harness.mjs';

export const TOKEN = 'relay-callback-token-0123456789abcdef';
export const URL_KEY = 'relay-url-key-fedcba9876543210-0123456789';
/** A Standard Webhooks secret: whsec_ + base64 of 32 bytes. */
export const FORWARD_SECRET = `whsec_${Buffer.from('relay-suite-secret-32-bytes-long').toString('base64')}`;
export const OTHER_SECRET = `whsec_${Buffer.from('some-other-secret-of-32-bytes-ok').toString('base64')}`;

export const sign = (time) => webhookSign(TOKEN, time);

/** The vars of a worker relaying to `sinks`. */
export function relayVars(sinks, extra = {}) {
  return {
    TENCENT_CALLBACK_TOKEN: TOKEN,
    WEBHOOK_URL_KEY: URL_KEY,
    WEBHOOK_FORWARD_URLS: sinks.map((s) => `${s.url}/hook`).join(','),
    WEBHOOK_FORWARD_SECRET: FORWARD_SECRET,
    ...extra,
  };
}

/** POSTs a webhook to `worker` as Tencent does; `raw` is sent as it is. */
export const deliver = (worker, body, options) => sendWebhook(worker, TOKEN, body, options);

export const startEvent = (callId, at = Date.now()) => ({
  CallbackCommand: 'Call.CallbackAfterStartCall',
  CallInfo: { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: '', RoomIdType: 1 },
  UserList: [
    { User_Account: 'alice', Status: 'Calling' },
    { User_Account: 'bob', Status: 'Waiting' },
  ],
  EventTime: at,
});

let serial = 0;
export const newCallId = (prefix = 'relay') => `${prefix}-${process.pid}-${Date.now()}-${serial++}`;

/** Delivers `n` start events, each accepted, and returns their call ids. */
export async function deliverMany(worker, n, prefix) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const callId = newCallId(prefix);
    const res = await deliver(worker, startEvent(callId));
    assert.equal(res.status, 200, res.text);
    ids.push(callId);
  }
  return ids;
}

/** The call ids a sink accepted (2xx), from the bodies it verified. */
export function acceptedCalls(sink) {
  return new Set(
    sink.received
      .filter((r) => r.status >= 200 && r.status < 300 && r.verified)
      .map((r) => JSON.parse(r.body).CallInfo?.CallId),
  );
}

/**
 * Waits until `sink` accepted every call of `callIds`, then checks what
 * at-least-once allows: every one there, nothing else, and each event
 * under one webhook-id. Returns the counts for the report.
 */
export async function assertAllOnce(sink, callIds, ms) {
  const want = new Set(callIds);
  await sink.waitUntil(() => [...want].every((id) => acceptedCalls(sink).has(id)), ms, `all ${want.size} events`);
  const mine = sink.received.filter((r) => want.has(JSON.parse(r.body).CallInfo?.CallId));
  assert.ok(mine.every((r) => r.verified), `${sink.label}: a delivery failed standardwebhooks verification`);
  const idsByCall = new Map();
  for (const r of mine) idsByCall.set(JSON.parse(r.body).CallInfo.CallId, new Set([...(idsByCall.get(JSON.parse(r.body).CallInfo.CallId) ?? []), r.id]));
  for (const [call, ids] of idsByCall) assert.equal(ids.size, 1, `${sink.label}: ${call} came under ${ids.size} webhook-ids`);
  const distinct = new Set(mine.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.id));
  assert.equal(distinct.size, want.size, `${sink.label}: distinct accepted webhook-ids`);
  const accepted = mine.filter((r) => r.status >= 200 && r.status < 300).length;
  return { events: want.size, attempts: mine.length, accepted, duplicates: accepted - distinct.size };
}

/** Polls `check` until it returns a truthy value. */
export async function eventually(check, label, ms = 20_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`${label}: not within ${ms} ms`);
    await sleep(250);
  }
}

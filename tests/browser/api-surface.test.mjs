// The browser-facing surface against the action table. A Rust test holds openapi.json to
// src/api/actions.rs; these hold the client module, its types and the console's advice to
// openapi.json, so adding an endpoint cannot leave one of them behind. Runs in Node.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../integration/harness.mjs';
import { CallKitEdgeClient } from '../../www/callkit-edge-client.js';

const doc = JSON.parse(readFileSync(join(ROOT, 'src', 'api', 'openapi.json'), 'utf8'));
const actions = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op['x-callkit-action']));

// The client method for each action; null where a browser has no business calling it
// through the client: the document it reads itself, and the webhook Tencent calls.
const CLIENT_METHOD = {
  health: 'health',
  openapi: null,
  get_call: 'getCall',
  end_call: 'endCall',
  start_call: 'startCall',
  get_record: 'getRecord',
  list_records: 'listRecords',
  get_callback: 'getCallback',
  set_callback: 'setCallback',
  delete_callback: 'deleteCallback',
  mint_usersig: 'mintUserSig',
  receive_webhook: null,
  live_calls: 'liveCalls',
  live_ticket: 'liveTicket',
  live_socket: 'subscribe',
  me: 'me',
  list_history: 'listHistory',
  history_stats: 'historyStats',
  export_history: 'exportHistory',
  start_backfill: 'startBackfill',
  backfill_status: 'backfillStatus',
  get_history_call: 'getHistoryCall',
  erase_history_user: 'eraseHistoryUser',
  relay_deliveries: 'relayDeliveries',
  redeliver: 'redeliver',
  receive_trtc_event: null,
};

test('every action has its client method, in the module and in its types', () => {
  assert.deepEqual([...actions].sort(), Object.keys(CLIENT_METHOD).sort(), 'the map covers exactly the documented actions');
  const types = readFileSync(join(ROOT, 'www', 'callkit-edge-client.d.ts'), 'utf8');
  for (const [action, method] of Object.entries(CLIENT_METHOD)) {
    if (!method) continue;
    assert.equal(typeof CallKitEdgeClient.prototype[method], 'function', `${action}: CallKitEdgeClient.${method}`);
    assert.match(types, new RegExp(`^  ${method}\\(`, 'm'), `${action}: ${method} in the .d.ts`);
  }
});

test('the console advises only on problem codes the API answers', () => {
  const codes = new Set(doc.components.schemas.Problem.properties.code.enum);
  const messages = readFileSync(join(ROOT, 'www', 'js', 'messages.js'), 'utf8');
  const table = messages.slice(messages.indexOf('const NEXT_BY_CODE = {'), messages.indexOf('};'));
  const advised = [...table.matchAll(/^\s+([a-z_]+):/gm)].map((m) => m[1]);
  assert.ok(advised.length > 5, `read ${advised.length} codes`);
  // The client's own codes: no answer arrived at all, or the live socket made way for a newer one.
  const clientCodes = ['network_error', 'socket_replaced'];
  for (const code of advised.filter((c) => !clientCodes.includes(c))) {
    assert.ok(codes.has(code), `messages.js advises on ${code}, which the API never answers`);
  }
});

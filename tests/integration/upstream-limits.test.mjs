// Upstream bodies are read with a cap (1 MiB): a declared length past it is
// refused unread, and a chunked or compressed body is dropped at the first
// byte past it. The emulator's `oversized` fault puts 2 MiB of JSON
// whitespace before a valid answer, so a worker without the cap would read
// it all and answer 200.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertCleanWorker,
  assertProblem,
  collectSecrets,
  startEmulator,
  startWorker,
} from './harness.mjs';
import { DEMO_KEY, mintUserSig } from './tokens.mjs';

const ADMIN = mintUserSig('admin1');

let emulator;
let worker;

before(async () => {
  emulator = await startEmulator();
  worker = await startWorker({ emulator });
});

after(async () => {
  await worker?.stop();
  await emulator?.stop();
});

beforeEach(async () => {
  await emulator.control.reset();
});

async function liveCall() {
  const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'] });
  return callId;
}

async function lookUp(callId) {
  return worker.request('GET', `/api/v1/calls/${callId}`, { token: ADMIN });
}

describe('upstream response bodies are capped', () => {
  test('the same answer without padding is read normally', async () => {
    const callId = await liveCall();
    const res = await lookUp(callId);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.callId, callId);
  });

  for (const gzip of [false, true]) {
    const how = gzip ? 'gzip-compressed (streamed)' : 'with a Content-Length';
    test(`a 2 MiB answer ${how} → 502 upstream_bad_response, not retried`, async () => {
      const callId = await liveCall();
      await emulator.control.faults({ kind: 'oversized', gzip, count: 5, command: 'get_call_info' });
      const res = await lookUp(callId);
      assertProblem(res, 502, 'upstream_bad_response');
      const { received } = await emulator.control.counters();
      assert.equal(received.get_call_info, 1, 'a body the edge refused to read is not asked for again');
      await emulator.control.clearFaults();
      assert.equal((await lookUp(callId)).status, 200, 'the next answer is read again');
    });
  }

  test('no answer or log line carries a secret', async () => {
    const secrets = collectSecrets({ secretKey: DEMO_KEY, userSigs: [ADMIN], emulatorUrl: emulator.url });
    assert.ok((await assertCleanWorker(worker, secrets)) >= 5);
  });
});

// Upstream bodies are read with a cap (1 MiB): a declared length past it is
// refused unread, and a chunked or compressed body is dropped at the first
// byte past it. The emulator's `oversized` fault puts 2 MiB of JSON
// whitespace before a valid answer, so a worker without the cap would read
// it all and answer 200.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  assertAuditTrail,
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
    await assertAuditTrail(worker);
    assert.ok((await assertCleanWorker(worker, secrets)) >= 5);
  });
});

describe("Tencent's text is never trusted into a header", () => {
  test('a RequestId with a line break stays in the body, and the answer is still the mapped error', async () => {
    const requestId = 'Id-1\r\nSet-Cookie: injected=1';
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: 101002, ErrorInfo: 'invalid parameter', RequestId: requestId }));
      });
    });
    await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
    const hostile = await startWorker({ emulator: `http://127.0.0.1:${upstream.address().port}` });
    try {
      const res = await hostile.request('GET', '/api/v1/calls/some-call', { token: ADMIN });
      const p = assertProblem(res, 400, 'upstream_invalid_parameter');
      assert.equal(p.requestId, requestId);
      assert.equal(res.headers['x-tencent-request-id'], undefined);
      assert.equal(res.headers['set-cookie'], undefined);
      const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
      const secrets = collectSecrets({ secretKey: DEMO_KEY, userSigs: [ADMIN], emulatorUrl: upstreamUrl });
      await assertAuditTrail(hostile, 'worker of the hostile upstream');
      assert.ok((await assertCleanWorker(hostile, secrets, 'worker of the hostile upstream')) > 0);
    } finally {
      await hostile.stop();
      upstream.close();
    }
  });
});

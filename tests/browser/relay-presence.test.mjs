// In Debian's Chromium, against the built worker: the relay panel (www/js/relay-panel.js),
// relaying to two local backends of which one fails (the failing URL is listed first and
// says so in words; Redeliver sends the event again once the backend is back), and TRTC room
// presence on the live board (www/js/live-panel.js): who is in the media room, camera and
// mic, in text. Every /api/ answer and the worker's log are swept at the end.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { launchChromium, recordApiAnswers } from './chromium.mjs';
import { ROOT, assertCleanWorker, collectSecrets, sentTokens, startEmulator, startWorker } from '../integration/harness.mjs';
import { DEMO_KEY, mintUserSig } from '../integration/tokens.mjs';
import { startSink } from '../integration/relay-sink.mjs';
import { createHmac } from 'node:crypto';
import { FORWARD_SECRET, TOKEN, URL_KEY, acceptedCalls, deliver, eventually, newCallId, relayVars, startEvent } from '../integration/relay-common.mjs';

const SHOTS = join(ROOT, 'tests', 'artifacts', 'screenshots');
const admin = mintUserSig('administrator');
const TRTC_KEY = 'browserTrtcKey0123456789';
const alice = mintUserSig('alice');

let emulator;
let worker;
let browser;
let good;
let bad;

before(async () => {
  await mkdir(SHOTS, { recursive: true });
  emulator = await startEmulator();
  good = await startSink({ secret: FORWARD_SECRET, label: 'good sink' });
  bad = await startSink({ secret: FORWARD_SECRET, label: 'failing sink' });
  bad.mode('fail');
  worker = await startWorker({ emulator, vars: relayVars([good, bad], { TRTC_CALLBACK_KEY: TRTC_KEY }) });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await worker?.stop();
  await emulator?.stop();
  await good?.stop();
  await bad?.stop();
});

/** A signed-in tab whose /api/ answers are recorded for the sweep. */
async function openConsole(token, identity, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const settled = recordApiAnswers(page, worker.responses);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.setDefaultTimeout(15_000);
  await page.goto(`${worker.url}/`);
  await page.getByLabel('Token', { exact: true }).fill(token);
  await page.locator('#sign-in-form').getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#session-status').filter({ hasText: `Signed in as ${identity}` }).waitFor();
  page.finish = async () => {
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
    await settled();
    await context.close();
  };
  return page;
}

test('failing URLs come first, in words, and Redeliver sends a dead-set event again', { timeout: 180_000 }, async () => {
  const callId = newCallId('panel');
  assert.equal((await deliver(worker, startEvent(callId))).status, 200);
  await good.waitUntil(() => acceptedCalls(good).has(callId), 10_000, callId);
  await bad.waitUntil(() => bad.received.some((r) => r.body.includes(callId)), 10_000, 'a failed attempt');

  const page = await openConsole(admin, 'administrator');
  await page.getByRole('button', { name: 'Refresh deliveries' }).click();
  const urls = page.locator('#relay-urls li');
  await eventually(async () => (await urls.count()) === 2, 'two backends listed');
  const first = urls.first();
  assert.equal(await first.getAttribute('data-url'), `${bad.url}/hook`, 'the failing URL first');
  assert.match(await first.innerText(), /^Failing/, 'failing, in words');
  assert.match(await urls.nth(1).innerText(), /^OK/);

  await page.getByLabel('Show').selectOption('retrying');
  const failedRow = page.locator('#relay-rows tr[data-status=retrying]').first();
  await failedRow.waitFor();
  assert.match(await failedRow.innerText(), /Retrying/);
  assert.match(await failedRow.innerText(), /HTTP 500/);
  const id = await failedRow.getAttribute('data-id');
  await page.screenshot({ path: join(SHOTS, 'relay-panel.png'), fullPage: true });

  bad.mode('ok');
  await page.getByRole('button', { name: `Redeliver ${id}` }).click();
  await page.locator('#relay-message').filter({ hasText: `Delivery ${id} is queued again.` }).waitFor();
  await bad.waitUntil(() => acceptedCalls(bad).has(callId), 20_000, 'the redelivered event');
  assert.equal(bad.received.filter((r) => r.status === 204 && r.id === id).length >= 1, true);
  await page.finish();
});

test('is usable 360 px wide, and every control in it has a name', { timeout: 60_000 }, async () => {
  const page = await openConsole(admin, 'administrator', { width: 360, height: 800 });
  await page.getByRole('button', { name: 'Refresh deliveries' }).click();
  await page.locator('#relay-rows tr').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${overflow} px of horizontal scrolling`);
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('#relay input, #relay select, #relay button')]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
    .map((el) => el.outerHTML.slice(0, 80)));
  assert.deepEqual(unnamed, []);
  await page.finish();
});

test('a member is told the log is for admins', { timeout: 60_000 }, async () => {
  const page = await openConsole(alice, 'alice');
  await page.getByRole('button', { name: 'Refresh deliveries' }).click();
  await page.locator('#relay-message [role=alert][data-code=forbidden]').waitFor();
  assert.match(await page.locator('#relay-message').innerText(), /administrators/);
  await page.finish();
});

/** A signed TRTC event, tab-formatted as Tencent sends it. */
async function trtc(type, user, room, at) {
  const body = JSON.stringify({ EventGroupId: Math.floor(type / 100), EventType: type, CallbackTs: at,
    EventInfo: { RoomId: room, EventTs: Math.floor(at / 1000), EventMsTs: at, UserId: user, Role: 20, TerminalType: 3, Reason: 1 } }, null, '\t');
  const res = await worker.request('POST', '/api/v1/webhooks/trtc', {
    body,
    headers: { 'content-type': 'application/json', SdkAppId: '1400000000', Sign: createHmac('sha256', TRTC_KEY).update(body).digest('base64') },
  });
  assert.equal(res.status, 200, res.text);
}

test('the live board shows who is in the media room, camera and mic, in words', { timeout: 90_000 }, async () => {
  const room = `${900_000 + (Date.now() % 10_000)}`;
  const callId = newCallId('presence');
  const start = startEvent(callId);
  start.CallInfo.RoomId = room;
  assert.equal((await deliver(worker, start)).status, 200);
  const page = await openConsole(admin, 'administrator');
  const row = page.locator(`#live-list li[data-call-id="${callId}"]`);
  await row.waitFor();
  const at = Date.now();
  await trtc(103, 'alice', room, at);
  await trtc(201, 'alice', room, at + 1);
  await trtc(203, 'alice', room, at + 2);
  await trtc(103, 'bob', room, at + 3);
  await trtc(203, 'bob', room, at + 4);
  await trtc(103, 'mallory', room, at + 5);
  const alice = row.locator('.presence[data-user=alice]');
  await alice.filter({ hasText: 'camera on' }).waitFor();
  assert.equal(await alice.innerText(), 'in room · 📷 camera on · 🎤 mic on');
  assert.equal(await row.locator('.presence[data-user=bob]').innerText(), 'in room · camera off · 🎤 mic on');
  assert.match(await row.locator('.member.guest').innerText(), /mallory not in the call · in room/);
  await trtc(104, 'bob', room, at + 6);
  await row.locator('.presence[data-user=bob]').filter({ hasText: 'not in room (left)' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'live-presence.png'), fullPage: true });
  await page.finish();
});

test("a call's history timeline tells its media room's events in words", { timeout: 90_000 }, async () => {
  const room = `${800_000 + (Date.now() % 10_000)}`;
  const callId = newCallId('room-history');
  const start = startEvent(callId);
  start.CallInfo.RoomId = room;
  start.UserList = [{ User_Account: 'rh-fay', Status: 'Calling' }, { User_Account: 'rh-gus', Status: 'Waiting' }];
  assert.equal((await deliver(worker, start)).status, 200);
  const at = Date.now();
  await trtc(103, 'rh-fay', room, at);
  await trtc(201, 'rh-fay', room, at + 1);
  await trtc(104, 'rh-fay', room, at + 2);
  await eventually(async () => {
    const res = await worker.request('GET', `/api/v1/history/${callId}`, { token: admin });
    return res.status === 200 && res.json.timeline.filter((e) => e.source === 'trtc').length === 3;
  }, 'the room events in the ledger');
  const page = await openConsole(admin, 'administrator');
  await page.locator('#history-user').fill('rh-fay');
  await page.getByRole('button', { name: 'Show history' }).click();
  await page.locator(`#history-rows tr[data-call-id="${callId}"]`).getByRole('button', { name: /^Timeline of call/ }).click();
  const items = page.locator('#history-timeline li');
  await items.filter({ hasText: 'entered the media room' }).waitFor();
  const texts = await items.allInnerTexts();
  for (const want of [/rh-fay entered the media room · TRTC room event/, /rh-fay turned the camera on · TRTC room event/,
    /rh-fay left the media room \(normal exit\) · TRTC room event/]) {
    assert.ok(texts.some((t) => want.test(t)), `${want} in:\n${texts.join('\n')}`);
  }
  const events = await items.evaluateAll((lis) => lis.map((li) => li.dataset.event));
  assert.deepEqual(events.filter((e) => e.includes('_')), ['room_entered', 'video_on', 'room_exited']);
  await page.screenshot({ path: join(SHOTS, 'history-room-timeline.png'), fullPage: true });
  await page.finish();
});

test('sweep: no answer or log line carries a secret', async () => {
  const secrets = collectSecrets({
    secretKey: DEMO_KEY,
    tokens: sentTokens(worker),
    emulatorUrl: emulator.url,
    extra: [TOKEN, URL_KEY, TRTC_KEY, FORWARD_SECRET, FORWARD_SECRET.slice('whsec_'.length)],
  });
  await assertCleanWorker(worker, secrets, 'relay and presence worker');
});

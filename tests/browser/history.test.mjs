// The console's History panel (the call ledger) in Debian's Chromium, driven by playwright-core,
// against the real stack: the emulator (seeded records, scripted calls sending signed webhooks)
// and the built worker under `wrangler dev` with its local D1. The ledger is filled the ways a
// deployment fills it: webhooks of calls the emulator runs, calls weeks old delivered as signed
// webhooks, and a backfill of the emulator's 7 days. Screenshots go to
// tests/artifacts/screenshots/history-*.png; answers and logs are swept for secrets at the end.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchChromium, recordApiAnswers } from './chromium.mjs';
import { ROOT, assertCleanWorker, startEmulator, startWorker } from '../integration/harness.mjs';
import { mintUserSig } from '../integration/tokens.mjs';
import { EMULATOR_OPTIONS, WORKER_VARS, configureBoard, deliverSigned, eventually, liveStackSecrets } from './live-stack.mjs';

const SHOTS = join(ROOT, 'tests', 'artifacts', 'screenshots');
const TEST_TIMEOUT = 120_000;
const DAY = 86_400_000;

// Each test signs in as its own identity: the per-identity rate limit (120 / 60 s) is then
// never what a test measures.
const ADMINS = ['hist-admin', 'hist-admin2', 'hist-admin3', 'hist-admin4', 'hist-admin5'];
const tokens = Object.fromEntries([...ADMINS, 'alice', 'erin'].map((u) => [u, mintUserSig(u)]));

/**
 * Calls weeks old, beyond Tencent's 7 days, delivered to the edge as Tencent would have:
 * signed start → member changed → end webhooks. [daysAgo, caller, callee, media, answered]
 */
const OLD_CALLS = [
  [12, 'alice', 'bob', 'Audio', true],
  [20, 'carol', 'dave', 'Video', false],
  [40, 'alice', 'carol', 'Video', true],
  [45, 'bob', 'dave', 'Audio', true],
  [80, 'dave', 'alice', 'Audio', false],
];

let emulator;
let worker;
let browser;
const oldCalls = [];

// ------------------------------------------------------------ the ledger's data

const deliver = (body) => deliverSigned(worker, body);

const members = (pairs) => pairs.map(([u, s]) => ({ User_Account: u, Status: s }));

/** One old call's three webhooks, start to end; returns what the ledger must then hold. */
async function deliverOldCall([daysAgo, caller, callee, media, answered]) {
  const callId = randomUUID();
  const start = Date.now() - daysAgo * DAY;
  const startSecs = Math.floor(start / 1000);
  const talkSecs = 95;
  await deliver({
    CallbackCommand: 'Call.CallbackAfterStartCall', EventTime: start,
    CallInfo: { CallId: callId, CallMediaType: media, ChatGroupId: '', RoomId: `room-${callId}`, RoomIdType: 2 },
    UserList: members([[caller, 'Calling'], [callee, 'Waiting']]),
  });
  await deliver({
    CallbackCommand: 'Call.CallbackAfterMemberChanged', CallId: callId, EventTime: start + 4000,
    UserList: members(answered ? [[caller, 'Calling'], [callee, 'Calling']] : [[caller, 'Calling']]),
    ChangedUserList: [{ User_Account: callee, ActionType: answered ? 'Answer' : 'Reject' }],
  });
  const endSecs = answered ? startSecs + 4 + talkSecs : startSecs + 4;
  await deliver({
    CallbackCommand: 'Call.CallbackAfterEndCall', EventTime: endSecs * 1000,
    CallRecord: {
      CallId: callId, Caller_Account: caller, MediaType: media, CallType: 'SingleCall',
      StartTime: startSecs, AcceptTime: answered ? startSecs + 4 : 0, EndTime: endSecs,
      CallResult: answered ? 'NormalEnd' : 'Reject', CalleeList_Account: [caller, callee],
      RoomId: `room-${callId}`, RoomIdType: 2,
    },
  });
  return { callId, daysAgo, caller, callee, media, result: answered ? 'NormalEnd' : 'Reject' };
}

/** A call the emulator runs now: alice calls erin, erin answers, then hangs up. */
async function emulatorCall() {
  const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['erin'], mediaType: 'Video' });
  await emulator.control.act(callId, 'answer', 'erin');
  await emulator.control.act(callId, 'hangup', 'erin');
  return callId;
}

const api = async (token, path) => {
  const res = await worker.request('GET', path, { token });
  assert.equal(res.status, 200, `GET ${path}: ${res.status} ${res.text}`);
  return res.json;
};

/** Every call of a filter through the API, following the cursors. */
async function allCalls(token, query) {
  const calls = [];
  for (let cursor = null, first = true; first || cursor; first = false) {
    const q = new URLSearchParams({ ...query, limit: '100', ...(cursor ? { cursor } : {}) });
    const page = await api(token, `/api/v1/history?${q}`);
    calls.push(...page.calls);
    cursor = page.nextCursor;
  }
  return calls;
}

before(async () => {
  await mkdir(SHOTS, { recursive: true });
  emulator = await startEmulator(EMULATOR_OPTIONS);
  await emulator.control.seed({ records: 30, liveCalls: 0 });
  worker = await startWorker({ emulator, vars: { ...WORKER_VARS, ADMIN_USERS: ADMINS.join(',') } });
  await configureBoard(worker, tokens['hist-admin']);
  for (const spec of OLD_CALLS) oldCalls.push(await deliverOldCall(spec));
  const live = await emulatorCall();
  // The emulator's 7 days of records, imported.
  const started = await worker.request('POST', '/api/v1/history/backfill', { token: tokens['hist-admin'] });
  assert.equal(started.status, 202, `backfill: ${started.status} ${started.text}`);
  await eventually(() => api(tokens['hist-admin'], '/api/v1/history/backfill'), (p) => p.state === 'done',
    { ms: 60_000, every: 500, label: 'the backfill' });
  await eventually(() => allCalls(tokens['hist-admin'], {}), (calls) =>
    [live, ...oldCalls.map((c) => c.callId)].every((id) => calls.some((c) => c.callId === id && c.state === 'ended')),
  { ms: 60_000, every: 500, label: 'every delivered call ended in the ledger' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await worker?.stop();
  await emulator?.stop();
});

// ------------------------------------------------------------ the page

/** A fresh tab, signed in as `user`, failing on page errors; every /api/ answer is recorded for the sweep. */
async function signedIn(user, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const settled = recordApiAnswers(page, worker.responses);
  page.done = async () => {
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
    await settled();
    await context.close();
  };
  await page.goto(`${worker.url}/`);
  await page.getByLabel('Token', { exact: true }).fill(tokens[user]);
  await page.locator('#sign-in-form').getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#session-status').filter({ hasText: `Signed in as ${user}` }).waitFor();
  // The panel shows the last 30 days by itself on sign-in.
  await page.locator('#history-chart svg').waitFor();
  return page;
}

/** The History panel alone, whole; with `viewport`, what the screen shows. */
const shot = (page, name, { viewport = false } = {}) => (viewport
  ? page.screenshot({ path: join(SHOTS, `history-${name}.png`) })
  : page.locator('#history').screenshot({ path: join(SHOTS, `history-${name}.png`) }));
const rowIds = (page) => page.locator('#history-rows tr[data-call-id]').evaluateAll((rows) => rows.map((r) => r.dataset.callId));

/** Sets the filters and submits; waits until the table and the stats show the new answer. */
async function filterBy(page, { period, from, to, user, result, media, limit } = {}) {
  if (period) await page.locator('#history-period').selectOption(period);
  if (from) await page.locator('#history-from').fill(from);
  if (to) await page.locator('#history-to').fill(to);
  if (user !== undefined) await page.locator('#history-user').fill(user);
  if (result !== undefined) await page.locator('#history-result').selectOption(result);
  if (media !== undefined) await page.locator('#history-media').selectOption(media);
  if (limit) await page.locator('#history-limit').selectOption(String(limit));
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/history/stats');
  await page.getByRole('button', { name: 'Show history' }).click();
  await answered;
  await page.locator('#history-chart svg').waitFor();
}

// ------------------------------------------------------------ tests

describe('History panel', { timeout: TEST_TIMEOUT * 8 }, () => {
  test('an admin sees calls beyond 7 days, filtered by period, user, result and media', { timeout: TEST_TIMEOUT }, async () => {
    const page = await signedIn('hist-admin');
    assert.equal(await page.locator('#history-scope').innerText(), 'All calls (admin)');
    const shown = await rowIds(page);
    const expected = (await allCalls(tokens['hist-admin'], { from: String(Date.now() - 30 * DAY) })).slice(0, 20).map((c) => c.callId);
    assert.deepEqual(shown, expected, 'the first page is the ledger\'s newest 20 of the last 30 days');
    for (const c of oldCalls) assert.equal(shown.includes(c.callId), false, 'older calls are further down or out of range');
    await shot(page, '01-admin-30-days');

    // 90 days: every old call, and none of them in the last 7 days.
    await filterBy(page, { period: '90', limit: 100 });
    const ids90 = await rowIds(page);
    for (const c of oldCalls) assert.ok(ids90.includes(c.callId), `${c.daysAgo} days ago is in the last 90 days`);
    await filterBy(page, { period: '7' });
    const ids7 = await rowIds(page);
    for (const c of oldCalls) assert.ok(!ids7.includes(c.callId), `${c.daysAgo} days ago is not in the last 7 days`);

    // user + result + media: alice's answered video calls over 90 days.
    await filterBy(page, { period: '90', user: 'alice', result: 'NormalEnd', media: 'Video' });
    const rows = page.locator('#history-rows tr[data-call-id]');
    const api90 = await allCalls(tokens['hist-admin'], { from: String(Date.now() - 90 * DAY), user: 'alice', result: 'NormalEnd', mediaType: 'Video' });
    assert.deepEqual(await rowIds(page), api90.map((c) => c.callId));
    assert.ok(api90.some((c) => c.callId === oldCalls[2].callId), 'alice → carol, 40 days ago, answered, video');
    for (const text of await rows.allInnerTexts()) {
      assert.match(text, /\balice\b/);
      assert.match(text, /NormalEnd/, 'the result is written out, not only coloured');
      assert.match(text, /Video/);
    }
    await shot(page, '02-admin-filtered');

    // A custom range of one day, 40 days back: exactly the call of that day.
    const ymd = new Date(Date.now() - 40 * DAY).toISOString().slice(0, 10); // the page runs in UTC
    await filterBy(page, { period: 'custom', from: ymd, to: ymd, user: '', result: '', media: '' });
    assert.deepEqual(await rowIds(page), [oldCalls[2].callId]);
    await page.locator('#history-from').fill(ymd);
    await page.locator('#history-to').fill('2020-01-01');
    await page.getByRole('button', { name: 'Show history' }).click();
    await page.locator('#history-range-error').filter({ hasText: 'start date must be on or before' }).waitFor();
    await page.done();
  });

  test('pages by cursor, older and back to newer, with the same rows as the API', { timeout: TEST_TIMEOUT }, async () => {
    const page = await signedIn('hist-admin2');
    await filterBy(page, { period: '90', limit: 10 });
    const every = (await allCalls(tokens['hist-admin2'], { from: String(Date.now() - 90 * DAY) })).map((c) => c.callId);
    assert.ok(every.length > 20, `${every.length} calls over 90 days: three pages at least`);
    const seen = [];
    assert.equal(await page.locator('#history-newer').isDisabled(), true);
    for (;;) {
      seen.push(...await rowIds(page));
      assert.ok(seen.length <= every.length, `paged past the ${every.length} calls: ${JSON.stringify(seen.slice(-12))}`);
      if (await page.locator('#history-older').isDisabled()) break;
      const label = await page.locator('#history-page-label').innerText();
      await page.getByRole('button', { name: 'Older →' }).click();
      await page.waitForFunction((was) => document.querySelector('#history-page-label').textContent !== was, label);
    }
    assert.deepEqual(seen, every, 'the pages, in order, are every call once, newest first');
    assert.equal(await page.locator('#history-page-label').innerText(), `Page ${Math.ceil(every.length / 10)}`);
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.locator('#history-page-label').filter({ hasText: new RegExp(`^Page ${Math.ceil(every.length / 10) - 1}$`) }).waitFor();
    const start = (Math.ceil(every.length / 10) - 2) * 10;
    assert.deepEqual(await rowIds(page), every.slice(start, start + 10));
    await shot(page, '03-paged');
    await page.done();
  });

  test('the chart and its table give the stats endpoint\'s per-day figures in text', { timeout: TEST_TIMEOUT }, async () => {
    const page = await signedIn('hist-admin3');
    await filterBy(page, { period: '90' });
    const stats = await api(tokens['hist-admin3'], `/api/v1/history/stats?${new URLSearchParams({
      from: String(Date.now() - 90 * DAY), bucket: 'day', tz: '+00:00' })}`);
    const total = stats.buckets.reduce((n, b) => n + b.calls, 0);
    assert.ok(total >= OLD_CALLS.length, `${total} ended calls in 90 days`);
    await page.locator('#history-chart-caption').filter({ hasText: `(${total} call` }).waitFor();
    const drawn = await page.locator('#history-chart rect[data-result]').evaluateAll((rects) =>
      rects.reduce((n, r) => n + Number(r.querySelector('title').textContent.split(': ').pop()), 0));
    assert.equal(drawn, stats.buckets.reduce((n, b) => n + Object.values(b.results).reduce((a, x) => a + x, 0), 0));
    // The same figures as text: the summary and one table row per day with calls.
    assert.match(await page.locator('#history-stats-summary').innerText(), new RegExp(`^${total} ended calls, \\d+ answered`));
    await page.getByText('The chart as a table').click();
    assert.equal(await page.locator('#history-stats-rows tr').count(), stats.buckets.length);
    const old = new Date(Date.now() - 40 * DAY).toISOString().slice(0, 10);
    const row = page.locator(`#history-stats-rows tr[data-day="${old}"]`);
    assert.match(await row.innerText(), /NormalEnd 1/);
    assert.match(await row.innerText(), /1 min 35 s/, 'the talk time of alice → carol, in words');
    await shot(page, '04-stats-table');
    await page.done();
  });

  test('opens a call\'s timeline: who was invited, answered, left, and the sources', { timeout: TEST_TIMEOUT }, async () => {
    const page = await signedIn('hist-admin4');
    await filterBy(page, { period: '90', user: 'bob', result: 'NormalEnd' });
    const target = oldCalls[3]; // bob → dave, 45 days ago, answered
    const button = page.locator(`#history-rows tr[data-call-id="${target.callId}"]`).getByRole('button', { name: /^Timeline of call/ });
    await button.click();
    await page.locator('#history-detail-heading').filter({ hasText: 'bob → dave' }).waitFor();
    const facts = await page.locator('#history-detail-facts').innerText();
    assert.match(facts, new RegExp(target.callId));
    assert.match(facts, /Result\s+NormalEnd/);
    assert.match(facts, /Talk time\s+1 min 35 s/);
    assert.match(facts, /start: webhook · end: webhook/);
    const items = await page.locator('#history-timeline li').allInnerTexts();
    const events = await page.locator('#history-timeline li').evaluateAll((lis) => lis.map((li) => li.dataset.event));
    assert.deepEqual(events.filter((e) => e !== 'left'), ['started', 'invited', 'joined', 'ended']);
    assert.ok(items.some((t) => /dave joined \(Answer\)/.test(t)), items.join('\n'));
    assert.ok(items.some((t) => /Call ended \(NormalEnd\)/.test(t)), items.join('\n'));
    await shot(page, '05-timeline');
    await page.keyboard.press('Escape');
    await page.locator('#history-detail').waitFor({ state: 'hidden' });
    assert.equal(await button.evaluate((el) => el === document.activeElement), true, 'focus back on its button');
    await page.done();
  });

  test('an admin downloads the range as CSV: the API\'s calls, one per row', { timeout: TEST_TIMEOUT }, async () => {
    const page = await signedIn('hist-admin5');
    await filterBy(page, { period: '90' });
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const download = await downloading;
    assert.match(download.suggestedFilename(), /^call-history-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.split('\r\n').filter(Boolean);
    assert.equal(lines[0], 'callId,state,startedAt,acceptedAt,endedAt,talkMs,caller,members,mediaType,callType,result,roomId,groupId,startSource,endSource,recordSource');
    const every = await allCalls(tokens['hist-admin5'], { from: String(Date.now() - 90 * DAY) });
    const ids = lines.slice(1).map((l) => l.split(',')[0]);
    for (const c of every.filter((x) => x.state === 'ended')) assert.ok(ids.includes(c.callId), `${c.callId} in the CSV`);
    await page.locator('#history-export-status').filter({ hasText: /Downloaded [\d.]+ KB of CSV/ }).waitFor();
    await page.done();
  });

  test('a member sees only her own calls, cannot widen the view, and has no export', { timeout: TEST_TIMEOUT }, async () => {
    const page = await signedIn('alice');
    assert.equal(await page.locator('#history-heading').innerText(), 'My call history');
    assert.equal(await page.locator('#history-scope').innerText(), 'My calls');
    assert.equal(await page.locator('#history-user').inputValue(), 'alice');
    assert.equal(await page.locator('#history-user').getAttribute('readonly'), '');
    assert.equal(await page.getByRole('button', { name: 'Export CSV' }).count(), 0);
    await filterBy(page, { period: '90', limit: 100 });
    const texts = await page.locator('#history-rows tr[data-call-id]').allInnerTexts();
    assert.ok(texts.length >= 3, `alice has ${texts.length} calls in 90 days`);
    for (const t of texts) assert.match(t, /\balice\b/, 'every row names her');
    const ids = await rowIds(page);
    assert.ok(!ids.includes(oldCalls[1].callId), 'carol → dave is not hers');
    assert.ok(ids.includes(oldCalls[4].callId), 'dave → alice is');
    await shot(page, '06-member');
    await page.done();
  });

  test('is usable 360 px wide: filters, rows, chart and timeline without sideways scrolling', { timeout: TEST_TIMEOUT }, async () => {
    const page = await signedIn('erin', { width: 360, height: 780 });
    await page.locator('#history').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shot(page, '07-mobile-360', { viewport: true });
    await page.locator('#history-rows tr[data-call-id]').first().getByRole('button', { name: /^Timeline of call/ }).click();
    await page.locator('#history-timeline li').first().waitFor();
    await page.locator('#history-detail').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shot(page, '08-mobile-360-timeline', { viewport: true });
    await page.getByText('The chart as a table').click();
    const widths = await page.evaluate(() => ({
      doc: document.documentElement.scrollWidth,
      panel: document.querySelector('#history').getBoundingClientRect().right,
      chart: document.querySelector('#history-chart svg').getBoundingClientRect().right,
    }));
    assert.ok(widths.doc <= 360, `the page scrolls sideways: ${widths.doc}px`);
    assert.ok(widths.panel <= 360, `the panel overflows: ${widths.panel}px`);
    assert.ok(widths.chart <= 360, `the chart overflows: ${widths.chart}px`);
    // Every control of the panel has an accessible name.
    const unnamed = await page.locator('#history').evaluate((root) => [...root.querySelectorAll('button, input, select')]
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
      .map((el) => el.outerHTML.slice(0, 80)));
    assert.deepEqual(unnamed, []);
    await shot(page, '09-mobile-360-panel');
    await page.done();
  });

  test('sweep: no answer to the pages or the test, and no log line, carries a secret', { timeout: TEST_TIMEOUT }, async () => {
    await assertCleanWorker(worker, liveStackSecrets(worker, emulator), 'history worker');
  });
});

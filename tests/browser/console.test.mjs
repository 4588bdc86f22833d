// End-to-end tests of the console (www/) in Debian's Chromium, driven by playwright-core,
// against the real stack: the emulator seeded with demo data and the built worker under
// `wrangler dev`, which serves www/ and /api/*. Each step saves a screenshot to
// tests/artifacts/screenshots/. Every /api/ answer the pages receive is recorded with the
// worker's own (`worker.responses`), and all of them, and the worker's log, are swept for
// leaked secrets at the end.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { launchChromium, recordApiAnswers as sharedRecorder } from './chromium.mjs';
import WebSocket from 'ws';
import {
  ROOT,
  assertAuditTrail,
  assertCleanWorker,
  sleep,
  startEmulator,
  startWorker,
  within,
} from '../integration/harness.mjs';
import { mintUserSig, verifyUserSig } from '../integration/tokens.mjs';
import { EMULATOR_OPTIONS, WORKER_VARS, configureBoard, deliverSigned, eventually, liveStackSecrets } from './live-stack.mjs';

const SHOTS = join(ROOT, 'tests', 'artifacts', 'screenshots');
const UI_TIMEOUT = 15_000;
// wrangler.toml's [[ratelimits]] period.
const RATE_PERIOD_SECS = 60;
const TEST_TIMEOUT = 90_000;

let emulator;
let worker;
let browser;
let seeded;
const admin = mintUserSig('administrator');
const alice = mintUserSig('alice');
// The records test reads many pages for its chart; an admin of its own keeps it
// clear of the per-identity rate limit (120 / 60 s) the other tests share.
const recordsAdmin = mintUserSig('admin1');
// The live-board tests configure the callback and poll the board from Node as an admin of
// their own, so the polling does not eat into the pages' rate limit.
const boardAdmin = mintUserSig('admin2');

before(async () => {
  await mkdir(SHOTS, { recursive: true });
  // Webhooks signed with a secret the worker knows, so the live board can receive them.
  emulator = await startEmulator(EMULATOR_OPTIONS);
  seeded = await emulator.control.seed({ records: 50, liveCalls: 3 });
  worker = await startWorker({ emulator, vars: { ...WORKER_VARS, ADMIN_USERS: 'administrator,admin1,admin2' } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await worker?.stop();
  await emulator?.stop();
});

// ------------------------------------------------------------ helpers

/** Records the page's answers for the sweep (`chromium.mjs`); `page.answersRecorded()` waits for them. */
function recordApiAnswers(page) {
  page.answersRecorded = sharedRecorder(page, worker.responses, { problemsToo: true });
}

/**
 * A fresh tab (sessionStorage is per tab, so it starts signed out), failing on page errors.
 * `fakeClock`: the page's timers and Date run on Playwright's clock (`page.clock`), which
 * flows in real time until paused.
 */
async function openConsole({ width = 1280, height = 900, fakeClock = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  recordApiAnswers(page);
  if (fakeClock) await page.clock.install();
  page.setDefaultTimeout(UI_TIMEOUT);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${worker.url}/`);
  await page.locator('#health-region').filter({ hasNotText: '…' }).waitFor();
  page.pageErrors = errors;
  return page;
}

async function signIn(page, token, identity) {
  await page.getByLabel('Token', { exact: true }).fill(token);
  await page.locator('#sign-in-form').getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#session-status').filter({ hasText: `Signed in as ${identity}` }).waitFor();
}

async function shot(page, name, fullPage = true) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

async function closePage(page) {
  assert.deepEqual(page.pageErrors, [], 'no uncaught errors in the page');
  await page.answersRecorded();
  await page.context().close();
}

async function lookUp(page, callId) {
  await page.getByLabel('CallId').fill(callId);
  await page.getByRole('button', { name: 'Look up' }).click();
}

const memberRows = (page) => page.locator('#call-members tr');

async function members(page) {
  return (await memberRows(page).allInnerTexts()).map((t) => t.split('\t').map((s) => s.trim()));
}

const counters = () => emulator.control.counters();

async function waitUntil(check, ms = UI_TIMEOUT, label = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${label}`);
    await sleep(200);
  }
}

/**
 * Presses Tab from the top of the page past every visible, enabled control,
 * noting each one that takes focus and whether it shows an outline. Returns
 * how many there are, the controls never reached and those reached without
 * a visible outline.
 */
async function tabThroughControls(page) {
  const count = await page.evaluate(() => {
    // Native controls count even with a negative tabindex (that would hide them from the
    // keyboard); other elements only when they opt in with tabindex >= 0.
    const controls = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
      .filter((el) => el.offsetParent !== null && !el.disabled)
      .filter((el) => el.matches('a[href], button, input, select, textarea') || el.tabIndex >= 0);
    controls.forEach((el, i) => { el.dataset.tabProbe = String(i); });
    document.activeElement?.blur();
    return controls.length;
  });
  const reached = new Map();
  for (let i = 0; i < count + 5; i += 1) {
    await page.keyboard.press('Tab');
    const [probe, outline] = await page.evaluate(() => [
      document.activeElement?.dataset.tabProbe, getComputedStyle(document.activeElement).outlineStyle]);
    if (probe !== undefined) reached.set(probe, outline);
  }
  return page.evaluate(([seen]) => {
    const describe = (el) => el.outerHTML.slice(0, 80);
    const all = [...document.querySelectorAll('[data-tab-probe]')];
    return {
      total: all.length,
      unreached: all.filter((el) => !(el.dataset.tabProbe in seen)).map(describe),
      unoutlined: all.filter((el) => seen[el.dataset.tabProbe] === 'none').map(describe),
    };
  }, [Object.fromEntries(reached)]);
}

const liveRow = (page, callId) => page.locator(`#live-list li[data-call-id="${callId}"]`);
const liveMember = (row, user) => row.locator('.member').filter({ has: row.page().locator('.member-id', { hasText: new RegExp(`^${user}$`) }) });

/** Waits until the board of `page` is connected (the indicator says so). */
async function boardOpen(page, timeout = UI_TIMEOUT) {
  await page.locator('#live-connection[data-state=open]').waitFor({ timeout });
}

/** The board as an admin sees it through the API (from Node, as `boardAdmin`). */
async function boardCalls() {
  const res = await worker.request('GET', '/api/v1/live/calls', { token: boardAdmin });
  assert.equal(res.status, 200, res.text);
  return res.json.calls;
}

/** A live socket of the bearer of `token`, opened from Node with a ticket (as another window would). */
async function openUserSocket(token) {
  const ticket = await worker.request('POST', '/api/v1/live/ticket', { token });
  assert.equal(ticket.status, 200, ticket.text);
  const ws = new WebSocket(`${worker.url.replace(/^http/, 'ws')}/api/v1/live?ticket=${ticket.json.ticket}`);
  await within(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), UI_TIMEOUT, 'a socket to open');
  return ws;
}

/** Seconds in a formatted duration ("1 min 5 s", "12 s"). */
function seconds(text) {
  const m = text.match(/(?:(\d+) min )?(\d+) s/);
  assert.ok(m, `a duration: ${text}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
}

// ------------------------------------------------------------ tests

describe('console', { timeout: TEST_TIMEOUT * 18 }, () => {
  test('shows health signed out, then signs in with a pasted admin token', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openConsole();
    const health = (await worker.request('GET', '/api/v1/health')).json;
    assert.equal(await page.locator('#health-region').innerText(), health.region);
    assert.equal(await page.locator('#health-sdkappid').innerText(), '1400000000');
    assert.equal(await page.locator('#health-auth').innerText(), 'usersig');
    assert.match(await page.locator('#health-credential').innerText(), /Secret key/);
    assert.match(await page.locator('#health-expiry').innerText(), /^(in \d|Renewed automatically)/);
    assert.equal(await page.locator('#call').isVisible(), false, 'signed-in panels hidden');
    await shot(page, '01-signed-out');

    await signIn(page, admin, 'administrator');
    assert.equal(await page.locator('#sign-in').isVisible(), false);
    assert.equal(await page.locator('#call').isVisible(), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('callkit-edge.token')), admin);
    await shot(page, '02-signed-in-admin');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#session-status').filter({ hasText: 'Not signed in' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('callkit-edge.token')), null);
    assert.equal(await page.locator('#token-input').evaluate((el) => el === document.activeElement), true,
      'focus returns to the token field');
    await closePage(page);
  });

  test('offers the demo tokens from /dev-tokens.json as one-click sign-in', { timeout: TEST_TIMEOUT }, async () => {
    const context = await browser.newContext();
    // `make dev` writes this file into www/; serve the same shape without touching the tree.
    await context.route('**/dev-tokens.json', (route) => route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({ tokens: [
        { label: 'Demo admin (administrator)', token: admin },
        { label: 'alice', token: alice },
      ] }),
    }));
    const page = await context.newPage();
    recordApiAnswers(page);
    page.setDefaultTimeout(UI_TIMEOUT);
    await page.goto(`${worker.url}/`);
    await page.getByRole('button', { name: 'Sign in as alice' }).click();
    await page.locator('#session-status').filter({ hasText: 'Signed in as alice' }).waitFor();
    await page.answersRecorded();
    await context.close();
  });

  test('looks up a live call, follows it live, and says when it ended', { timeout: TEST_TIMEOUT }, async () => {
    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'], mediaType: 'Video', roomId: 'room-e2e' });
    const page = await openConsole({ fakeClock: true });
    await signIn(page, admin, 'administrator');
    await lookUp(page, callId);
    await page.locator('#call-live').filter({ hasText: 'Live' }).waitFor();
    assert.equal(await page.locator('#call-result-id').innerText(), callId);
    assert.equal(await page.locator('#call-media').innerText(), 'Video');
    assert.match(await page.locator('#call-room').innerText(), /room-e2e/);
    assert.deepEqual(await members(page), [['alice', 'Calling'], ['bob', 'Waiting']]);
    await shot(page, '03-call-live');

    // Auto-refresh: bob answers on the emulator side and the page follows.
    await emulator.control.act(callId, 'answer', 'bob');
    await page.locator('#call-members tr', { hasText: 'bob' }).filter({ hasText: 'Calling' }).waitFor();

    // The caller hangs up: the call ends upstream and the next refresh (a 404) says so.
    await emulator.control.act(callId, 'hangup', 'alice');
    await page.locator('#call-message').filter({ hasText: 'The call has ended.' }).waitFor();
    assert.equal(await page.locator('#call-live').innerText(), 'Ended');
    assert.equal(await page.locator('#call-end').isDisabled(), true);
    await shot(page, '04-call-ended-upstream');

    // Polling stopped: three refresh periods pass on the page's clock, and the page asks nothing.
    const lookups = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === `/api/v1/calls/${callId}`) lookups.push(r.url()); });
    const before = (await counters()).received.get_call_info;
    await page.clock.runFor(3 * 3_000 + 500);
    // A request the page sends after the timers ran: one they started would have gone out before it.
    assert.equal(await page.evaluate(async () => (await fetch('/api/v1/health')).status), 200);
    assert.deepEqual(lookups, [], 'refresh stops after the 404');
    assert.equal((await counters()).received.get_call_info, before, 'refresh stops after the 404');
    await closePage(page);
  });

  test('ends a call through the confirmation dialog (Escape cancels)', { timeout: TEST_TIMEOUT }, async () => {
    const { callId } = await emulator.control.createCall({ caller: 'carol', callees: ['dave', 'erin'], mediaType: 'Audio' });
    const page = await openConsole();
    await signIn(page, admin, 'administrator');
    await lookUp(page, callId);
    await page.locator('#call-live').filter({ hasText: 'Live' }).waitFor();
    const start = await counters();

    const dialog = page.getByRole('dialog', { name: 'End this call?' });
    await page.getByRole('button', { name: 'End call…' }).click();
    await dialog.waitFor();
    assert.equal(await page.locator('#confirm-cancel').evaluate((el) => el === document.activeElement), true,
      'the safe choice has focus');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.getByRole('button', { name: 'End call…' }).evaluate((el) => el === document.activeElement), true,
      'focus returns to the button');
    assert.equal((await counters()).received.end_call, start.received.end_call, 'Escape sent nothing');

    await page.getByRole('button', { name: 'End call…' }).click();
    await dialog.waitFor();
    assert.match(await dialog.innerText(), new RegExp(callId));
    await shot(page, '05-end-call-dialog', false);
    await dialog.getByRole('button', { name: 'End call' }).click();
    await page.locator('#call-message').filter({ hasText: 'Call ended.' }).waitFor();
    assert.equal(await page.locator('#call-live').innerText(), 'Ended');
    await shot(page, '06-call-ended');

    const end = await counters();
    assert.equal(end.succeeded.end_call - start.succeeded.end_call, 1, 'exactly one end_call succeeded');
    assert.equal(end.received.end_call - start.received.end_call, 1, 'exactly one end_call was sent');
    const upstream = await emulator.control.call(callId);
    assert.equal(upstream.state, 'ended', 'the call ended upstream');
    assert.deepEqual(upstream.members, []);
    await closePage(page);
  });

  test('filters and pages records, draws the chart and opens a record', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openConsole();
    await signIn(page, recordsAdmin, 'admin1');
    const api = async (query) => (await worker.request('GET', `/api/v1/records?${query}`, { token: recordsAdmin })).json;

    await page.getByRole('button', { name: 'Show records' }).click();
    await page.locator('#records-chart svg').waitFor();
    const all = await api('perPage=100');
    assert.ok(all.total >= seeded.records, `seeded ${seeded.records}, edge says ${all.total}`);
    const pages20 = Math.ceil(all.total / 20);
    assert.equal(await page.locator('#records-page-label').innerText(), `Page 1 of ${pages20}`);
    assert.match(await page.locator('#records-summary').innerText(), new RegExp(`^${all.total} records`));
    assert.equal(await page.locator('#records-rows tr').count(), 20);
    assert.equal(await page.getByRole('button', { name: '← Previous' }).isDisabled(), true);

    // The chart's segments add up to every record in the range, and each day's bar is
    // the records that started that day.
    const chartTotal = await page.locator('#records-chart rect[data-result]').evaluateAll((rects) =>
      rects.reduce((sum, r) => sum + Number(r.querySelector('title').textContent.split(': ').pop()), 0));
    assert.equal(chartTotal, all.total);
    assert.ok(await page.locator('#records-chart .bar').count() >= 7, 'a bar slot per day of the week');
    await shot(page, '07-records');

    await page.getByRole('button', { name: 'Next →' }).click();
    await page.locator('#records-page-label').filter({ hasText: `Page 2 of ${pages20}` }).waitFor();
    const firstOnPage2 = await page.locator('#records-rows tr').first().innerText();
    assert.equal(await page.getByRole('button', { name: '← Previous' }).isDisabled(), false);

    // Page size 10 and a result filter, cross-checked with the edge API.
    await page.getByLabel('Page size').selectOption('10');
    await page.getByLabel('Result').selectOption('NormalEnd');
    await page.getByRole('button', { name: 'Show records' }).click();
    const normal = await api('result=NormalEnd&perPage=10');
    assert.ok(normal.total > 0 && normal.total < all.total);
    await page.locator('#records-page-label').filter({ hasText: `Page 1 of ${Math.ceil(normal.total / 10)}` }).waitFor();
    const results = await page.locator('#records-rows tr td:nth-child(6)').allInnerTexts();
    assert.equal(results.length, Math.min(10, normal.total));
    assert.ok(results.every((r) => r.trim() === 'NormalEnd'), `only NormalEnd rows: ${results}`);
    // The chart loads after the table (it reads every page): wait for it to count the filtered calls.
    await page.locator('#records-chart-caption').filter({ hasText: `(${normal.total} call` }).waitFor();
    const kinds = await page.locator('#records-chart rect[data-result]').evaluateAll((rects) =>
      [...new Set(rects.map((r) => r.dataset.result))]);
    assert.deepEqual(kinds, ['NormalEnd']);
    assert.notEqual(await page.locator('#records-rows tr').first().innerText(), firstOnPage2);

    // Type filter: group calls only.
    await page.getByLabel('Result').selectOption('');
    await page.getByLabel('Type').selectOption('MultiCall');
    await page.getByRole('button', { name: 'Show records' }).click();
    const multi = await api('type=MultiCall&perPage=10');
    await page.locator('#records-summary').filter({ hasText: new RegExp(`^${multi.total} record`) }).waitFor();
    const types = await page.locator('#records-rows tr td:nth-child(4)').allInnerTexts();
    assert.ok(types.length > 0 && types.every((t) => t.trim() === 'Group'), `only group calls: ${types}`);
    await shot(page, '08-records-filtered');

    // Detail view of the first row.
    const expected = multi.records[0];
    await page.locator('#records-rows tr').first().getByRole('button', { name: /^Details of call/ }).click();
    await page.locator('#record-detail-facts').filter({ hasText: expected.caller }).waitFor();
    const detail = await page.locator('#record-detail-facts').innerText();
    assert.match(detail, new RegExp(expected.callId));
    assert.match(detail, new RegExp(expected.result));
    assert.match(detail, /Group \(MultiCall\)/);
    await shot(page, '09-record-detail');
    await page.getByRole('button', { name: 'Close' }).click();
    assert.equal(await page.locator('#record-detail').isVisible(), false);
    await closePage(page);
  });

  test('saves, loads and deletes the webhook configuration', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openConsole();
    await signIn(page, admin, 'administrator');
    const hook = 'http://127.0.0.1:9/callkit-events';

    await page.getByRole('button', { name: 'Load' }).click();
    await page.locator('#webhook-message').filter({ hasText: 'No webhook is configured' }).waitFor();

    await page.getByLabel('Callback URL').fill('ftp://nope');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#webhook-url-error').filter({ hasText: 'http:// or https://' }).waitFor();

    await page.getByLabel('Callback URL').fill(hook);
    await page.getByLabel(/Call started/).check();
    await page.getByLabel(/Call ended/).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#webhook-message').filter({ hasText: 'Webhook saved.' }).waitFor();
    const saved = (await worker.request('GET', '/api/v1/callback', { token: admin })).json;
    assert.equal(saved.url, hook);
    assert.deepEqual([...saved.commands].sort(), ['Call.CallbackAfterEndCall', 'Call.CallbackAfterStartCall']);

    await page.reload();
    await page.getByRole('button', { name: 'Load' }).click();
    await page.locator('#webhook-message').filter({ hasText: 'Loaded' }).waitFor();
    assert.equal(await page.getByLabel('Callback URL').inputValue(), hook);
    assert.equal(await page.getByLabel(/Call started/).isChecked(), true);
    assert.equal(await page.getByLabel(/Member changed/).isChecked(), false);
    await shot(page, '10-webhook');

    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('dialog', { name: 'Delete the webhook?' }).getByRole('button', { name: 'Delete webhook' }).click();
    await page.locator('#webhook-message').filter({ hasText: 'Webhook deleted.' }).waitFor();
    const gone = await worker.request('GET', '/api/v1/callback', { token: admin });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.code, 'callback_not_configured');
    await closePage(page);
  });

  test('a member cannot see a call she is not in: the same 404 as a missing call', { timeout: TEST_TIMEOUT }, async () => {
    const { callId } = await emulator.control.createCall({ caller: 'bob', callees: ['carol'], mediaType: 'Audio' });
    const mine = await emulator.control.createCall({ caller: 'alice', callees: ['dave'], mediaType: 'Audio' });
    const page = await openConsole();
    await signIn(page, alice, 'alice');

    // Her own call is visible.
    await lookUp(page, mine.callId);
    await page.locator('#call-live').filter({ hasText: 'Live' }).waitFor();
    assert.deepEqual((await members(page)).map(([u]) => u), ['alice', 'dave']);

    const errorOf = async (id) => {
      await lookUp(page, id);
      const alert = page.locator('#call-message .alert.error');
      await alert.waitFor();
      await waitUntil(async () => (await page.locator('#call-result').isVisible()) === false, UI_TIMEOUT, 'result hidden');
      return {
        status: await alert.getAttribute('data-status'),
        code: await alert.getAttribute('data-code'),
        // The visible message, without the RequestId line (it differs per request).
        text: (await alert.locator('p:not(.meta)').allInnerTexts()).join('\n'),
      };
    };
    const notMine = await errorOf(callId);
    await shot(page, '11-member-not-found');
    const missing = await errorOf(randomUUID());
    assert.equal(notMine.status, '404');
    assert.equal(notMine.code, 'call_not_found');
    assert.deepEqual(notMine, missing, 'indistinguishable from a call that does not exist');
    assert.match(notMine.text, /Check the CallId/);
    await closePage(page);
  });

  test('a non-admin gets a clear 403 for admin-only actions', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openConsole();
    await signIn(page, alice, 'alice');

    await page.getByRole('button', { name: 'Show records' }).click();
    const recordsError = page.locator('#records-message .alert.error');
    await recordsError.waitFor();
    assert.equal(await recordsError.getAttribute('data-status'), '403');
    assert.match(await recordsError.innerText(), /\(403\)/);
    assert.match(await recordsError.innerText(), /Only administrators can do this.*Ask an admin/s);
    assert.equal(await page.locator('#records-body').isVisible(), false);

    await page.getByRole('button', { name: 'Load' }).click();
    const hookError = page.locator('#webhook-message .alert.error');
    await hookError.waitFor();
    assert.equal(await hookError.getAttribute('data-status'), '403');
    assert.match(await hookError.innerText(), /Ask an admin/);
    await shot(page, '12-member-forbidden');
    await closePage(page);
  });

  test('mints My UserSig, shows its expiry and copies it', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openConsole();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: worker.url });
    // A minted sig never outlives the token that asked for it, so sign in
    // with one that outlives the default TTL.
    await signIn(page, mintUserSig('alice', { expire: 7 * 86_400 }), 'alice');
    const before = Math.floor(Date.now() / 1000);
    await page.getByRole('button', { name: 'Mint my UserSig' }).click();
    await page.locator('#usersig-result').waitFor();

    assert.equal(await page.locator('#usersig-user').innerText(), 'alice');
    assert.equal(await page.locator('#usersig-sdkappid').innerText(), '1400000000');
    const sig = await page.getByLabel('UserSig', { exact: true }).inputValue();
    const verified = verifyUserSig(sig, { identifier: 'alice' });
    assert.ok(verified.ok, `a valid UserSig for alice (${verified.reason})`);
    const expiresAt = verified.doc['TLS.time'] + verified.doc['TLS.expire'];
    assert.ok(expiresAt >= before + 86_400 - 5 && expiresAt <= before + 86_400 + 60, 'USERSIG_TTL_SECS default: 1 day');
    // 86400 s ahead: the countdown reads "in 23 h 59 min …" (or 1 d when the clock rounds up).
    assert.match(await page.locator('#usersig-expiry').innerText(), /\(in (23 h 59 min|1 d 0 h 0 min)/);

    await page.getByRole('button', { name: 'Copy to clipboard' }).click();
    await page.locator('#usersig-copied').filter({ hasText: 'Copied.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), sig);
    await shot(page, '13-my-usersig');
    await closePage(page);
  });

  test('a token the edge refuses asks the user to sign in again', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openConsole();
    const expired = mintUserSig('alice', { time: Math.floor(Date.now() / 1000) - 7200, expire: 3600 });
    await signIn(page, expired, 'alice');
    await page.getByRole('button', { name: 'Mint my UserSig' }).click();
    const alert = page.locator('#usersig-message .alert.error');
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-status'), '401');
    assert.match(await alert.innerText(), /Sign in again/);
    await shot(page, '14-sign-in-again');
    await alert.getByRole('button', { name: 'Sign in again' }).click();
    await page.locator('#sign-in').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('callkit-edge.token')), null);
    await closePage(page);
  });

  test('over the rate limit, the error says when to retry', { timeout: TEST_TIMEOUT }, async () => {
    // The limit is per identity (120 / 60 s by default): use up erin's from Node first.
    // The local limiter counts in fixed windows aligned to the clock: start well inside
    // one, so the page's request meets the same window.
    const intoWindow = Date.now() % (RATE_PERIOD_SECS * 1000);
    if (intoWindow > (RATE_PERIOD_SECS - 20) * 1000) await sleep(RATE_PERIOD_SECS * 1000 - intoWindow + 100);
    const erin = mintUserSig('erin');
    let limited = null;
    for (let i = 0; i < 200 && !limited; i += 1) {
      const res = await worker.request('POST', '/api/v1/usersig', { token: erin });
      if (res.status === 429) limited = res;
    }
    assert.ok(limited, 'the edge rate-limits a busy identity');
    const page = await openConsole({ fakeClock: true });
    await signIn(page, erin, 'erin');
    // Stop the page's clock, so the countdown reads exactly what the answer said until told to move.
    await page.clock.pauseAt(Date.now() + 1000);
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/usersig') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Mint my UserSig' }).click();
    // The edge says how long to wait: whole seconds, within the limiter's period.
    assert.equal((await answer).status(), 429, 'the page meets the limit too');
    const retryAfter = (await answer).headers()['retry-after'];
    assert.match(retryAfter ?? '', /^[1-9]\d*$/, `Retry-After: ${retryAfter}`);
    assert.ok(Number(retryAfter) <= RATE_PERIOD_SECS, `Retry-After: ${retryAfter}`);
    const alert = page.locator('#usersig-message .alert.error');
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-status'), '429');
    assert.equal(await alert.getAttribute('data-code'), 'rate_limited');
    // The console counts down from exactly that many seconds, one a second.
    const countdown = (left) => (left > 0 ? `Too many requests. Retry in ${left} s.` : 'You can retry now.');
    const nextStep = alert.locator('.next-step');
    assert.equal(await nextStep.innerText(), countdown(Number(retryAfter)));
    await page.clock.runFor(1000);
    assert.equal(await nextStep.innerText(), countdown(Number(retryAfter) - 1));
    await shot(page, '15-rate-limited');
    await closePage(page);
  });

  test('is usable 360 px wide, without horizontal scrolling', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openConsole({ width: 360, height: 780 });
    await shot(page, '16-mobile-360-signed-out');
    await signIn(page, admin, 'administrator');
    await lookUp(page, seeded.liveCalls[0]);
    await page.locator('#call-live').filter({ hasText: 'Live' }).waitFor();
    await page.getByRole('button', { name: 'Show records' }).click();
    await page.locator('#records-chart svg').waitFor();
    const widths = await page.evaluate(() => ({
      doc: document.documentElement.scrollWidth,
      chart: document.querySelector('#records-chart svg').getBoundingClientRect().right,
    }));
    assert.ok(widths.doc <= 360, `page scrolls sideways: ${widths.doc}px`);
    assert.ok(widths.chart <= 360, `chart overflows: ${widths.chart}px`);
    // Every control can be reached and is visibly focused from the keyboard.
    const { total, unreached, unoutlined } = await tabThroughControls(page);
    assert.ok(total > 10, `only ${total} controls found`);
    assert.deepEqual(unreached, [], 'controls Tab never reaches');
    assert.deepEqual(unoutlined, [], 'controls focused without a visible outline');
    await shot(page, '17-mobile-360');
    await closePage(page);
  });

  test('every control has an accessible name', { timeout: TEST_TIMEOUT }, async () => {
    const page = await openConsole();
    await signIn(page, admin, 'administrator');
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => el.offsetParent !== null)
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
      .map((el) => el.outerHTML.slice(0, 80)));
    assert.deepEqual(unnamed, []);
    await closePage(page);
  });

  test('the live board shows a call that starts in the emulator, its member answering and its end, without a reload', { timeout: TEST_TIMEOUT }, async () => {
    await configureBoard(worker, boardAdmin);
    const page = await openConsole({ fakeClock: true });
    let navigations = 0;
    page.on('framenavigated', () => { navigations += 1; });
    await signIn(page, admin, 'administrator');
    await boardOpen(page);
    const indicator = page.locator('#live-connection');
    assert.equal(await indicator.innerText(), 'Connected');
    assert.equal(await indicator.getAttribute('aria-live'), 'polite');
    assert.equal(await indicator.getAttribute('role'), 'status');

    const { callId } = await emulator.control.createCall({ caller: 'alice', callees: ['bob'], mediaType: 'Video' });
    const row = liveRow(page, callId);
    await row.filter({ hasText: 'Ringing' }).waitFor();
    const text = await row.innerText();
    for (const part of ['Video', 'alice → bob', callId]) assert.ok(text.includes(part), `${part} in ${text}`);
    assert.match(await liveMember(row, 'alice').innerText(), /Calling/);
    assert.match(await liveMember(row, 'bob').innerText(), /Waiting/);
    assert.equal(await row.getAttribute('data-state'), 'live');
    assert.equal(await liveRow(page, callId).locator('xpath=..').evaluate((ul) => ul.firstElementChild.dataset.callId), callId,
      'the newest call comes first');
    await shot(page, '18-live-board-ringing');

    // The duration ticks.
    const duration = row.locator('.live-duration');
    const first = seconds(await duration.innerText());
    await waitUntil(async () => seconds(await duration.innerText()) >= first + 2, UI_TIMEOUT, 'the duration to tick');

    await emulator.control.act(callId, 'answer', 'bob');
    await liveMember(row, 'bob').filter({ hasText: 'Calling' }).waitFor();
    assert.equal(await row.locator('.badge').innerText(), 'Live');
    await shot(page, '19-live-board-answered');

    // A live call opens in Call lookup.
    await row.getByRole('button').click();
    await page.locator('#call-live').filter({ hasText: 'Live' }).waitFor();
    assert.equal(await page.locator('#call-result-id').innerText(), callId);
    assert.equal(await page.locator('#call').evaluate((el) => el === document.activeElement), true, 'focus moves to Call lookup');

    await emulator.control.act(callId, 'hangup', 'alice');
    await row.filter({ hasText: 'Ended' }).waitFor();
    assert.equal(await row.getAttribute('data-state'), 'ended');
    assert.match(await row.innerText(), /Result: NormalEnd/);
    // The end webhook carries the record, which says the call type.
    assert.match(await row.locator('.live-facts').innerText(), /^Video · One-to-one$/);
    assert.match(await row.locator('.live-duration').innerText(), /^lasted .* ended .* ago$/);
    // It fades while it stays, then leaves the board.
    await waitUntil(async () => Number(await row.evaluate((li) => li.style.opacity)) < 1, UI_TIMEOUT, 'the ended call to fade');
    await shot(page, '20-live-board-ended');

    // An ended call opens its record.
    await row.getByRole('button').click();
    await page.locator('#record-detail-facts').filter({ hasText: 'NormalEnd' }).waitFor();
    assert.match(await page.locator('#record-detail-facts').innerText(), new RegExp(callId));

    await page.clock.fastForward(61_000);
    await row.waitFor({ state: 'detached' });
    assert.equal(navigations, 0, 'no reload');
    await closePage(page);
  });

  test('a dropped socket reconnects with backoff (the worker really restarts), and the board carries on', { timeout: TEST_TIMEOUT }, async () => {
    await configureBoard(worker, boardAdmin);
    const page = await openConsole();
    const ticketRequests = [];
    page.on('request', (r) => { if (r.url().endsWith('/api/v1/live/ticket')) ticketRequests.push(r.method()); });
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await signIn(page, admin, 'administrator');
    await boardOpen(page);
    const { callId } = await emulator.control.createCall({ caller: 'carol', callees: ['dave'], mediaType: 'Audio' });
    const row = liveRow(page, callId);
    await row.waitFor();
    const ticketsBefore = ticketRequests.length;

    // Stop the worker: every connection to it drops. It comes back on the same port and state.
    const back = worker.restart({ pauseMs: 4_000 });
    await page.locator('#live-connection[data-state=closed]').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#live-connection').innerText(), 'Disconnected, reconnecting');
    assert.match(await page.locator('#live-retry').innerText(), /^Retrying( in \d+ s|…)$/);
    assert.equal(await page.getByRole('button', { name: 'Reconnect now' }).isVisible(), true);
    assert.match(await page.locator('#live-summary').innerText(), /\(as last seen\)$/);
    assert.equal(await row.isVisible(), true, 'the last known calls stay');
    await shot(page, '21-live-board-reconnecting');
    await back;

    await boardOpen(page, 45_000);
    assert.equal(await page.getByRole('button', { name: 'Reconnect now' }).isVisible(), false);
    assert.ok(ticketRequests.length > ticketsBefore, 'a fresh ticket for the new socket');
    assert.ok(ticketRequests.every((m) => m === 'POST'));
    assert.ok(sockets.length >= 2, `sockets: ${sockets.length}`);
    for (const url of sockets) {
      assert.match(url, /\/api\/v1\/live\?ticket=[0-9a-f]{138,200}$/);
      assert.ok(!url.includes(admin), 'no bearer token in a socket URL');
    }
    assert.equal(await row.isVisible(), true, 'the call is in the new snapshot');
    await emulator.control.act(callId, 'answer', 'dave');
    await liveMember(row, 'dave').filter({ hasText: 'Calling' }).waitFor();
    await shot(page, '22-live-board-reconnected');
    await emulator.control.act(callId, 'hangup', 'carol');
    await row.filter({ hasText: 'Ended' }).waitFor();
    await closePage(page);
  });

  test('a ninth socket of the same user closes the page\'s with 4008: it says so and does not reconnect until asked', { timeout: TEST_TIMEOUT }, async () => {
    const user = 'frank';
    const token = mintUserSig(user);
    const page = await openConsole({ fakeClock: true });
    const ticketRequests = [];
    page.on('request', (r) => { if (r.url().endsWith('/api/v1/live/ticket')) ticketRequests.push(r.url()); });
    await signIn(page, token, user);
    await boardOpen(page);
    const ticketsBefore = ticketRequests.length;
    // Eight more sockets of frank's, from elsewhere: the page's, the oldest, makes way.
    const others = [];
    try {
      for (let i = 0; i < 8; i += 1) others.push(await openUserSocket(token));
      await page.locator('#live-connection[data-state=closed]').waitFor();
      assert.equal(await page.locator('#live-connection').innerText(), 'Disconnected');
      assert.match(await page.locator('#live-message').innerText(), /Opened elsewhere/);
      assert.equal(await page.locator('#live-reconnect').isVisible(), true, 'a way to take it back');
      await shot(page, '28-live-board-replaced');
      // Minutes pass on the page's clock: it never asks for a ticket to reconnect by itself.
      await page.clock.runFor(5 * 60_000);
      assert.equal(await page.evaluate(async () => (await fetch('/api/v1/health')).status), 200);
      assert.equal(ticketRequests.length, ticketsBefore, 'reconnected by itself');
      assert.equal(await page.locator('#live-connection').getAttribute('data-state'), 'closed');
      // Asked, it takes the board back (and another socket of frank's makes way).
      await page.locator('#live-reconnect').click();
      await boardOpen(page);
      assert.equal(ticketRequests.length, ticketsBefore + 1);
    } finally {
      for (const ws of others) ws.close();
    }
    await closePage(page);
  });

  test('the start-call form starts a call that then appears on the board', { timeout: TEST_TIMEOUT }, async () => {
    await configureBoard(worker, boardAdmin);
    const page = await openConsole();
    const starts = [];
    page.on('request', (r) => { if (r.url().endsWith('/api/v1/calls') && r.method() === 'POST') starts.push(r.postDataJSON()); });
    await signIn(page, admin, 'administrator');
    await boardOpen(page);
    const form = page.locator('#start-call-form');

    // Checked in the page first: nothing is sent.
    await form.getByLabel('Ring timeout (seconds)').fill('5');
    await form.getByRole('button', { name: 'Start call' }).click();
    await page.locator('#start-robot-error').filter({ hasText: 'robot' }).waitFor();
    assert.equal(await page.locator('#start-robot').evaluate((el) => el === document.activeElement), true, 'focus on the first field in error');
    assert.equal(await page.locator('#start-robot').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#start-callees-error').innerText(), /at least one callee/);
    assert.match(await page.locator('#start-timeout-error').innerText(), /10 to 600/);
    assert.equal(starts.length, 0);

    await form.getByLabel('Robot UserID').fill('bot1');
    await form.getByLabel('Callees').fill('alice, bob,alice');
    await form.getByLabel('Media').selectOption('Video');
    await form.getByLabel('Ring timeout (seconds)').fill('45');
    await form.getByRole('button', { name: 'Start call' }).click();
    const notice = page.locator('#start-call-message .alert.success');
    await notice.waitFor();
    assert.deepEqual(starts, [{ robot: 'bot1', callees: ['alice', 'bob'], mediaType: 'Video', timeoutMs: 45_000 }]);
    const callId = (await notice.innerText()).match(/Call started: (\S+)\./)?.[1];
    assert.ok(callId, await notice.innerText());
    assert.equal(await page.locator('#start-robot').getAttribute('aria-invalid'), null, 'errors cleared');
    await shot(page, '23-start-call');

    const row = liveRow(page, callId);
    await row.waitFor();
    const text = await row.innerText();
    for (const part of ['Video', 'bot1 → alice, bob', 'Ringing']) assert.ok(text.includes(part), `${part} in ${text}`);
    await row.scrollIntoViewIfNeeded();
    await shot(page, '24-start-call-on-board');
    const upstream = await emulator.control.call(callId);
    assert.equal(upstream.caller, 'bot1');
    await emulator.control.act(callId, 'hangup', 'bot1');
    await row.filter({ hasText: 'Ended' }).waitFor();
    await closePage(page);
  });

  test('a member sees only her calls on the board, and Start call tells her it is for admins', { timeout: TEST_TIMEOUT }, async () => {
    await configureBoard(worker, boardAdmin);
    const others = await emulator.control.createCall({ caller: 'bob', callees: ['carol'], mediaType: 'Audio' });
    await eventually(boardCalls, (calls) => calls.some((c) => c.callId === others.callId), { every: 300, label: 'the call on the board' });
    const page = await openConsole();
    await signIn(page, alice, 'alice');
    await boardOpen(page);
    const hers = await emulator.control.createCall({ caller: 'dave', callees: ['alice'], mediaType: 'Audio' });
    await liveRow(page, hers.callId).waitFor();
    // The other call reached the board before hers, on the same socket: it would be here by now.
    assert.equal(await liveRow(page, others.callId).count(), 0, 'a call she is not in');
    assert.ok((await page.locator('#live-list li[data-call-id]').evaluateAll((lis) => lis.map((li) => li.innerText)))
      .every((t) => /\balice\b/.test(t)), 'every call on her board has her in it');

    const form = page.locator('#start-call-form');
    await form.getByLabel('Robot UserID').fill('bot1');
    await form.getByLabel('Callees').fill('dave');
    await form.getByRole('button', { name: 'Start call' }).click();
    const alert = page.locator('#start-call-message .alert.error');
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-status'), '403');
    assert.match(await alert.innerText(), /Only administrators can do this/);
    await shot(page, '25-member-live-board');
    await emulator.control.act(others.callId, 'hangup', 'bob');
    await emulator.control.act(hers.callId, 'hangup', 'dave');
    await closePage(page);
  });

  test('the live board and the start-call form are usable 360 px wide', { timeout: TEST_TIMEOUT }, async () => {
    await configureBoard(worker, boardAdmin);
    const page = await openConsole({ width: 360, height: 780 });
    await signIn(page, admin, 'administrator');
    await boardOpen(page);
    const { callId } = await emulator.control.createCall({
      caller: 'alice', callees: ['bob', 'carol', 'a-callee-with-a-32-character-id'], mediaType: 'Video',
    });
    const row = liveRow(page, callId);
    await row.waitFor();
    await emulator.control.act(callId, 'answer', 'carol');
    await liveMember(row, 'carol').filter({ hasText: 'Calling' }).waitFor();
    const widths = await page.evaluate((id) => ({
      doc: document.documentElement.scrollWidth,
      row: document.querySelector(`#live-list li[data-call-id="${id}"]`).getBoundingClientRect().right,
      form: Math.max(...[...document.querySelectorAll('#start-call-form input, #start-call-form select, #start-call-form button')]
        .map((el) => el.getBoundingClientRect().right)),
    }), callId);
    assert.ok(widths.doc <= 360, `page scrolls sideways: ${widths.doc}px`);
    assert.ok(widths.row <= 360, `a board row overflows: ${widths.row}px`);
    assert.ok(widths.form <= 360, `the start-call form overflows: ${widths.form}px`);
    const { total, unreached, unoutlined } = await tabThroughControls(page);
    assert.ok(total > 10, `only ${total} controls found`);
    assert.deepEqual(unreached, [], 'controls Tab never reaches');
    assert.deepEqual(unoutlined, [], 'controls focused without a visible outline');
    await row.scrollIntoViewIfNeeded();
    await shot(page, '26-mobile-360-live-board', false);
    await shot(page, '27-mobile-360-live-board-full');
    await emulator.control.act(callId, 'hangup', 'alice');
    await closePage(page);
  });

  test('with more calls than a snapshot holds, the board draws 100 at a time and finds any call by user or CallId', { timeout: TEST_TIMEOUT * 2 }, async () => {
    const at = Date.now();
    const ids = Array.from({ length: 560 }, (_, i) => `scale-${i}`);
    let next = 0;
    // Eight at a time: zoe's call (the fourth) is among the first the board hears of, so it
    // is past the newest 500 a snapshot holds.
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let i = next++; i < ids.length; i = next++) {
        const [caller, callee] = i === 3 ? ['zoe', 'yann'] : ['bob', 'carol'];
        await deliverSigned(worker, {
          CallbackCommand: 'Call.CallbackAfterStartCall', EventTime: at + i,
          CallInfo: { CallId: ids[i], CallMediaType: 'Audio', ChatGroupId: '', RoomId: '', RoomIdType: 1 },
          UserList: [{ User_Account: caller, Status: 'Calling' }, { User_Account: callee, Status: 'Waiting' }],
        });
      }
    }));
    const page = await openConsole();
    await signIn(page, admin, 'administrator');
    await boardOpen(page);
    const summary = page.locator('#live-summary');
    await summary.filter({ hasText: /the newest 500 of \d+ shown/ }).waitFor();
    const items = page.locator('#live-list li.live-item');
    assert.equal(await items.count(), 100, 'a page of rows');
    await page.getByRole('button', { name: /^Show more/ }).click();
    await waitUntil(async () => (await items.count()) === 200, UI_TIMEOUT, 'a second page of rows');
    assert.equal(await liveRow(page, 'scale-3').count(), 0, 'zoe\'s call is not among the held calls');

    await page.getByLabel('Find a call').fill('zoe');
    await liveRow(page, 'scale-3').waitFor();
    await summary.filter({ hasText: '1 match (1 found beyond the newest)' }).waitFor();
    assert.equal(await items.count(), 1);
    await shot(page, '28-live-board-search-beyond-snapshot');
    // An exact CallId comes first, before the held calls it is a part of (scale-30, …).
    await page.getByLabel('Find a call').fill('scale-3');
    await waitUntil(async () => (await items.first().getAttribute('data-call-id')) === 'scale-3', UI_TIMEOUT, 'scale-3 first');
    await page.getByLabel('Find a call').fill('');
    await waitUntil(async () => (await items.count()) === 100, UI_TIMEOUT, 'the first page again');
    await closePage(page);
  });

  test('sweep: no answer to the pages or the test, and no log line, carries the key, a token, an upstream URL or a foreign UserSig', { timeout: TEST_TIMEOUT }, async () => {
    // The admin sig the worker sends upstream is a UserSig like any other: the
    // sweep fails on any whole UserSig but the one an answer minted for its caller.
    const secrets = liveStackSecrets(worker, emulator);
    const fromPages = worker.responses.filter((r) => r.fromPage).length;
    assert.ok(fromPages > 30, `only ${fromPages} answers to the pages recorded`);
    // Each answer has its own line. Lines no recorded answer accounts for: the emulator's
    // webhooks, the sockets, a path no route serves (null: Chromium's own request for
    // /favicon.ico, which Playwright does not report), and what a closing page's timers sent
    // after its answers were read (a board reconnect's ticket, the call lookup's refresh, and
    // the History, stats and relay panels' loads, which an admin's page starts on opening).
    const external = ['receive_webhook', 'live_socket', null, 'live_ticket', 'get_call',
      'list_history', 'history_stats', 'backfill_status', 'relay_deliveries'];
    await assertAuditTrail(worker, 'worker', 5_000, { external });
    const checked = await assertCleanWorker(worker, secrets, 'worker');
    assert.ok(checked > 150, `only ${checked} answers recorded`);
    // The socket tickets the pages were given travel in socket URLs: none may reach a log.
    const tickets = worker.responses.filter((r) => r.fromPage && r.path === '/api/v1/live/ticket' && r.status === 200)
      .map((r) => JSON.parse(r.text).ticket);
    assert.ok(tickets.length >= 5, `only ${tickets.length} tickets issued to the pages`);
    const logs = worker.logs();
    assert.ok(tickets.every((t) => !logs.includes(t)), 'a socket ticket in the worker log');
  });
});

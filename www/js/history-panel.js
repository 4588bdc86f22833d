// Call history from the ledger: filters over any range within the retention, cursor paging,
// a call's timeline, per-day stats, a CSV download (admins) and a member's own view.

import { $, busy, h } from './dom.js';
import { formatDuration, formatTime, localDay } from './format.js';
import { clearMessages, showError, showNotice } from './messages.js';
import { RESULT_COLOURS, RESULTS } from './records-chart.js';
import { getToken } from './session.js';
import { describeToken } from './token-identity.js';
import { initHistoryDetail } from './history-detail.js';
import { initHistoryStats, utcOffset } from './history-stats.js';

const DAY_MS = 86400 * 1000;

/** Local midnight of a `YYYY-MM-DD` date input, in ms; NaN when empty. */
function localMidnight(value, plusDays = 0) {
  const [y, m, d] = value.split('-').map(Number);
  return value ? new Date(y, m - 1, d + plusDays).getTime() : NaN;
}

const talk = (call) => (call.talkMs == null ? '—' : formatDuration(call.talkMs / 1000));

function resultCell(call) {
  const text = call.result ?? (call.state === 'live' ? 'Live' : 'Unknown');
  return h('span', { class: 'result' },
    h('span', { class: 'swatch', style: { backgroundColor: RESULT_COLOURS[call.result] ?? '#999' }, 'aria-hidden': 'true' }),
    text);
}

function callRow(call, open) {
  const others = call.members.filter((m) => m !== call.caller);
  return h('tr', { 'data-call-id': call.callId },
    h('td', { 'data-label': 'Start' }, formatTime(call.startedAt / 1000)),
    h('td', { 'data-label': 'Caller' }, call.caller ?? 'unknown'),
    h('td', { 'data-label': 'Members' }, others.join(', ') || '—'),
    h('td', { 'data-label': 'Media' }, call.mediaType ?? '—'),
    h('td', { 'data-label': 'Result' }, resultCell(call)),
    h('td', { 'data-label': 'Talk time' }, talk(call)),
    h('td', { class: 'row-action' }, h('button', {
      type: 'button', class: 'secondary small',
      'aria-label': `Timeline of call ${call.callId}`,
      onclick: (e) => open(call.callId, e.currentTarget),
    }, 'Timeline')));
}

export function initHistoryPanel(client) {
  let filter = null; // the submitted filter, without cursor
  let cursors = [null]; // cursors[i] opens page i + 1
  let page = 0;
  const detail = initHistoryDetail(client);
  const stats = initHistoryStats();

  $('history-result').append(...RESULTS.map((r) => h('option', {}, r)));
  const customFields = [...document.querySelectorAll('#history-form .history-custom')];
  $('history-period').addEventListener('change', () => {
    const custom = $('history-period').value === 'custom';
    customFields.forEach((f) => { f.hidden = !custom; });
    if (custom && !$('history-from').value) {
      $('history-from').value = localDay((Date.now() - 30 * DAY_MS) / 1000);
      $('history-to').value = localDay(Date.now() / 1000);
    }
  });

  // Reads the form into a filter, or returns an error message.
  function readForm() {
    const f = {
      user: $('history-user').value.trim() || undefined,
      result: $('history-result').value || undefined,
      mediaType: $('history-media').value || undefined,
      limit: Number($('history-limit').value),
    };
    const period = $('history-period').value;
    if (period === 'custom') {
      f.from = localMidnight($('history-from').value);
      f.to = localMidnight($('history-to').value, 1);
      if (Number.isNaN(f.from) || Number.isNaN(f.to)) return { error: 'Enter both a start and an end date.' };
      if (f.from >= f.to) return { error: 'The start date must be on or before the end date.' };
    } else {
      f.from = Date.now() - Number(period) * DAY_MS;
    }
    return { filter: f };
  }

  function renderPage(answer) {
    const rows = answer.calls.map((call) => callRow(call, detail.show));
    $('history-rows').replaceChildren(...(rows.length ? rows
      : [h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No calls match these filters.'))]));
    cursors[page + 1] = answer.nextCursor ?? null;
    const first = page * filter.limit + (rows.length ? 1 : 0);
    $('history-page-label').textContent = `Page ${page + 1}`;
    $('history-summary').textContent = `Calls ${first}–${page * filter.limit + rows.length}`
      + `${answer.nextCursor ? ', more on older pages' : ', the last of them'} · from ${formatTime(answer.from / 1000)} to ${formatTime(answer.to / 1000)}`;
    updatePager();
  }

  // After `busy` re-enables the button it disabled, too.
  function updatePager() {
    $('history-newer').disabled = page === 0;
    $('history-older').disabled = !cursors[page + 1];
  }

  async function loadPage(n) {
    clearMessages($('history-message'));
    try {
      const answer = await client.listHistory({ ...filter, cursor: cursors[n] ?? undefined });
      page = n;
      renderPage(answer);
      $('history-body').hidden = false;
      return answer;
    } catch (error) {
      showError($('history-message'), error);
      return null;
    }
  }

  async function loadStats(answer) {
    const { from, to } = answer;
    const result = await client.historyStats({ from, to, bucket: 'day', tz: utcOffset(from) });
    stats.show(result, from, to);
  }

  async function submit(button) {
    $('history-range-error').textContent = '';
    const read = readForm();
    if (read.error) {
      $('history-range-error').textContent = read.error;
      return;
    }
    filter = read.filter;
    cursors = [null];
    detail.hide();
    $('history-export-status').textContent = '';
    await busy(button, async () => {
      const answer = await loadPage(0);
      if (!answer) return;
      try { await loadStats(answer); } catch (error) { showError($('history-message'), error); }
    });
  }

  // Admins may download the whole range; the edge streams it (CSV, RFC 4180).
  async function download(button) {
    $('history-export-status').textContent = 'Preparing the download…';
    clearMessages($('history-message'));
    try {
      const blob = await busy(button, () => client.exportHistory({ from: filter.from, to: filter.to, format: 'csv' }));
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `call-history-${localDay(filter.from / 1000)}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      $('history-export-status').textContent = `Downloaded ${(blob.size / 1024).toFixed(1)} KB of CSV.`;
    } catch (error) {
      $('history-export-status').textContent = '';
      showError($('history-message'), error);
    }
  }

  // Who is looking: the admin-only backfill status answers 200 to an admin and 403 to anyone
  // else. A member sees their own calls only, so their view is fixed to themselves.
  async function learnRole() {
    const who = await describeToken(getToken() ?? '');
    let role = null; // 'admin' | 'member' | null (not known)
    try {
      const progress = await client.backfillStatus();
      role = 'admin';
      if (progress.state === 'running') {
        showNotice($('history-message'), `Importing Tencent’s last 7 days: ${progress.records} records read so far. Show history again to see them.`);
      }
    } catch (error) {
      role = error.status === 403 ? 'member' : null;
    }
    const member = role === 'member';
    $('history-scope').hidden = role === null;
    $('history-scope').textContent = member ? 'My calls' : 'All calls (admin)';
    $('history-heading').textContent = member ? 'My call history' : 'Call history';
    $('history-user').readOnly = member;
    $('history-user').value = member ? who?.identity ?? '' : '';
    $('history-export').hidden = member;
    $('history-export-status').textContent = member ? 'You see the calls you placed or were invited to. CSV export is for admins.' : '';
  }

  $('history-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submit(e.submitter ?? $('history-form').querySelector('button[type=submit]'));
  });
  // Focus stays on the button pressed, or moves to the other one at either end.
  const turn = (button, other, to) => busy($(button), () => loadPage(to)).then(() => {
    updatePager();
    $($(button).disabled ? other : button).focus();
  });
  $('history-newer').addEventListener('click', () => turn('history-newer', 'history-older', page - 1));
  $('history-older').addEventListener('click', () => turn('history-older', 'history-newer', page + 1));
  $('history-export').addEventListener('click', (e) => download(e.currentTarget));

  return {
    /** On sign-in: learns the viewer's role, then shows the last 30 days. */
    async start() {
      await learnRole();
      // Unless the viewer has asked for something else meanwhile.
      if (filter === null) await submit($('history-form').querySelector('button[type=submit]'));
    },
    reset() {
      filter = null;
      cursors = [null];
      $('history-body').hidden = true;
      $('history-rows').replaceChildren();
      $('history-user').readOnly = false;
      $('history-user').value = '';
      $('history-scope').hidden = true;
      stats.reset();
      detail.hide();
      clearMessages($('history-message'));
    },
  };
}

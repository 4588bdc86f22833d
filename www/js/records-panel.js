// Records browser: time range and filters, a paged table, the per-day chart and a detail view.

import { $, busy, h } from './dom.js';
import { formatCalled, formatDuration, formatTime } from './format.js';
import { clearMessages, showError } from './messages.js';
import { daysBetween, renderChart, RESULT_COLOURS, RESULTS } from './records-chart.js';
import { initRecordDetail } from './record-detail.js';

const DAY = 86400;
const WINDOW = 7 * DAY;
// The chart reads every page of the range; this caps it at 1000 records.
const CHART_PAGES = 10;
const CHART_PER_PAGE = 100;

function toLocalInput(unixSecs) {
  const d = new Date(unixSecs * 1000);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

export function initRecordsPanel(client) {
  let filter = null; // the submitted filter, without page
  let page = 1;
  let chartRecords = [];
  let chartDays = [];
  const detail = initRecordDetail(client);

  const customFields = [...document.querySelectorAll('#records-form .custom-range')];
  $('records-period').addEventListener('change', () => {
    const custom = $('records-period').value === 'custom';
    customFields.forEach((f) => { f.hidden = !custom; });
    if (custom) {
      const now = Math.floor(Date.now() / 1000);
      $('records-from').min = toLocalInput(now - WINDOW + 60);
      $('records-from').max = toLocalInput(now);
      $('records-to').max = toLocalInput(now + 60);
      if (!$('records-from').value) $('records-from').value = toLocalInput(now - DAY);
      if (!$('records-to').value) $('records-to').value = toLocalInput(now);
    }
  });

  // Reads the form into a filter, or returns an error message.
  function readForm() {
    const now = Math.floor(Date.now() / 1000);
    const f = {
      result: $('records-result').value || undefined,
      type: $('records-type').value || undefined,
      perPage: Number($('records-per-page').value),
    };
    const period = $('records-period').value;
    if (period === 'custom') {
      const from = Date.parse($('records-from').value);
      const to = Date.parse($('records-to').value);
      if (Number.isNaN(from) || Number.isNaN(to)) return { error: 'Enter both a start and an end.' };
      f.start = Math.floor(from / 1000);
      f.end = Math.min(now, Math.floor(to / 1000));
      if (f.start >= f.end) return { error: 'The start must be before the end.' };
      // A start a few minutes past the window is the form going stale: pull it in.
      if (f.start < now - WINDOW - 600) return { error: `Records are kept for 7 days: choose a start after ${formatTime(now - WINDOW + 60)}.` };
      f.start = Math.max(f.start, now - WINDOW + 60);
    } else if (period !== '7') {
      f.start = now - Number(period) * DAY;
    }
    // "Last 7 days" leaves start and end to the edge's defaults (now−7d .. now).
    return { filter: f, chartStart: f.start ?? now - WINDOW, chartEnd: f.end ?? now };
  }

  function drawChart() {
    const holder = $('records-chart');
    const width = Math.max(240, Math.floor(holder.clientWidth || 600));
    holder.replaceChildren(renderChart(chartRecords, chartDays, width));
  }

  function renderLegend() {
    $('records-legend').replaceChildren(...RESULTS.map((r) => h('li', {},
      h('span', { class: 'swatch', style: { backgroundColor: RESULT_COLOURS[r] }, 'aria-hidden': 'true' }), r)));
  }

  function renderPage(result) {
    const rows = result.records.map((r) => h('tr', {},
      h('td', { 'data-label': 'Start' }, formatTime(r.startTime)),
      h('td', { 'data-label': 'Caller' }, r.caller),
      h('td', { 'data-label': 'Callees' }, formatCalled(r)),
      h('td', { 'data-label': 'Type' }, r.callType === 'MultiCall' ? 'Group' : 'One-to-one'),
      h('td', { 'data-label': 'Media' }, r.mediaType),
      h('td', { 'data-label': 'Result' }, h('span', { class: 'result' },
        h('span', { class: 'swatch', style: { backgroundColor: RESULT_COLOURS[r.result] ?? '#999' }, 'aria-hidden': 'true' }),
        r.result)),
      h('td', { 'data-label': 'Talk time' }, r.acceptTime > 0 ? formatDuration(r.endTime - r.acceptTime) : '—'),
      h('td', { class: 'row-action' }, h('button', {
        type: 'button', class: 'secondary small',
        'aria-label': `Details of call ${r.callId}`,
        onclick: (e) => detail.show(r.callId, e.currentTarget),
      }, 'Details'))));
    $('records-rows').replaceChildren(...(rows.length ? rows
      : [h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No records match these filters.'))]));

    const pages = Math.max(1, Math.ceil(result.total / result.perPage));
    $('records-page-label').textContent = `Page ${result.page} of ${pages}`;
    $('records-summary').textContent = `${result.total} record${result.total === 1 ? '' : 's'} · `
      + `showing ${result.records.length ? (result.page - 1) * result.perPage + 1 : 0}–`
      + `${(result.page - 1) * result.perPage + result.records.length}`;
    $('records-prev').disabled = result.page <= 1;
    $('records-next').disabled = result.page >= pages;
  }

  async function loadPage(n) {
    clearMessages($('records-message'));
    try {
      const result = await client.listRecords({ ...filter, page: n });
      page = result.page ?? n;
      renderPage(result);
      $('records-body').hidden = false;
      return true;
    } catch (error) {
      showError($('records-message'), error);
      return false;
    }
  }

  async function loadChart(chartStart, chartEnd) {
    const all = [];
    for (let p = 1; p <= CHART_PAGES; p += 1) {
      const result = await client.listRecords({ ...filter, page: p, perPage: CHART_PER_PAGE });
      all.push(...result.records);
      if (p * CHART_PER_PAGE >= result.total || result.records.length === 0) break;
    }
    chartRecords = all;
    chartDays = daysBetween(chartStart, chartEnd);
    $('records-chart-caption').textContent = `Calls per day, by result (${all.length} call${all.length === 1 ? '' : 's'})`;
    drawChart();
  }

  $('records-form').addEventListener('submit', (e) => {
    e.preventDefault();
    $('records-range-error').textContent = '';
    const read = readForm();
    if (read.error) {
      $('records-range-error').textContent = read.error;
      return;
    }
    filter = read.filter;
    detail.hide();
    busy(e.submitter ?? $('records-form').querySelector('button[type=submit]'), async () => {
      if (await loadPage(1)) {
        try { await loadChart(read.chartStart, read.chartEnd); } catch (error) { showError($('records-message'), error); }
      }
    });
  });

  $('records-prev').addEventListener('click', (e) => busy(e.currentTarget, () => loadPage(page - 1))
    .then(() => { if (!$('records-prev').disabled) $('records-prev').focus(); else $('records-next').focus(); }));
  $('records-next').addEventListener('click', (e) => busy(e.currentTarget, () => loadPage(page + 1))
    .then(() => { if (!$('records-next').disabled) $('records-next').focus(); else $('records-prev').focus(); }));

  renderLegend();
  new ResizeObserver(() => { if (chartDays.length) drawChart(); }).observe($('records-chart'));

  return {
    /** Opens the detail view of one record; focus goes back to `opener` on close. */
    showRecord: (callId, opener) => detail.show(callId, opener),
    reset() {
      filter = null;
      chartRecords = [];
      chartDays = [];
      $('records-body').hidden = true;
      $('records-rows').replaceChildren();
      detail.hide();
      clearMessages($('records-message'));
    },
  };
}

// The History panel's chart, summary and table, drawn from GET /history/stats (per-day
// figures computed by the edge in SQL), so a year of calls costs one request.

import { $, h } from './dom.js';
import { formatDuration, localDay } from './format.js';
import { daysBetween, renderCounts, RESULT_COLOURS, RESULTS } from './records-chart.js';

const HOUR_MS = 3600 * 1000;

/** The browser's UTC offset at `ms` as the stats endpoint's `tz` (`+HH:MM`). */
export function utcOffset(ms) {
  const minutes = -new Date(ms).getTimezoneOffset();
  const abs = Math.abs(minutes);
  const pad = (n) => String(n).padStart(2, '0');
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// A bucket's local day: its start is midnight at the request's offset, so noon of it is
// that day whatever a DST change did in between.
const bucketDay = (bucket) => localDay((bucket.start + 12 * HOUR_MS) / 1000);

const seconds = (ms) => (ms == null ? '—' : formatDuration(ms / 1000));
const percent = (rate) => `${Math.round(rate * 100)} %`;
const byResult = (results) => Object.entries(results ?? {}).map(([r, n]) => `${r} ${n}`).join(', ') || '—';

/** Totals over every bucket: { calls, answered, talkMs }. */
function totals(buckets) {
  return buckets.reduce((t, b) => ({
    calls: t.calls + b.calls,
    answered: t.answered + b.answered,
    talkMs: t.talkMs + (b.talkMs?.sum ?? 0),
  }), { calls: 0, answered: 0, talkMs: 0 });
}

export function initHistoryStats() {
  let days = [];
  let counts = {};

  function draw() {
    const holder = $('history-chart');
    const width = Math.max(240, Math.floor(holder.clientWidth || 600));
    holder.replaceChildren(renderCounts(counts, days, width));
  }

  function renderTable(buckets) {
    const rows = buckets.map((b) => h('tr', { 'data-day': bucketDay(b) },
      h('td', {}, bucketDay(b)),
      h('td', {}, b.calls),
      h('td', {}, `${b.answered} (${percent(b.answerRate)})`),
      h('td', {}, seconds(b.talkMs?.p50)),
      h('td', {}, seconds(b.talkMs?.p95)),
      h('td', {}, byResult(b.results))));
    $('history-stats-rows').replaceChildren(...(rows.length ? rows
      : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No ended calls in this period.'))]));
  }

  /** Draws `stats` (the endpoint's answer) over the local days of [fromMs, toMs). */
  function show(stats, fromMs, toMs) {
    days = daysBetween(fromMs / 1000, (toMs - 1) / 1000);
    counts = Object.fromEntries(days.map((day) => [day, Object.fromEntries(RESULTS.map((r) => [r, 0]))]));
    for (const bucket of stats.buckets) {
      const day = counts[bucketDay(bucket)];
      if (!day) continue;
      for (const [result, n] of Object.entries(bucket.results ?? {})) if (result in day) day[result] += n;
    }
    const t = totals(stats.buckets);
    $('history-chart-caption').textContent = `Ended calls per day, by result (${t.calls} call${t.calls === 1 ? '' : 's'})`;
    $('history-stats-summary').textContent = t.calls
      ? `${t.calls} ended call${t.calls === 1 ? '' : 's'}, ${t.answered} answered (${percent(t.answered / t.calls)}), `
        + `talk time ${seconds(t.talkMs)} in all.`
      : 'No ended calls in this period.';
    renderTable(stats.buckets);
    draw();
  }

  $('history-legend').replaceChildren(...RESULTS.map((r) => h('li', {},
    h('span', { class: 'swatch', style: { backgroundColor: RESULT_COLOURS[r] }, 'aria-hidden': 'true' }), r)));
  new ResizeObserver(() => { if (days.length) draw(); }).observe($('history-chart'));
  // The table scrolls sideways on a phone, so the keyboard must reach it, but only while shown.
  $('history-stats-details').addEventListener('toggle', (e) => {
    if (e.currentTarget.open) $('history-stats-scroll').tabIndex = 0;
    else $('history-stats-scroll').removeAttribute('tabindex');
  });

  return {
    show,
    reset() {
      days = [];
      counts = {};
      $('history-chart').replaceChildren();
      $('history-stats-rows').replaceChildren();
    },
  };
}

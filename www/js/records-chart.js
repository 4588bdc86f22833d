// Calls per day stacked by result, drawn as plain SVG sized to its container.

import { localDay } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';

// Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
export const RESULT_COLOURS = {
  NormalEnd: '#009E73',
  Cancel: '#E69F00',
  Reject: '#D55E00',
  NotAnswer: '#56B4E9',
  CallBusy: '#CC79A7',
  Interrupt: '#0072B2',
  Offline: '#8C8C8C',
};
export const RESULTS = Object.keys(RESULT_COLOURS);

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text != null) el.textContent = text;
  return el;
}

/** Every local day from `startSecs` to `endSecs`, inclusive, as YYYY-MM-DD. */
export function daysBetween(startSecs, endSecs) {
  const days = [];
  const d = new Date(startSecs * 1000);
  d.setHours(12, 0, 0, 0); // noon: immune to DST shifts
  const last = localDay(endSecs);
  for (let i = 0; i < 400; i += 1) {
    const day = localDay(d.getTime() / 1000);
    days.push(day);
    if (day >= last) break;
    d.setDate(d.getDate() + 1);
  }
  return days;
}

/** { day: { result: count } } over the given days. */
export function countByDay(records, days) {
  const counts = Object.fromEntries(days.map((day) => [day, Object.fromEntries(RESULTS.map((r) => [r, 0]))]));
  for (const record of records) {
    const day = localDay(record.startTime);
    if (counts[day] && record.result in counts[day]) counts[day][record.result] += 1;
  }
  return counts;
}

// A whole-number axis step (1, 2, 5, 10, 20, 50, …) giving at most 5 gridlines.
function axisStep(max) {
  for (let scale = 1; ; scale *= 10) {
    for (const m of [1, 2, 5]) if (Math.ceil(max / (m * scale)) <= 5) return m * scale;
  }
}

function dayLabel(day, narrow) {
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(y, m - 1, d);
  return narrow
    ? String(d)
    : date.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' });
}

/** Builds the chart of `records` as an <svg> of `width` CSS pixels. */
export function renderChart(records, days, width) {
  return renderCounts(countByDay(records, days), days, width);
}

/**
 * Builds the chart of `counts` ({ day: { result: n } }, as countByDay makes) as an <svg>
 * of `width` CSS pixels; when days are too many to label, every few days are labelled.
 */
export function renderCounts(counts, days, width) {
  const totals = days.map((day) => RESULTS.reduce((sum, r) => sum + counts[day][r], 0));
  const step = axisStep(Math.max(1, ...totals));
  const ticks = Math.ceil(Math.max(1, ...totals) / step);
  const max = step * ticks;
  const height = 220;
  const pad = { top: 12, right: 8, bottom: 28, left: 32 };
  const plotW = Math.max(60, width - pad.left - pad.right);
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / days.length;
  const barW = Math.min(48, slot * 0.7);
  const narrow = slot < 44;
  // Labels need ~24 px each: beyond that, only every `every`-th day is labelled.
  const every = Math.max(1, Math.ceil(24 / slot));

  // A long range is read out by its days with calls only.
  const told = days.map((day, i) => [day, totals[i]]).filter(([, n]) => n > 0 || days.length <= 31);
  const summary = told.length ? told.map(([day, n]) => `${dayLabel(day, false)}: ${n}`).join(', ') : 'no calls';
  const svg = s('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `Calls per day. ${summary}.`, class: 'chart-svg',
  });

  // Horizontal grid lines and y-axis labels.
  for (let i = 0; i <= ticks; i += 1) {
    const y = pad.top + plotH - (plotH * i) / ticks;
    svg.append(s('line', { x1: pad.left, x2: pad.left + plotW, y1: y, y2: y, class: 'grid' }));
    svg.append(s('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, step * i));
  }

  days.forEach((day, i) => {
    const x = pad.left + slot * i + (slot - barW) / 2;
    let y = pad.top + plotH;
    const group = s('g', { class: 'bar', 'data-day': day });
    for (const result of RESULTS) {
      const n = counts[day][result];
      if (!n) continue;
      const h = (plotH * n) / max;
      y -= h;
      const rect = s('rect', { x, y, width: barW, height: h, fill: RESULT_COLOURS[result], 'data-result': result });
      rect.append(s('title', {}, `${day} · ${result}: ${n}`));
      group.append(rect);
    }
    svg.append(group);
    if (i % every === 0) svg.append(s('text', { x: x + barW / 2, y: height - 10, 'text-anchor': 'middle', class: 'axis' }, dayLabel(day, narrow)));
  });
  return svg;
}

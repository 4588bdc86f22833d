// The relay's delivery log (admins): each backend URL with its counts, failing URLs first,
// then the latest deliveries, each failed or dead one with a Redeliver button.

import { $, busy, h } from './dom.js';
import { clearMessages, showError, showNotice } from './messages.js';

const STATUS_TEXT = { pending: 'Pending', retrying: 'Retrying', delivered: 'Delivered', dead: 'Dead (out of retries)' };

const when = (ms) => (ms ? new Date(ms).toLocaleString() : '—');

function answer(d) {
  if (d.lastStatus != null) return `HTTP ${d.lastStatus}`;
  if (d.lastError) return d.lastError === 'timeout' ? 'No answer (timeout)' : 'Unreachable';
  return '—';
}

function urlItem(u) {
  const failing = u.retrying + u.dead;
  return h('li', { class: `relay-url${failing ? ' failing' : ''}`, 'data-url': u.url },
    h('span', { class: 'relay-url-state' }, failing ? 'Failing' : 'OK'),
    h('code', {}, u.url),
    h('span', { class: 'status-text' },
      `${u.delivered} delivered, ${u.retrying} retrying, ${u.dead} dead, ${u.pending} pending · last attempt ${when(u.lastAttemptAt)}`));
}

export function initRelayPanel(client) {
  const message = $('relay-message');
  let cursor = null;

  function row(d) {
    const redeliver = h('button', {
      type: 'button',
      class: 'secondary small',
      'aria-label': `Redeliver ${d.id}`,
      onclick: (e) => busy(e.currentTarget, async () => {
        clearMessages(message);
        try {
          await client.redeliver(d.id);
          showNotice(message, `Delivery ${d.id} is queued again.`, 'success');
        } catch (error) {
          showError(message, error);
        }
      }),
    }, 'Redeliver');
    return h('tr', { 'data-id': d.id, 'data-status': d.status },
      h('td', { 'data-label': 'webhook-id' }, h('code', {}, d.id)),
      h('td', { 'data-label': 'URL' }, h('code', {}, d.url)),
      h('td', { 'data-label': 'Source' }, d.source),
      h('td', { 'data-label': 'Status', class: `relay-status ${d.status}` }, STATUS_TEXT[d.status] ?? d.status),
      h('td', { 'data-label': 'Attempts' }, String(d.attempts)),
      h('td', { 'data-label': 'Last answer' }, answer(d)),
      h('td', { 'data-label': 'Latency' }, d.latencyMs == null ? '—' : `${d.latencyMs} ms`),
      h('td', { 'data-label': 'Updated' }, when(d.updatedAt)),
      h('td', { class: 'row-action' }, redeliver));
  }

  async function load(more = false) {
    clearMessages(message);
    const status = $('relay-status').value;
    const page = await client.relayDeliveries({ status, cursor: more ? cursor : undefined });
    if (!more) {
      $('relay-urls').replaceChildren(...page.urls.map(urlItem));
      $('relay-rows').replaceChildren();
    }
    $('relay-rows').append(...page.deliveries.map(row));
    cursor = page.nextCursor;
    $('relay-more').hidden = !cursor;
    const shown = $('relay-rows').childElementCount;
    $('relay-summary').textContent = shown
      ? `${shown} deliveries shown, newest first.`
      : 'No deliveries yet. The relay sends every accepted webhook to WEBHOOK_FORWARD_URLS.';
  }

  const run = (more) => (e) => busy(e.currentTarget, async () => {
    try {
      await load(more);
    } catch (error) {
      showError(message, error);
    }
  });
  $('relay-refresh').addEventListener('click', run(false));
  $('relay-more').addEventListener('click', run(true));
  $('relay-status').addEventListener('change', () => $('relay-refresh').click());

  return {
    reset() {
      cursor = null;
      $('relay-urls').replaceChildren();
      $('relay-rows').replaceChildren();
      $('relay-summary').textContent = '';
      $('relay-more').hidden = true;
      clearMessages(message);
    },
  };
}

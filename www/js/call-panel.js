// Call lookup by CallId, auto-refreshed while the call is live, with "End call" behind a
// confirmation dialog.

import { $, busy, h } from './dom.js';
import { confirmAction } from './confirm-dialog.js';
import { clearMessages, showError, showNotice } from './messages.js';

const REFRESH_MS = 3000;
const ROOM_TYPE = { 1: 'numeric', 2: 'string' };

export function initCallPanel(client) {
  let current = null; // CallId being watched
  let timer = null;
  let generation = 0; // drops answers that arrive after the user moved on

  function stop() {
    clearTimeout(timer);
    timer = null;
    generation += 1;
  }

  function setLive(live, note) {
    const badge = $('call-live');
    badge.textContent = live ? 'Live' : 'Ended';
    badge.className = `badge ${live ? 'live' : 'ended'}`;
    $('call-refresh-note').textContent = note;
    $('call-end').disabled = !live;
  }

  function render(call) {
    $('call-result-id').textContent = call.callId;
    $('call-media').textContent = call.mediaType ?? '—';
    $('call-room').textContent = call.roomId
      ? `${call.roomId}${ROOM_TYPE[call.roomIdType] ? ` (${ROOM_TYPE[call.roomIdType]})` : ''}`
      : 'none';
    $('call-group').textContent = call.groupId || 'none';
    $('call-members').replaceChildren(...(call.members ?? []).map((m) => h('tr', {},
      h('td', {}, m.userId),
      h('td', {}, h('span', { class: `status status-${String(m.status).toLowerCase()}` }, m.status)))));
    $('call-result').hidden = false;
  }

  function ended(text) {
    stop();
    setLive(false, '');
    showNotice($('call-message'), text, 'info');
  }

  async function refresh(callId, gen, firstLoad) {
    try {
      const call = await client.getCall(callId);
      if (gen !== generation) return;
      clearMessages($('call-message'));
      render(call);
      setLive(true, `Refreshing every ${REFRESH_MS / 1000} s`);
      timer = setTimeout(() => refresh(callId, gen, false), REFRESH_MS);
    } catch (error) {
      if (gen !== generation) return;
      if (error.status === 404 && !firstLoad) {
        ended('The call has ended.');
      } else if (error.status >= 500 || error.status === 0 || error.status === 429) {
        // Transient: show it and keep watching, after Retry-After when given.
        showError($('call-message'), error);
        if (!firstLoad) {
          const wait = Math.max(REFRESH_MS, (error.retryAfter ?? 0) * 1000);
          timer = setTimeout(() => refresh(callId, gen, false), wait);
        }
      } else {
        stop();
        if (firstLoad) $('call-result').hidden = true;
        else setLive(false, '');
        showError($('call-message'), error);
      }
    }
  }

  $('call-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const callId = $('call-id').value.trim();
    if (!callId) {
      showNotice($('call-message'), 'Enter a CallId to look up.', 'warn');
      $('call-id').focus();
      return;
    }
    stop();
    current = callId;
    clearMessages($('call-message'));
    const gen = generation;
    busy(e.submitter ?? $('call-form').querySelector('button'), () => refresh(callId, gen, true));
  });

  $('call-end').addEventListener('click', async (e) => {
    const button = e.currentTarget; // currentTarget is gone once the dialog has been awaited
    const callId = current;
    if (!callId) return;
    const ok = await confirmAction({
      title: 'End this call?',
      message: `Call ${callId} ends for everyone in it. This cannot be undone.`,
      confirmLabel: 'End call',
    });
    if (!ok) return;
    await busy(button, async () => {
      try {
        const result = await client.endCall(callId);
        if (current !== callId) return;
        ended(`Call ended.${result.requestId ? ` RequestId ${result.requestId}` : ''}`);
      } catch (error) {
        showError($('call-message'), error);
      }
    });
    if (current === callId && timer === null) $('call-end').disabled = true;
  });

  return {
    reset() {
      stop();
      current = null;
      $('call-result').hidden = true;
      clearMessages($('call-message'));
    },
  };
}

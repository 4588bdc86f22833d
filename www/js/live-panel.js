// Live calls board: every call the signed-in user may see, pushed over the edge's live
// socket (the client's subscribe(): a fresh ticket per connect, reconnects with backoff).
// Durations tick, ended calls fade out, and selecting a call opens its detail.

import { $, h } from './dom.js';
import { formatDuration } from './format.js';
import { clearMessages, showError } from './messages.js';

/** How long an ended call stays on the board, fading, before it is left out. */
export const ENDED_VISIBLE_MS = 60_000;
const FADED_OPACITY = 0.35;
/** Rows drawn at a time: a board of thousands stays a page, with "Show more". */
export const LIVE_PAGE = 100;

const CALL_TYPE = { SingleCall: 'One-to-one', MultiCall: 'Group' };

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function endedAt(call) {
  return call.endedAt ?? call.updatedAt ?? 0;
}

/** `Ringing` until someone besides the caller is in the call; `Live` after; `Ended`. */
function phase(call) {
  if (call.state === 'ended') return 'Ended';
  const inCall = (call.members ?? []).filter((m) => m.status === 'Calling').length;
  return inCall >= 2 ? 'Live' : 'Ringing';
}

// Why a member left, from their last ActionType. Answer, Join and Invite say nothing about it
// (a member who answered leaves when the call ends): those show as plain "Left".
const LEFT_BECAUSE = {
  Reject: 'rejected', NotAnswer: 'no answer', Hangup: 'hung up', Offline: 'went offline', Cancel_Invite: 'invite cancelled',
};
const NOT_A_REASON = new Set(['Answer', 'Join', 'Invite']);

function memberStatus(m) {
  if (m.status !== 'Left' || !m.lastAction || NOT_A_REASON.has(m.lastAction)) return m.status;
  return `Left (${LEFT_BECAUSE[m.lastAction] ?? m.lastAction})`;
}

// TRTC's room presence (docs/trtc-events.md), in words: who is in the media room and what
// they publish. Icons only repeat the text.
const EXIT_BECAUSE = {
  normal: 'left', timeout: 'timed out', removed: 'removed', cross_room_cancelled: 'cross-room ended',
  force_closed: 'force-closed', dismissed: 'room closed',
};

function presenceText(p) {
  if (!p.inRoom) return `not in room (${EXIT_BECAUSE[p.exitReason] ?? 'left'})`;
  const media = [p.video ? '📷 camera on' : 'camera off', p.audio ? '🎤 mic on' : 'mic off'];
  if (p.screen) media.push('🖥 sharing screen');
  return `in room · ${media.join(' · ')}`;
}

function presence(p) {
  return h('span', { class: `presence ${p.inRoom ? 'in-room' : 'out-of-room'}`, 'data-user': p.userId }, presenceText(p));
}

function memberChips(call) {
  const room = new Map((call.room ?? []).map((p) => [p.userId, p]));
  const members = (call.members ?? []).map((m) => h('span', { class: 'member' },
    h('span', { class: 'member-id' }, m.userId), ' ',
    h('span', { class: `status status-${String(m.status).toLowerCase()}` }, memberStatus(m)),
    room.has(m.userId) ? [' · ', presence(room.get(m.userId))] : null));
  // In the room but not in the call: shown too.
  const inCall = new Set((call.members ?? []).map((m) => m.userId));
  const others = (call.room ?? []).filter((p) => !inCall.has(p.userId)).map((p) => h('span', { class: 'member guest' },
    h('span', { class: 'member-id' }, p.userId), ' ', h('span', { class: 'status' }, 'not in the call'), ' · ', presence(p)));
  const chips = [...members, ...others];
  // A call lists 64 members at most; earlier departures are only counted.
  if (call.leftOmitted > 0) chips.push(h('span', { class: 'member more' }, `+${call.leftOmitted} left`));
  return chips;
}

function who(call) {
  const others = (call.members ?? []).map((m) => m.userId).filter((u) => u !== call.caller);
  if (!call.caller) return others.join(', ');
  return `${call.caller} → ${others.length ? others.join(', ') : '…'}`;
}

export function initLivePanel(client, { openCall, openRecord }) {
  const list = $('live-list');
  const rows = new Map(); // callId → { li, button, duration, call }
  let unsubscribe = null;
  let calls = [];
  let status = 'closed';
  let detail = { error: null, retryAt: null, final: false, clockOffsetMs: 0 };
  let everOpen = false;
  let tick = null;
  let query = ''; // lower-case: a user id or CallId, or part of one
  let limit = LIVE_PAGE;
  // Calls the edge found for the search among those the snapshot left out: exact matches of a
  // user or CallId over the whole board (GET /live/calls?user= / ?callId=).
  let remote = { for: '', calls: [] };
  let searchTimer = null;

  const serverNow = () => Date.now() + (detail.clockOffsetMs ?? 0);

  function durationText(call, now) {
    if (!Number.isFinite(call.startedAt)) return '';
    if (call.state === 'ended') {
      const lasted = Math.max(0, (endedAt(call) - call.startedAt) / 1000);
      const ago = Math.max(0, (now - endedAt(call)) / 1000);
      return `lasted ${formatDuration(lasted)} · ended ${formatDuration(ago)} ago`;
    }
    return formatDuration(Math.max(0, (now - call.startedAt) / 1000));
  }

  function fade(row, now) {
    if (row.call.state !== 'ended') {
      row.li.style.opacity = '';
      return;
    }
    const age = Math.min(1, Math.max(0, (now - endedAt(row.call)) / ENDED_VISIBLE_MS));
    row.li.style.opacity = String(1 - age * (1 - FADED_OPACITY));
  }

  function fillRow(row, call) {
    row.call = call;
    const state = phase(call);
    row.li.dataset.state = call.state;
    row.li.dataset.phase = state.toLowerCase();
    row.duration = h('span', { class: 'live-duration' });
    const facts = [call.mediaType ?? 'Media unknown', CALL_TYPE[call.callType]].filter(Boolean).join(' · ');
    row.button.replaceChildren(...[
      h('span', { class: 'live-top' },
        h('span', { class: `badge ${state.toLowerCase()}` }, state),
        h('span', { class: 'live-facts' }, facts),
        call.roomEmpty ? h('span', { class: 'badge room-empty' }, 'Room empty: nobody in the media room') : null,
        row.duration),
      h('span', { class: 'live-who' }, who(call)),
      h('span', { class: 'live-members' }, memberChips(call)),
      call.state === 'ended' && call.callResult
        ? h('span', { class: 'live-result' }, `Result: ${call.callResult}${call.endedBy === 'reconcile' ? ' (found ended by a check)' : ''}`)
        : null,
      h('span', { class: 'live-id mono' }, h('span', { class: 'visually-hidden' }, 'CallId '), call.callId),
    ].filter(Boolean));
    row.button.setAttribute('aria-description',
      call.state === 'ended' ? 'Opens the call record' : 'Follows the call in Call lookup');
  }

  function createRow(call) {
    const button = h('button', { type: 'button', class: 'live-call' });
    const li = h('li', { class: 'live-item', 'data-call-id': call.callId }, button);
    const row = { li, button, duration: null, call };
    button.addEventListener('click', () => {
      if (row.call.state === 'ended') openRecord(row.call.callId, button);
      else openCall(row.call.callId);
    });
    fillRow(row, call);
    return row;
  }

  const matches = (c) => !query || c.callId.toLowerCase().includes(query)
    || (c.caller ?? '').toLowerCase().includes(query)
    || (c.members ?? []).some((m) => m.userId.toLowerCase().includes(query));

  function visibleCalls(now) {
    return calls.filter((c) => (c.state !== 'ended' || now - endedAt(c) < ENDED_VISIBLE_MS));
  }

  const exactly = (c) => c.callId.toLowerCase() === query || (c.caller ?? '').toLowerCase() === query
    || (c.members ?? []).some((m) => m.userId.toLowerCase() === query);

  // The search's matches: exact ones first (those the edge found beyond the held calls among
  // them), then the partial ones.
  function searchResults(visible) {
    const found = visible.filter(matches);
    if (!query) return { found, fromBoard: 0 };
    const held = new Set(calls.map((c) => c.callId));
    const more = remote.for === query ? remote.calls.filter((c) => !held.has(c.callId)) : [];
    const exact = found.filter(exactly);
    return { found: [...exact, ...more, ...found.filter((c) => !exactly(c))], fromBoard: more.length };
  }

  // A snapshot holds the newest calls only: when the board has more, a search also asks the
  // edge, which searches them all (exact user or CallId; a typo finds nothing there).
  function searchWholeBoard(raw) {
    clearTimeout(searchTimer);
    const total = detail.summary?.total;
    if (!raw || !(Number.isFinite(total) && total > calls.length)) return;
    const asked = raw.toLowerCase();
    searchTimer = setTimeout(async () => {
      const asks = [];
      if (/^[ -~]{1,32}$/.test(raw)) asks.push(client.liveCalls({ user: raw, limit: LIVE_PAGE }));
      if (/^[A-Za-z0-9._-]{1,128}$/.test(raw)) asks.push(client.liveCalls({ callId: raw }));
      const pages = await Promise.all(asks.map((a) => a.catch(() => null)));
      if (query !== asked) return; // the search changed meanwhile
      const byId = new Map(pages.flatMap((p) => p?.calls ?? []).map((c) => [c.callId, c]));
      remote = { for: asked, calls: [...byId.values()] };
      renderList();
    }, 300);
  }

  function renderTimes() {
    const now = serverNow();
    for (const row of rows.values()) {
      row.duration.textContent = durationText(row.call, now);
      fade(row, now);
    }
    if (status === 'closed' && !detail.final && detail.retryAt) {
      const left = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
      $('live-retry').textContent = left > 0 ? `Retrying in ${left} s` : 'Retrying…';
    } else {
      $('live-retry').textContent = '';
    }
  }

  // Keyed update: rows are reused and only moved when out of place, so a focused row keeps focus.
  function renderList() {
    const now = serverNow();
    const visible = visibleCalls(now);
    const { found, fromBoard } = searchResults(visible);
    const shown = found.slice(0, limit);
    $('live-more').hidden = found.length <= shown.length;
    $('live-more').textContent = `Show more (${found.length - shown.length} not shown)`;
    const keep = new Set(shown.map((c) => c.callId));
    for (const [id, row] of rows) {
      if (!keep.has(id)) {
        row.li.remove();
        rows.delete(id);
      }
    }
    list.querySelector('.live-empty')?.remove();
    let before = list.firstElementChild;
    for (const call of shown) {
      let row = rows.get(call.callId);
      if (!row) {
        row = createRow(call);
        rows.set(call.callId, row);
      } else if (row.call !== call) {
        fillRow(row, call);
      }
      if (row.li !== before) list.insertBefore(row.li, before);
      else before = before.nextElementSibling;
    }
    if (!shown.length) {
      const none = query ? 'No call matches.' : 'No live calls right now.';
      list.append(h('li', { class: 'live-empty' },
        status === 'open' || everOpen ? none : 'Waiting for the board…'));
    }
    list.classList.toggle('stale', status !== 'open');

    const live = visible.filter((c) => c.state !== 'ended').length;
    const ended = visible.length - live;
    let summary = `${plural(live, 'live call')}${ended ? ` · ${ended} ended recently` : ''}`;
    // A snapshot carries the newest calls only; the counts cover them all.
    const total = detail.summary?.total;
    if (Number.isFinite(total) && total > calls.length) {
      summary = `${plural(detail.summary.live, 'live call')} · the newest ${calls.length} of ${total} shown`;
    }
    if (query) summary += ` · ${plural(found.length, 'match', 'matches')}`;
    if (fromBoard) summary += ` (${fromBoard} found beyond the newest)`;
    const text = status === 'open' ? summary : everOpen ? `${summary} (as last seen)` : '';
    if ($('live-summary').textContent !== text) $('live-summary').textContent = text;
    renderTimes();
  }

  function setConnection(state, text) {
    const el = $('live-connection');
    el.dataset.state = state;
    if (el.textContent !== text) el.textContent = text;
  }

  function renderStatus() {
    const retryable = status === 'closed';
    $('live-reconnect').hidden = !retryable;
    if (status === 'open') {
      setConnection('open', 'Connected');
      clearMessages($('live-message'));
    } else if (status === 'connecting') {
      setConnection('connecting', everOpen ? 'Reconnecting…' : 'Connecting…');
    } else if (detail.final) {
      setConnection('closed', 'Disconnected');
      if (detail.error) showError($('live-message'), detail.error);
    } else {
      setConnection('closed', 'Disconnected, reconnecting');
    }
  }

  function onChange(next, nextStatus, nextDetail) {
    calls = next;
    status = nextStatus;
    detail = nextDetail;
    if (status === 'open') everOpen = true;
    renderStatus();
    renderList();
  }

  function stop() {
    unsubscribe?.();
    unsubscribe = null;
    clearInterval(tick);
    tick = null;
    clearTimeout(searchTimer);
    remote = { for: '', calls: [] };
  }

  $('live-search').addEventListener('input', (e) => {
    const raw = e.currentTarget.value.trim();
    query = raw.toLowerCase();
    limit = LIVE_PAGE;
    renderList();
    searchWholeBoard(raw);
  });
  $('live-more').addEventListener('click', () => {
    limit += LIVE_PAGE;
    renderList();
  });

  $('live-reconnect').addEventListener('click', () => {
    clearMessages($('live-message'));
    unsubscribe?.reconnect();
  });
  // Back online: no need to sit out the rest of the backoff.
  window.addEventListener('online', () => { if (status === 'closed' && !detail.final) unsubscribe?.reconnect(); });

  return {
    /** (Re)subscribes with the current token. */
    start() {
      stop();
      everOpen = false;
      calls = [];
      limit = LIVE_PAGE;
      status = 'connecting';
      rows.clear();
      list.replaceChildren();
      clearMessages($('live-message'));
      unsubscribe = client.subscribe(onChange);
      tick = setInterval(() => {
        if (!rows.size && !(status === 'closed' && detail.retryAt)) return;
        // Ended calls leave the board once faded out.
        if (calls.some((c) => c.state === 'ended' && rows.has(c.callId)
          && serverNow() - endedAt(c) >= ENDED_VISIBLE_MS)) renderList();
        else renderTimes();
      }, 1000);
    },
    reset() {
      stop();
      everOpen = false;
      calls = [];
      rows.clear();
      list.replaceChildren();
      $('live-summary').textContent = '';
      $('live-retry').textContent = '';
      $('live-reconnect').hidden = true;
      setConnection('connecting', 'Connecting…');
      clearMessages($('live-message'));
    },
  };
}

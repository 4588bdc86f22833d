// One call of the ledger with its member timeline (GET /history/{callId}).

import { $, fillFacts, h } from './dom.js';
import { detailSection } from './detail-section.js';
import { formatDuration, formatTime } from './format.js';
import { clearMessages, showError } from './messages.js';

const EVENT_TEXT = {
  started: 'placed the call',
  invited: 'was invited',
  joined: 'joined',
  left: 'left',
  ended: 'Call ended',
  // TRTC's room and media events (source `trtc`).
  room_entered: 'entered the media room',
  room_exited: 'left the media room',
  video_on: 'turned the camera on',
  video_off: 'turned the camera off',
  audio_on: 'turned the microphone on',
  audio_off: 'turned the microphone off',
  screen_on: 'started sharing the screen',
  screen_off: 'stopped sharing the screen',
};
// Why someone left the media room (TRTC's exit reasons).
const EXIT_TEXT = {
  normal: 'normal exit',
  timeout: 'timed out',
  removed: 'removed',
  cross_room_cancelled: 'cross-room call cancelled',
  force_closed: 'force-closed',
  dismissed: 'room dismissed',
};
const SOURCE_TEXT = {
  webhook: 'webhook',
  record: 'Tencent record',
  fetch: 'fetched after the end',
  backfill: 'backfill',
  reconcile: 'board reconcile',
  trtc: 'TRTC room event',
};

const at = (ms) => (ms == null ? '—' : formatTime(ms / 1000));
const talk = (call) => (call.talkMs == null ? '—' : formatDuration(call.talkMs / 1000));
const source = (s) => (s == null ? 'not yet' : SOURCE_TEXT[s] ?? s);

/** The facts of a call, as [term, description] pairs. */
export function callFacts(call) {
  return [
    ['CallId', call.callId],
    ['State', call.state === 'live' ? 'Live (no end heard yet)' : 'Ended'],
    ['Caller', call.caller ?? 'unknown'],
    ['Members', call.members.join(', ') || '—'],
    ['Type', call.callType === 'MultiCall' ? 'Group (MultiCall)' : call.callType === 'SingleCall' ? 'One-to-one (SingleCall)' : 'unknown'],
    ['Media', call.mediaType ?? 'unknown'],
    ['Result', call.result ?? (call.state === 'live' ? 'none yet' : 'unknown')],
    ['Started', at(call.startedAt)],
    ['Answered', call.acceptedAt == null ? 'never' : at(call.acceptedAt)],
    ['Ended', at(call.endedAt)],
    ['Talk time', talk(call)],
    ['Room', call.roomId || 'none'],
    ['Sources', `start: ${source(call.sources?.start)} · end: ${source(call.sources?.end)} · record: ${source(call.sources?.record)}`],
  ];
}

const reasonText = (entry) => (entry.event === 'room_exited' ? EXIT_TEXT[entry.reason] ?? entry.reason : entry.reason);

function timelineItem(entry) {
  const who = entry.userId ? `${entry.userId} ${EVENT_TEXT[entry.event] ?? entry.event}` : EVENT_TEXT[entry.event] ?? entry.event;
  return h('li', { 'data-event': entry.event },
    h('time', { datetime: new Date(entry.at).toISOString() }, at(entry.at)), ' ',
    h('span', { class: 'timeline-what' }, who),
    entry.reason ? h('span', { class: 'timeline-reason' }, ` (${reasonText(entry)})`) : null,
    h('span', { class: 'timeline-source' }, ` · ${source(entry.source)}`));
}

export function initHistoryDetail(client) {
  const section = detailSection('history-detail', 'history-detail-close');

  async function show(callId, from) {
    clearMessages($('history-detail-message'));
    $('history-detail-heading').textContent = 'Call';
    fillFacts($('history-detail-facts'), [['CallId', callId]]);
    $('history-timeline').replaceChildren();
    section.open(from);
    try {
      const { call, timeline } = await client.getHistoryCall(callId);
      $('history-detail-heading').textContent = `Call · ${call.caller ?? 'unknown'} → ${call.members.filter((m) => m !== call.caller).join(', ') || '—'}`;
      fillFacts($('history-detail-facts'), callFacts(call));
      $('history-timeline').replaceChildren(...(timeline.length ? timeline.map(timelineItem)
        : [h('li', {}, 'No events recorded.')]));
    } catch (error) {
      showError($('history-detail-message'), error);
    }
  }

  return { show, hide: section.forget };
}

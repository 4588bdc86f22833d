// Detail view of one call record, fetched by CallId.

import { $, fillFacts } from './dom.js';
import { detailSection } from './detail-section.js';
import { formatCalled, formatDuration, formatTime } from './format.js';
import { clearMessages, showError } from './messages.js';

export function initRecordDetail(client) {
  const section = detailSection('record-detail', 'record-detail-close');

  async function show(callId, from) {
    clearMessages($('record-detail-message'));
    $('record-detail-heading').textContent = 'Record';
    fillFacts($('record-detail-facts'), [['CallId', callId]]);
    section.open(from);
    try {
      const { record, requestId } = await client.getRecord(callId);
      $('record-detail-heading').textContent = `Record · ${record.caller} → ${formatCalled(record)}`;
      fillFacts($('record-detail-facts'), [
        ['CallId', record.callId],
        ['Caller', record.caller],
        ['Members', record.callees.join(', ')],
        ['Type', record.callType === 'MultiCall' ? 'Group (MultiCall)' : 'One-to-one (SingleCall)'],
        ['Media', record.mediaType],
        ['Result', record.result],
        ['Started', formatTime(record.startTime)],
        ['Answered', record.acceptTime > 0 ? formatTime(record.acceptTime) : 'never'],
        ['Ended', formatTime(record.endTime)],
        ['Talk time', record.acceptTime > 0 ? formatDuration(record.endTime - record.acceptTime) : '—'],
        ['Room', record.roomId ? `${record.roomId} (type ${record.roomIdType})` : 'none'],
        ['RequestId', requestId ?? '—'],
      ]);
    } catch (error) {
      showError($('record-detail-message'), error);
    }
  }

  return { show, hide: section.forget };
}

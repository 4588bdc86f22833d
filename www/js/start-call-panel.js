// Start call (admins): a robot account calls the callees through POST /api/v1/calls. The
// call then reaches the Live calls board by itself, through Tencent's webhooks.

import { $, busy } from './dom.js';
import { clearMessages, showError, showNotice } from './messages.js';

// The edge's rules (callkit-core is_valid_user_id, calls.rs): checked here first so the user
// hears about a typo next to the field instead of in a 400.
const USER_ID = /^[\x20-\x7e]{1,32}$/;
const MAX_CALLEES = 50;
const TIMEOUT_SECS = { min: 10, max: 600 };

const FIELDS = ['start-robot', 'start-callees', 'start-timeout'];

function setFieldError(id, text) {
  $(`${id}-error`).textContent = text;
  if (text) $(id).setAttribute('aria-invalid', 'true');
  else $(id).removeAttribute('aria-invalid');
}

/** Reads the form into a POST /api/v1/calls body, or marks the fields in error and returns null. */
function readForm() {
  FIELDS.forEach((id) => setFieldError(id, ''));
  const errors = [];
  const robot = $('start-robot').value.trim();
  if (!USER_ID.test(robot)) errors.push(['start-robot', 'Enter the robot’s UserID: 1–32 letters, digits or ASCII symbols.']);

  const callees = [...new Set($('start-callees').value.split(/[,\n]/).map((c) => c.trim()).filter(Boolean))];
  const bad = callees.find((c) => !USER_ID.test(c));
  if (!callees.length) errors.push(['start-callees', 'Enter at least one callee.']);
  else if (callees.length > MAX_CALLEES) errors.push(['start-callees', `At most ${MAX_CALLEES} callees.`]);
  else if (bad !== undefined) errors.push(['start-callees', `“${bad.slice(0, 40)}” is not a valid UserID (1–32 ASCII characters).`]);
  else if (robot && callees.every((c) => c === robot)) errors.push(['start-callees', 'Name someone other than the robot.']);

  const timeoutText = $('start-timeout').value.trim();
  const timeout = Number(timeoutText);
  if (!timeoutText || !Number.isInteger(timeout) || timeout < TIMEOUT_SECS.min || timeout > TIMEOUT_SECS.max) {
    errors.push(['start-timeout', `Enter whole seconds from ${TIMEOUT_SECS.min} to ${TIMEOUT_SECS.max}.`]);
  }

  if (errors.length) {
    errors.forEach(([id, text]) => setFieldError(id, text));
    $(errors[0][0]).focus();
    return null;
  }
  const mediaType = $('start-media').value;
  return { robot, callees: callees.filter((c) => c !== robot), mediaType, timeoutMs: timeout * 1000 };
}

export function initStartCallPanel(client) {
  const message = $('start-call-message');

  $('start-call-form').addEventListener('submit', (e) => {
    e.preventDefault();
    clearMessages(message);
    const body = readForm();
    if (!body) return;
    busy($('start-call-submit'), async () => {
      try {
        const started = await client.startCall(body);
        const refused = (started.results ?? []).filter((r) => r.resultCode !== 0);
        const lines = [started.callId
          ? `Call started: ${started.callId}. It appears on the Live calls board as Tencent reports it.`
          : 'Call started. Tencent returned no CallId; it appears on the Live calls board as Tencent reports it.'];
        if (refused.length) lines.push(`Not reached: ${refused.map((r) => `${r.userId} (code ${r.resultCode})`).join(', ')}.`);
        showNotice(message, lines.join(' '), refused.length ? 'warn' : 'success');
      } catch (error) {
        showError(message, error);
      }
    });
  });

  return {
    reset() {
      $('start-call-form').reset();
      FIELDS.forEach((id) => setFieldError(id, ''));
      clearMessages(message);
    },
  };
}

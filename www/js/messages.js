// Renders errors (from CallKitEdgeError / problem+json) and notices inside a panel,
// each error with the next step a user can take.

import { h } from './dom.js';

// Advice by code first, then by status.
const NEXT_BY_CODE = {
  forbidden: 'Only administrators can do this. Ask an admin to do it for you, or to add your account to ADMIN_USERS.',
  action_disabled: 'The operator has turned this action off. Ask an admin if you need it.',
  call_not_found: 'Check the CallId. The call may have ended, or you are not a member of it.',
  record_not_found: 'Check the CallId. A record appears a few seconds after the call ends; try again shortly.',
  callback_not_configured: 'No webhook is configured yet. Fill in the URL and events, then save.',
  route_not_found: 'The console and the edge do not match. Reload the page.',
  admin_usersig_expired: 'The edge’s admin UserSig has expired. Ask the operator to renew it (see Health).',
  admin_credential_rejected: 'Tencent rejected the edge’s admin credentials. Ask the operator to check the key, admin identifier and SDKAppID.',
  admin_credential_invalid: 'Tencent rejected the edge’s admin credentials. Ask the operator to check the key, admin identifier and SDKAppID.',
  upstream_configuration: 'The Tencent app is not set up for this. Ask the operator to check the app’s configuration.',
  misconfigured: 'The edge is misconfigured. Ask the operator to fix the setting named above.',
  upstream_timeout: 'Tencent did not answer in time. Try again in a moment.',
  network_error: 'Check your connection, then try again.',
  socket_replaced: 'Use the newer window, or press Reconnect to bring live updates back here.',
};

function nextStep(error) {
  if (error.status === 401) return 'Your sign-in is no longer accepted. Sign in again.';
  if (error.status === 429) return null; // a live countdown is rendered instead
  if (NEXT_BY_CODE[error.code]) return NEXT_BY_CODE[error.code];
  if (error.status === 403) return 'You are not allowed to do this. Ask an admin.';
  if (error.status === 404) return 'Check what you entered and try again.';
  if (error.status >= 400 && error.status < 500) return 'Correct the input and try again.';
  if (error.status >= 500) return 'Try again in a moment. If it keeps failing, tell the operator the RequestId below.';
  return 'Try again.';
}

const timers = new WeakMap();

export function clearMessages(container) {
  const timer = timers.get(container);
  if (timer) clearInterval(timer);
  timers.delete(container);
  container.replaceChildren();
}

/** Shows `error` (a CallKitEdgeError or any Error) in `container`. */
export function showError(container, error) {
  clearMessages(container);
  const status = Number(error?.status) || 0;
  const title = error?.title || 'Something went wrong';
  const detail = error?.detail || (error?.title ? '' : String(error?.message ?? error));
  const box = h('div', { class: 'alert error', role: 'alert', 'data-status': status, 'data-code': error?.code ?? '' },
    h('p', { class: 'alert-title' }, status ? `${title} (${status})` : title),
    detail ? h('p', {}, detail) : null);

  const step = nextStep({ ...error, status });
  if (step) box.append(h('p', { class: 'next-step' }, step));

  if (status === 401) {
    box.append(h('div', { class: 'actions' }, h('button', {
      type: 'button',
      onclick: () => document.dispatchEvent(new CustomEvent('callkit:sign-in-again')),
    }, 'Sign in again')));
  }

  if (status === 429) {
    const wait = Number.isFinite(error.retryAfter) ? error.retryAfter : null;
    const line = h('p', { class: 'next-step' });
    box.append(line);
    if (wait === null) {
      line.textContent = 'Too many requests. Wait a little, then retry.';
    } else {
      const until = Date.now() + wait * 1000;
      const tick = () => {
        const left = Math.ceil((until - Date.now()) / 1000);
        line.textContent = left > 0 ? `Too many requests. Retry in ${left} s.` : 'You can retry now.';
        if (left <= 0) {
          clearInterval(timers.get(container));
          timers.delete(container);
        }
      };
      tick();
      if (wait > 0) timers.set(container, setInterval(tick, 1000));
    }
  }

  const meta = [];
  if (error?.code) meta.push(`code ${error.code}`);
  if (error?.tencentErrorCode != null) meta.push(`Tencent error ${error.tencentErrorCode}`);
  if (error?.requestId) meta.push(`RequestId ${error.requestId}`);
  if (meta.length) box.append(h('p', { class: 'meta' }, meta.join(' · ')));
  container.append(box);
  return box;
}

export function showNotice(container, text, kind = 'info') {
  clearMessages(container);
  const box = h('div', { class: `alert ${kind}`, role: 'status' }, h('p', {}, text));
  container.append(box);
  return box;
}

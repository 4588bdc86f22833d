// Health panel: region, SDKAppID, auth and credential modes, and a live countdown to the
// admin credential's expiry.

import { $, busy } from './dom.js';
import { formatCountdown, formatTime } from './format.js';
import { clearMessages, showError } from './messages.js';

const CREDENTIAL_LABEL = {
  secretKey: 'Secret key (admin UserSig minted and renewed by the edge)',
  staticUserSig: 'Static admin UserSig',
};

// Below this many seconds left, the expiry is flagged as a warning.
const WARN_SECS = 3 * 86400;

export function initHealthPanel(client) {
  let expiresAt = null;
  let credentialMode = null;

  function renderExpiry() {
    const dd = $('health-expiry');
    dd.classList.remove('warn', 'bad');
    if (expiresAt == null) {
      dd.textContent = credentialMode === 'secretKey' ? 'Renewed automatically' : 'Unknown';
      return;
    }
    const left = expiresAt - Date.now() / 1000;
    const renewal = credentialMode === 'secretKey' ? ', renewed automatically' : '';
    dd.textContent = `${formatCountdown(expiresAt)} (${formatTime(expiresAt)})${renewal}`;
    if (left <= 0) dd.classList.add('bad');
    else if (left < WARN_SECS && credentialMode === 'staticUserSig') dd.classList.add('warn');
  }

  async function load() {
    clearMessages($('health-message'));
    try {
      const health = await client.health();
      $('health-status').textContent = health.status === 'ok' ? 'OK' : String(health.status);
      $('health-region').textContent = health.region ?? '—';
      $('health-sdkappid').textContent = String(health.sdkAppId ?? '—');
      $('health-auth').textContent = health.authMode ?? '—';
      credentialMode = health.credentialMode ?? null;
      $('health-credential').textContent = CREDENTIAL_LABEL[credentialMode] ?? credentialMode ?? '—';
      expiresAt = Number.isFinite(health.credentialExpiresAt) ? health.credentialExpiresAt : null;
      renderExpiry();
    } catch (error) {
      $('health-status').textContent = 'Unavailable';
      showError($('health-message'), error);
    }
  }

  $('health-refresh').addEventListener('click', (e) => busy(e.currentTarget, load));
  setInterval(() => { if (expiresAt != null) renderExpiry(); }, 1000);
  return load();
}

// "My UserSig": mints the signed-in user's TUICallKit UserSig, copies it, shows its expiry.

import { $, busy } from './dom.js';
import { formatCountdown, formatTime } from './format.js';
import { clearMessages, showError } from './messages.js';

async function copyText(textarea) {
  try {
    await navigator.clipboard.writeText(textarea.value);
    return true;
  } catch {
    // Clipboard API refused (permissions, insecure context): fall back to a selection copy.
    textarea.focus();
    textarea.select();
    try { return document.execCommand('copy'); } catch { return false; }
  }
}

export function initUserSigPanel(client) {
  let expiresAt = null;
  let timer = null;

  function renderExpiry() {
    if (expiresAt != null) $('usersig-expiry').textContent = `${formatTime(expiresAt)} (${formatCountdown(expiresAt)})`;
  }

  $('usersig-mint').addEventListener('click', (e) => busy(e.currentTarget, async () => {
    clearMessages($('usersig-message'));
    $('usersig-copied').textContent = '';
    try {
      const minted = await client.mintUserSig();
      $('usersig-user').textContent = minted.userId;
      $('usersig-sdkappid').textContent = String(minted.sdkAppId);
      $('usersig-value').value = minted.userSig;
      expiresAt = minted.expiresAt;
      renderExpiry();
      clearInterval(timer);
      timer = setInterval(renderExpiry, 1000);
      $('usersig-result').hidden = false;
    } catch (error) {
      showError($('usersig-message'), error);
    }
  }));

  $('usersig-copy').addEventListener('click', async () => {
    const ok = await copyText($('usersig-value'));
    $('usersig-copied').textContent = ok ? 'Copied.' : 'Copy failed: select the text and copy it by hand.';
  });

  return {
    reset() {
      clearInterval(timer);
      expiresAt = null;
      $('usersig-value').value = '';
      $('usersig-result').hidden = true;
      $('usersig-copied').textContent = '';
      clearMessages($('usersig-message'));
    },
  };
}

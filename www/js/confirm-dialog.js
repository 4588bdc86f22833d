// A modal confirmation step on the native <dialog>: focus is trapped, Escape cancels,
// and focus returns to the control that opened it.

import { $ } from './dom.js';

/** Resolves true when the user confirms, false on Cancel or Escape. */
export function confirmAction({ title, message, confirmLabel = 'Confirm' }) {
  const dialog = $('confirm-dialog');
  const opener = document.activeElement;
  $('confirm-title').textContent = title;
  $('confirm-message').textContent = message;
  $('confirm-ok').textContent = confirmLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === 'confirm');
    }, { once: true });
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

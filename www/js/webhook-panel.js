// Webhook configuration: the callback URL and which of the three events Tencent posts.

import { $, busy } from './dom.js';
import { confirmAction } from './confirm-dialog.js';
import { clearMessages, showError, showNotice } from './messages.js';

const boxes = () => [...document.querySelectorAll('#webhook-form input[name=commands]')];

// The edge never answers the URL's secret `key` (it says `keyed`): a save keeps the stored one.
function fill(url, commands, keyed = false) {
  $('webhook-url').value = url;
  $('webhook-keyed').hidden = !keyed;
  const on = new Set(commands);
  boxes().forEach((box) => { box.checked = on.has(box.value); });
}

function validUrl(text) {
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

export function initWebhookPanel(client) {
  const message = $('webhook-message');

  $('webhook-load').addEventListener('click', (e) => busy(e.currentTarget, async () => {
    clearMessages(message);
    try {
      const config = await client.getCallback();
      fill(config.url, config.commands, config.keyed === true);
      showNotice(message, 'Loaded the current webhook configuration.', 'success');
    } catch (error) {
      if (error.code === 'callback_not_configured') {
        fill('', []);
        showNotice(message, 'No webhook is configured. Fill in the URL and events, then save.', 'info');
      } else {
        showError(message, error);
      }
    }
  }));

  $('webhook-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const url = $('webhook-url').value.trim();
    const commands = boxes().filter((b) => b.checked).map((b) => b.value);
    $('webhook-url-error').textContent = '';
    $('webhook-url').removeAttribute('aria-invalid');
    if (!validUrl(url)) {
      $('webhook-url-error').textContent = 'Enter an http:// or https:// URL.';
      $('webhook-url').setAttribute('aria-invalid', 'true');
      $('webhook-url').focus();
      return;
    }
    busy($('webhook-save'), async () => {
      clearMessages(message);
      try {
        const keepKey = !$('webhook-keyed').hidden && !new URL(url).searchParams.has('key');
        const saved = await client.setCallback({ url, commands, keepKey });
        if (saved && typeof saved.url === 'string') fill(saved.url, saved.commands ?? commands, saved.keyed === true);
        showNotice(message, 'Webhook saved.', 'success');
      } catch (error) {
        showError(message, error);
      }
    });
  });

  $('webhook-delete').addEventListener('click', async (e) => {
    const button = e.currentTarget; // currentTarget is gone once the dialog has been awaited
    const ok = await confirmAction({
      title: 'Delete the webhook?',
      message: 'Tencent stops posting call events to your server.',
      confirmLabel: 'Delete webhook',
    });
    if (!ok) return;
    await busy(button, async () => {
      clearMessages(message);
      try {
        await client.deleteCallback();
        fill('', []);
        showNotice(message, 'Webhook deleted.', 'success');
      } catch (error) {
        showError(message, error);
      }
    });
  });

  return {
    reset() {
      fill('', []);
      clearMessages(message);
    },
  };
}

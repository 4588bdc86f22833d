// Console entry point: one API client for every panel, sign-in and sign-out.

import { CallKitEdgeClient } from '../callkit-edge-client.js';
import { $ } from './dom.js';
import { clearToken, getToken, onSessionChange, setToken } from './session.js';
import { describeToken } from './token-identity.js';
import { offerDevTokens } from './dev-tokens.js';
import { initHealthPanel } from './health-panel.js';
import { initUserSigPanel } from './usersig-panel.js';
import { initCallPanel } from './call-panel.js';
import { initRecordsPanel } from './records-panel.js';
import { initWebhookPanel } from './webhook-panel.js';
import { initLivePanel } from './live-panel.js';
import { initStartCallPanel } from './start-call-panel.js';
import { initRelayPanel } from './relay-panel.js';

const client = new CallKitEdgeClient({ token: getToken });

const recordsPanel = initRecordsPanel(client);
const livePanel = initLivePanel(client, {
  // A live call: follow it in Call lookup.
  openCall(callId) {
    $('call-id').value = callId;
    $('call-form').requestSubmit();
    $('call').focus();
  },
  // An ended call: its record.
  openRecord: (callId, opener) => recordsPanel.showRecord(callId, opener),
});
const panels = [
  livePanel,
  initUserSigPanel(client),
  initCallPanel(client),
  initStartCallPanel(client),
  recordsPanel,
  initWebhookPanel(client),
  initRelayPanel(client),
];
initHealthPanel(client);

async function renderSession(token) {
  const signedIn = Boolean(token);
  $('sign-in').hidden = signedIn;
  $('sign-out').hidden = !signedIn;
  document.querySelectorAll('.signed-in-only').forEach((el) => { el.hidden = !signedIn; });
  if (!signedIn) {
    $('session-status').textContent = 'Not signed in';
    return;
  }
  $('session-status').textContent = 'Signed in';
  livePanel.start();
  const who = await describeToken(token);
  if (getToken() === token && who) $('session-status').textContent = `Signed in as ${who.identity}`;
}

function signIn(token) {
  const value = token.trim();
  if (!value) {
    $('token-error').textContent = 'Paste a token to sign in.';
    $('token-input').setAttribute('aria-invalid', 'true');
    $('token-input').focus();
    return;
  }
  $('token-error').textContent = '';
  $('token-input').removeAttribute('aria-invalid');
  $('token-input').value = '';
  setToken(value);
  $('main').focus();
}

function signOut() {
  panels.forEach((p) => p.reset());
  clearToken();
  $('token-input').focus();
}

onSessionChange(renderSession);
$('sign-in-form').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn($('token-input').value);
});
$('sign-out').addEventListener('click', signOut);
// From a 401 anywhere: the token is no longer accepted.
document.addEventListener('callkit:sign-in-again', signOut);

renderSession(getToken());
offerDevTokens(signIn);

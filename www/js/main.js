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
import { initHistoryPanel } from './history-panel.js';
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
const historyPanel = initHistoryPanel(client);
panels.push(historyPanel);

// Who `GET /api/v1/me` says the caller is when the page holds no token: behind Cloudflare
// Access the edge reads Access's own header, so there is nothing to paste.
let edgeSession = null;

async function renderSession(token) {
  const signedIn = Boolean(token) || edgeSession !== null;
  $('sign-in').hidden = signedIn;
  // Access signs out at its own /cdn-cgi/access/logout, not here.
  $('sign-out').hidden = !token;
  document.querySelectorAll('.signed-in-only').forEach((el) => { el.hidden = !signedIn; });
  if (!signedIn) {
    $('session-status').textContent = 'Not signed in';
    return;
  }
  $('session-status').textContent = 'Signed in';
  livePanel.start();
  historyPanel.start();
  // The edge is the authority on who this is (JWT_USER_CLAIM may not be `sub`); the
  // token's own claims are only a fallback when it cannot be asked.
  const who = token ? await client.me().catch(() => null) : edgeSession;
  if (getToken() !== token) return;
  if (who) {
    $('session-status').textContent = `Signed in as ${who.userId}${who.admin ? ' (admin)' : ''} · ${who.provider}`;
    return;
  }
  const guess = token ? await describeToken(token) : null;
  if (getToken() === token && guess) $('session-status').textContent = `Signed in as ${guess.identity}`;
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
if (!getToken()) {
  client.me().then((who) => {
    edgeSession = who;
    if (!getToken()) renderSession(null);
  }, () => { /* not signed in by the edge: paste a token */ });
}

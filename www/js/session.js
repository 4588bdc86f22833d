// The signed-in token, kept in sessionStorage so it dies with the tab.

const KEY = 'callkit-edge.token';
const listeners = new Set();

export function getToken() {
  try { return sessionStorage.getItem(KEY); } catch { return null; }
}

export function setToken(token) {
  try { sessionStorage.setItem(KEY, token); } catch { /* storage disabled: keep going unsigned */ }
  listeners.forEach((fn) => fn(getToken()));
}

export function clearToken() {
  try { sessionStorage.removeItem(KEY); } catch { /* nothing stored */ }
  listeners.forEach((fn) => fn(null));
}

/** Calls `fn(token | null)` on every sign-in and sign-out. */
export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// Browser client for the callkit-edge API (see README "Edge API").
// An ES module with no dependencies: apps copy it or import it from the edge's origin.

const API = '/api/v1';
/** The close code of a live socket that made way for a newer one of the same user. */
const SOCKET_REPLACED = 4008;
/** The close code of a live socket whose ticket's time (the token's, at most 1 h) is up. */
const SOCKET_EXPIRED = 4001;

/** Every failure of a call to the edge: an HTTP error, an unreadable answer or no answer. */
export class CallKitEdgeError extends Error {
  constructor({ status = 0, code = 'unknown_error', title = 'Error', detail = '', tencentErrorCode = null,
    requestId = null, retryAfter = null, type = null } = {}) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'CallKitEdgeError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.tencentErrorCode = tencentErrorCode;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
    this.type = type;
  }
}

// The close code a board's `closing` message announces, or null for any other message.
function closingCode(data) {
  if (typeof data !== 'string' || !data.startsWith('{"type":"closing"')) return null;
  try {
    const code = JSON.parse(data).code;
    return Number.isInteger(code) ? code : null;
  } catch {
    return null;
  }
}

// Retry-After is either delta-seconds or an HTTP date.
function parseRetryAfter(value, now = Date.now()) {
  if (value == null || value === '') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

// Generic codes for answers that are not problem+json (a proxy page, a dropped connection).
function genericProblem(status) {
  if (status === 401) return { code: 'unauthorized', title: 'Unauthorized' };
  if (status === 403) return { code: 'forbidden', title: 'Forbidden' };
  if (status === 404) return { code: 'not_found', title: 'Not found' };
  if (status === 429) return { code: 'rate_limited', title: 'Too many requests' };
  if (status >= 500) return { code: 'server_error', title: 'Server error' };
  return { code: 'http_error', title: `HTTP ${status}` };
}

function toUnixSeconds(value) {
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  return value;
}

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first): exponential from
 * `minDelayMs`, capped at `maxDelayMs`, with jitter (a random 50-100 % of that), so many
 * clients that lost the edge together do not come back in step.
 */
function toUnixMillis(value) {
  return value instanceof Date ? value.getTime() : value;
}

// `?k=v&…` of the keys that are set (Dates as Unix ms), or ''.
function queryString(values, keys) {
  const query = new URLSearchParams();
  for (const key of keys) {
    const value = toUnixMillis(values[key]);
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  }
  const qs = query.toString();
  return qs ? `?${qs}` : '';
}

function reconnectDelay(attempt, { minDelayMs = 1000, maxDelayMs = 30_000, random = Math.random } = {}) {
  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() / 2));
}

// The board's order (GET /live/calls): live calls first, then newest first (by start, then by
// last change), ties by CallId.
function sortCalls(calls) {
  const at = (c) => c.startedAt ?? c.updatedAt ?? 0;
  return calls.sort((a, b) => (a.state === 'ended') - (b.state === 'ended') || at(b) - at(a)
    || (b.updatedAt ?? 0) - (a.updatedAt ?? 0) || String(a.callId).localeCompare(String(b.callId)));
}

// A failed ticket request that another attempt cannot fix: the token or the policy refuses,
// or the edge has no live board. Timeouts, rate limits, 5xx and network errors are retried.
/**
 * The shards' snapshot counts added up (`{ total, live, ended, audio, video }`), or null when a
 * shard sent none. A snapshot holds the newest calls only (500 per shard): `total` says how many
 * there were when it was taken.
 */
function addSummaries(summaries) {
  if (!summaries.length || summaries.some((s) => !s || typeof s !== 'object')) return null;
  const sum = { total: 0, live: 0, ended: 0, audio: 0, video: 0 };
  for (const s of summaries) for (const k of Object.keys(sum)) sum[k] += Number(s[k]) || 0;
  return sum;
}

function isFinal(error) {
  const status = Number(error?.status) || 0;
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

// Rethrows outside the socket machinery, so a throwing listener is reported but cannot stop it.
function reportLater(error) {
  setTimeout(() => { throw error; }, 0);
}

export class CallKitEdgeClient {
  #baseUrl;
  #token;
  #fetch;
  #WebSocket;

  /**
   * `getToken({ forceRefresh })` is called before every request for the identity provider's
   * current token; after a 401 `token_expired` it is called once more with `forceRefresh: true`
   * and the request is sent again. `token` (a string, or the same kind of function) is the older
   * spelling; give one of the two.
   *
   * @param {{ baseUrl?: string, token?: string | ((options: { forceRefresh: boolean }) => string | null | undefined | Promise<string | null | undefined>),
   *           getToken?: (options: { forceRefresh: boolean }) => string | null | undefined | Promise<string | null | undefined>,
   *           fetch?: typeof fetch, WebSocket?: typeof WebSocket }} options
   */
  constructor({ baseUrl = '', token, getToken, fetch: fetchImpl, WebSocket: WebSocketImpl } = {}) {
    if (getToken !== undefined && token !== undefined) throw new TypeError('pass getToken or token, not both');
    if (getToken !== undefined && typeof getToken !== 'function') throw new TypeError('getToken must be a function');
    this.#baseUrl = String(baseUrl).replace(/\/+$/, '');
    this.#token = getToken ?? token;
    this.#fetch = fetchImpl ?? ((...args) => globalThis.fetch(...args));
    this.#WebSocket = WebSocketImpl;
  }

  health() { return this.#request('GET', '/health', { auth: false }); }

  getCall(callId) { return this.#request('GET', `/calls/${encodeURIComponent(callId)}`); }

  endCall(callId) { return this.#request('POST', `/calls/${encodeURIComponent(callId)}/end`); }

  startCall(req) { return this.#request('POST', '/calls', { body: req }); }

  getRecord(callId) { return this.#request('GET', `/records/${encodeURIComponent(callId)}`); }

  listRecords(filter = {}) {
    const query = new URLSearchParams();
    for (const key of ['start', 'end', 'result', 'type', 'page', 'perPage']) {
      const value = toUnixSeconds(filter[key]);
      if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
    }
    const qs = query.toString();
    return this.#request('GET', `/records${qs ? `?${qs}` : ''}`);
  }

  getCallback() { return this.#request('GET', '/callback'); }

  /** `keepKey`: the URL has no `key=` and should keep the one configured now (answers never show it). */
  setCallback({ url, commands, keepKey }) {
    const body = keepKey ? { url, commands, keepKey: true } : { url, commands };
    return this.#request('PUT', '/callback', { body });
  }

  deleteCallback() { return this.#request('DELETE', '/callback'); }

  mintUserSig() { return this.#request('POST', '/usersig', { body: {} }); }

  /** Who the edge thinks the caller is: `{ userId, admin, provider, expiresAt }`. */
  me() { return this.#request('GET', '/me'); }

  /**
   * A page of the live (and recently ended) calls the caller may see: `{ calls, now, summary,
   * nextCursor }`, live first, then heard of last. `limit` (1-1000, default 500), `cursor` (the
   * previous page's `nextCursor`), and `user` / `callId` to search the whole board.
   */
  liveCalls(query = {}) {
    return this.#request('GET', `/live/calls${queryString(query, ['limit', 'cursor', 'user', 'callId'])}`);
  }

  /** One-use, 30 s tickets to open the live sockets with, one per shard: `{ ticket, tickets, expiresIn }`. */
  liveTicket() { return this.#request('POST', '/live/ticket'); }

  /** A page of the call ledger, newest first: `{ calls, nextCursor, from, to }` (docs/call-ledger.md). */
  listHistory(filter = {}) {
    return this.#request('GET', `/history${queryString(filter, ['from', 'to', 'user', 'result', 'mediaType', 'callType', 'limit', 'cursor'])}`);
  }

  /** One call of the ledger with its member timeline: `{ call, timeline }`. */
  getHistoryCall(callId) { return this.#request('GET', `/history/${encodeURIComponent(callId)}`); }

  /** Per hour or day: calls, answered, results and talk time. */
  historyStats(query = {}) {
    return this.#request('GET', `/history/stats${queryString(query, ['from', 'to', 'bucket', 'tz'])}`);
  }

  /** Every call of a range, as a Blob of CSV (default) or NDJSON. Admins only. */
  exportHistory(query = {}) {
    return this.#request('GET', `/history/export${queryString(query, ['from', 'to', 'format'])}`, { blob: true });
  }

  /** Imports Tencent's last 7 days into the ledger; answers the progress. Admins only. */
  startBackfill(range = {}) {
    const body = {};
    for (const key of ['from', 'to']) if (range[key] != null) body[key] = toUnixMillis(range[key]);
    return this.#request('POST', '/history/backfill', { body });
  }

  /** The backfill's progress. Admins only. */
  backfillStatus() { return this.#request('GET', '/history/backfill'); }

  /** Erasure: removes a user from every call of the ledger; answers the counts. Admins only. */
  eraseHistoryUser(userId) { return this.#request('DELETE', `/history/users/${encodeURIComponent(userId)}`); }

  /**
   * The relay's delivery log (admins): `{ urls, deliveries, nextCursor }`, failing URLs first,
   * deliveries newest first. `filter`: `{ status, url, cursor }`, each optional.
   */
  relayDeliveries(filter = {}) {
    const query = new URLSearchParams();
    for (const key of ['status', 'url', 'cursor']) {
      if (filter[key]) query.set(key, String(filter[key]));
    }
    const qs = query.toString();
    return this.#request('GET', `/relay/deliveries${qs ? `?${qs}` : ''}`);
  }

  /** Queues one delivery again, same body, URL and `webhook-id` (admins): `{ id, status }`. */
  redeliver(id) { return this.#request('POST', `/relay/deliveries/${encodeURIComponent(id)}/redeliver`); }

  /**
   * Follows the live calls over WebSockets, one per shard of the board (one ticket each).
   * `onChange(calls, status, detail)` is called with
   * every call the caller may see (live first, then newest first), the connection status (`connecting`, `open`,
   * `closed`) and `{ error, retryAt, final, clockOffsetMs }`. Every connection, first or not,
   * opens with fresh tickets (the bearer token never goes in a URL); a socket whose ticket's
   * time is up (close code 4001) is reopened at once with new ones. After a drop the client
   * reconnects on its own, with exponential backoff and jitter up to `maxDelayMs`; a refusal
   * another attempt cannot fix (401, 403, …) closes it for good (`final: true`). While
   * reconnecting, `calls` is the last list seen. Returns a function that closes the
   * subscription for good (after which `onChange` is not called again); its `reconnect()`
   * skips the wait before the next attempt.
   */
  subscribe(onChange, {
    minDelayMs = 1000, maxDelayMs = 30_000, pingIntervalMs = 25_000, random = Math.random,
  } = {}) {
    if (typeof onChange !== 'function') throw new TypeError('subscribe(onChange): onChange must be a function');
    const WebSocketImpl = this.#WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketImpl !== 'function') {
      throw new TypeError('subscribe() needs a WebSocket: pass { WebSocket } to the CallKitEdgeClient constructor');
    }
    const calls = new Map();
    const shardOf = new Map(); // callId → the socket (shard) that last spoke of it
    let status = 'connecting';
    let detail = { error: null, retryAt: null, final: false, clockOffsetMs: 0 };
    let stopped = false;
    let sockets = []; // one per shard, in shard order
    let snapshots = new Map(); // shard → its snapshot's summary (counts over all its calls)
    let attempt = 0;
    let generation = 0; // a connection attempt superseded by a newer one (or by the end) drops its results
    let retryTimer = null;
    let pingTimer = null;

    const emit = () => {
      if (stopped) return;
      try {
        onChange(sortCalls([...calls.values()]), status, { ...detail });
      } catch (error) {
        reportLater(error);
      }
    };

    const stopHeartbeat = () => {
      clearInterval(pingTimer);
      pingTimer = null;
    };

    // Forgets every socket without waiting for its close handshake (a dead link may never finish one).
    const abandonAll = () => {
      for (const ws of sockets) {
        ws.onopen = null;
        ws.onmessage = null;
        ws.onclose = null;
        // Closing a socket still connecting reports an error: keep a listener for it (Node's
        // `ws` throws an error nobody listens to).
        ws.onerror = () => {};
        try { ws.close(1000); } catch { /* not open yet, or already gone */ }
      }
      sockets = [];
      stopHeartbeat();
    };

    const scheduleRetry = (error, { now = false } = {}) => {
      if (stopped) return;
      let wait = now ? 0 : reconnectDelay(attempt, { minDelayMs, maxDelayMs, random });
      if (Number.isFinite(error?.retryAfter)) wait = Math.max(wait, error.retryAfter * 1000);
      if (!now) attempt += 1;
      status = 'closed';
      detail = { ...detail, error: error ?? null, retryAt: Date.now() + wait, final: false };
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, wait);
      emit();
    };

    const finish = (error) => {
      status = 'closed';
      detail = { ...detail, error, retryAt: null, final: true };
      emit();
    };

    const onMessage = (shard, data) => {
      if (typeof data !== 'string' || data === 'pong') return;
      let msg;
      try { msg = JSON.parse(data); } catch { return; }
      if (msg?.type === 'snapshot' && Array.isArray(msg.calls)) {
        // A shard's snapshot replaces what that shard said before, and nothing of the others.
        for (const [id, k] of shardOf) if (k === shard) { calls.delete(id); shardOf.delete(id); }
        for (const call of msg.calls) if (call?.callId) { calls.set(call.callId, call); shardOf.set(call.callId, shard); }
        snapshots.set(shard, msg.summary ?? null);
        if (snapshots.size < sockets.length) return;
        attempt = 0;
        status = 'open';
        detail = {
          error: null, retryAt: null, final: false,
          clockOffsetMs: Number.isFinite(msg.now) ? msg.now - Date.now() : 0,
          summary: addSummaries([...snapshots.values()]),
        };
      } else if (msg?.type === 'batch' && Array.isArray(msg.messages)) {
        // Changes the edge sent together (LIVE_COALESCE_MS): applied in order, shown once.
        if (!msg.messages.map((m) => applyChange(shard, m)).some(Boolean)) return;
      } else if (!applyChange(shard, msg)) {
        return; // a message this version does not know
      }
      if (status === 'open') emit();
    };

    // One `call` or `removed` message; false for anything else.
    const applyChange = (shard, msg) => {
      if (msg?.type === 'call' && msg.call?.callId) {
        calls.set(msg.call.callId, msg.call);
        shardOf.set(msg.call.callId, shard);
      } else if (msg?.type === 'removed' && typeof msg.callId === 'string') {
        calls.delete(msg.callId);
        shardOf.delete(msg.callId);
      } else {
        return false;
      }
      return true;
    };

    const connect = async () => {
      clearTimeout(retryTimer);
      retryTimer = null;
      abandonAll();
      if (stopped) return;
      const gen = ++generation;
      status = 'connecting';
      detail = { ...detail, retryAt: null };
      emit();

      let tickets;
      try {
        const answer = await this.liveTicket();
        tickets = Array.isArray(answer?.tickets) && answer.tickets.length ? answer.tickets : [answer?.ticket];
        if (!tickets.every((t) => typeof t === 'string' && t)) {
          throw new CallKitEdgeError({ status: 200, code: 'bad_response', title: 'Unreadable answer',
            detail: 'The edge answered the ticket request without a ticket.' });
        }
      } catch (error) {
        if (stopped || gen !== generation) return;
        if (isFinal(error)) finish(error);
        else scheduleRetry(error);
        return;
      }
      if (stopped || gen !== generation) return;

      snapshots = new Map();
      try {
        sockets = tickets.map((t) => new WebSocketImpl(this.#wsUrl(`/live?ticket=${encodeURIComponent(t)}`)));
      } catch (error) {
        abandonAll();
        scheduleRetry(error);
        return;
      }
      const mine = sockets;
      const awaiting = new Set();
      stopHeartbeat();
      // Any message proves a link alive; a ping that got nothing back by the next one means
      // a connection that died without a close (a sleeping laptop, a lost network): drop them.
      pingTimer = setInterval(() => {
        if (awaiting.size > 0) {
          abandonAll();
          scheduleRetry(new CallKitEdgeError({ status: 0, code: 'network_error', title: 'Connection lost',
            detail: 'The live connection stopped answering.' }));
          return;
        }
        for (const ws of mine) {
          awaiting.add(ws);
          try { ws.send('ping'); } catch { /* closing: onclose follows */ }
        }
      }, pingIntervalMs);
      // A shard's socket ended: by its close, or by the `closing` message the board sends
      // first (a close frame may reach us only when the connection ends, which can be late).
      const closed = (code) => {
        if (sockets !== mine) return;
        abandonAll();
        if (code === SOCKET_REPLACED) {
          // A newer socket of the same user (another tab) took this one's place:
          // reconnecting would only push that one out in turn.
          finish(new CallKitEdgeError({ status: 0, code: 'socket_replaced', title: 'Opened elsewhere',
            detail: 'Live updates moved to a newer window of your account. Reconnect to take them back.' }));
          return;
        }
        const error = new CallKitEdgeError({
          status: 0, code: 'connection_closed', title: 'Connection closed',
          detail: `The live connection closed (code ${code ?? 'unknown'}).`,
        });
        // A ticket whose time is up is not a failure: new tickets at once.
        scheduleRetry(error, { now: code === SOCKET_EXPIRED });
      };
      mine.forEach((ws, shard) => {
        ws.onmessage = (event) => {
          awaiting.delete(ws);
          const code = closingCode(event.data);
          if (code !== null) closed(code);
          else onMessage(shard, event.data);
        };
        ws.onerror = () => { /* onclose follows with the details there are */ };
        ws.onclose = (event) => closed(event?.code);
      });
    };

    const unsubscribe = () => {
      if (stopped) return;
      stopped = true;
      generation += 1;
      clearTimeout(retryTimer);
      retryTimer = null;
      abandonAll();
    };
    /** Reconnects now instead of at the scheduled time (or after a final close). */
    unsubscribe.reconnect = () => {
      if (stopped || status !== 'closed') return;
      attempt = 0;
      connect();
    };
    connect();
    return unsubscribe;
  }

  // The WebSocket URL of an API path: the base URL's (or the page's) origin, in ws: or wss:.
  #wsUrl(path) {
    const base = this.#baseUrl || globalThis.location?.origin;
    if (!base) throw new TypeError('a baseUrl is needed outside a browser');
    const url = new URL(`${base}${API}${path}`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }

  async #bearer(forceRefresh = false) {
    const token = typeof this.#token === 'function' ? await this.#token({ forceRefresh }) : this.#token;
    return token ? String(token) : null;
  }

  // A 401 is answered before anything runs, so sending again with a refreshed token is safe.
  async #request(method, path, options = {}) {
    try {
      return await this.#send(method, path, options, false);
    } catch (error) {
      const refreshable = options.auth !== false && typeof this.#token === 'function' &&
        error instanceof CallKitEdgeError && error.code === 'token_expired';
      if (!refreshable) throw error;
      return this.#send(method, path, options, true);
    }
  }

  async #send(method, path, { body, auth = true, blob = false }, forceRefresh) {
    const headers = { Accept: 'application/json, application/problem+json' };
    if (auth) {
      const token = await this.#bearer(forceRefresh);
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    const init = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }

    let response;
    try {
      response = await this.#fetch(`${this.#baseUrl}${API}${path}`, init);
    } catch (cause) {
      const error = new CallKitEdgeError({
        status: 0, code: 'network_error', title: 'Network error',
        detail: 'The edge could not be reached. Check your connection and try again.',
      });
      error.cause = cause;
      throw error;
    }

    if (blob && response.ok) return response.blob();
    const text = await response.text().catch(() => '');
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    const headerRequestId = response.headers.get('X-Tencent-Request-Id');

    if (!response.ok) {
      const problem = json && typeof json === 'object' && !Array.isArray(json) ? json : {};
      const fallback = genericProblem(response.status);
      throw new CallKitEdgeError({
        status: response.status,
        code: typeof problem.code === 'string' ? problem.code : fallback.code,
        title: typeof problem.title === 'string' ? problem.title : fallback.title,
        detail: typeof problem.detail === 'string' ? problem.detail : '',
        tencentErrorCode: typeof problem.tencentErrorCode === 'number' ? problem.tencentErrorCode : null,
        requestId: problem.requestId ?? headerRequestId ?? null,
        retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
        type: typeof problem.type === 'string' ? problem.type : null,
      });
    }
    if (json === null || typeof json !== 'object') {
      throw new CallKitEdgeError({
        status: response.status, code: 'bad_response', title: 'Unreadable answer',
        detail: 'The edge answered with something that is not JSON.', requestId: headerRequestId,
      });
    }
    return json;
  }
}

export { parseRetryAfter, reconnectDelay };

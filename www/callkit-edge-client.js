// Browser client for the callkit-edge API (see README "Edge API").
// An ES module with no dependencies: apps copy it or import it from the edge's origin.

const API = '/api/v1';

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

export class CallKitEdgeClient {
  #baseUrl;
  #token;
  #fetch;

  /**
   * @param {{ baseUrl?: string, token?: string | (() => string | null | undefined | Promise<string | null | undefined>),
   *           fetch?: typeof fetch }} options
   */
  constructor({ baseUrl = '', token, fetch: fetchImpl } = {}) {
    this.#baseUrl = String(baseUrl).replace(/\/+$/, '');
    this.#token = token;
    this.#fetch = fetchImpl ?? ((...args) => globalThis.fetch(...args));
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

  setCallback({ url, commands }) { return this.#request('PUT', '/callback', { body: { url, commands } }); }

  deleteCallback() { return this.#request('DELETE', '/callback'); }

  mintUserSig() { return this.#request('POST', '/usersig', { body: {} }); }

  async #bearer() {
    const token = typeof this.#token === 'function' ? await this.#token() : this.#token;
    return token ? String(token) : null;
  }

  async #request(method, path, { body, auth = true } = {}) {
    const headers = { Accept: 'application/json, application/problem+json' };
    if (auth) {
      const token = await this.#bearer();
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

export { parseRetryAfter };

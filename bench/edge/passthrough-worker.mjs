// The floor: one fetch to the upstream command a route would use, its answer
// returned as is. No auth, no UserSig, no reshaping. Routes without an
// upstream command (health, usersig) fetch the upstream's static /health.
const COMMANDS = [
  [/^\/api\/v1\/calls\/([^/]+)$/, 'call_engine_http_srv/get_call_info'],
  [/^\/api\/v1\/records\/([^/]+)$/, 'call_record_http_srv/get_record_by_callid'],
  [/^\/api\/v1\/records$/, 'call_record_http_srv/get_record_by_filter'],
];

export default {
  async fetch(req, env) {
    const { pathname } = new URL(req.url);
    for (const [pattern, command] of COMMANDS) {
      const m = pathname.match(pattern);
      if (m) {
        return fetch(`${env.TENCENT_API_BASE}/v4/${command}?contenttype=json`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(m[1] ? { CallId: m[1] } : {}),
        });
      }
    }
    return fetch(`${env.TENCENT_API_BASE}/health`);
  },
};

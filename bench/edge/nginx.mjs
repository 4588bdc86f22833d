// The static upstream: nginx answering the Tencent v4 commands the bench
// routes use with the documented samples, plus the RS256 JWKS.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const JWKS_PATH = '/.well-known/jwks.json';

const compact = (file) => JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));

/** Path → body: the commands (see crates/callkit-core/src/command.rs) and the JWKS. */
export function upstreamBodies(root) {
  const sample = (cmd) => compact(join(root, 'crates/callkit-core/tests/resources', `${cmd}.response.json`));
  return {
    '/v4/call_engine_http_srv/get_call_info': sample('get_call_info'),
    '/v4/call_record_http_srv/get_record_by_callid': sample('get_record_by_callid'),
    '/v4/call_record_http_srv/get_record_by_filter': sample('get_record_by_filter'),
    [JWKS_PATH]: compact(join(root, 'src/api/auth/testdata/jwks.json')),
    '/health': '{"status":"ok"}',
  };
}

// Inside '…' nginx expands `$var` and treats `\` and `'` specially.
function quote(body) {
  if (body.includes('$')) throw new Error('an upstream body contains `$`, which nginx would expand');
  return `'${body.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Writes `dir/nginx.conf` (prefix `dir`) listening on 127.0.0.1:`port`; returns its path. */
export function writeNginxConfig(dir, { port, bodies }) {
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
  const locations = Object.entries(bodies).map(
    ([path, body]) => `    location = ${path} { default_type application/json; return 200 ${quote(body)}; }`,
  );
  const conf = `worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs/error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port};
${locations.join('\n')}
    location / { return 404; }
  }
}
`;
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, conf);
  return path;
}

// Runs wrk for one route against one worker and parses its --latency report.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { trackGroup } from './procs.mjs';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./request.lua', import.meta.url));
const UNIT_MS = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 };

/** `{ rps, p50, p99 (ms), requests, non2xx, socketErrors, raw }` for `secs` of load. */
export async function wrk(url, { method = 'GET', token = '', body = '', secs, connections, threads = 1 }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${secs}s`, '--latency', '-s', SCRIPT, url];
  const env = { ...process.env, BENCH_METHOD: method, BENCH_TOKEN: token, BENCH_BODY: body };
  const running = run('wrk', args, { env, timeout: (secs + 30) * 1000, detached: true });
  const { stdout } = await trackGroup(running.child.pid, running);
  return parseWrk(stdout);
}

export function parseWrk(text) {
  const num = (re) => Number(text.match(re)?.[1] ?? NaN);
  const latency = (pct) => {
    const m = text.match(new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    return m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
  };
  const sock = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: latency(50),
    p99: latency(99),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    raw: text,
  };
}

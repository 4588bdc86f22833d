// The built worker in bare `workerd serve` (the bench's capnp config): for
// the soak's memory check (under `wrangler dev` the same workerd process also
// runs wrangler's proxy and inspector, whose buffers grow with traffic and
// hide what the worker itself keeps), and for bindings wrangler always adds.

import { cpSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RATELIMIT_JS, WORKERD, buildModules, writeConfig } from '../../bench/edge/capnp.mjs';
import { freePort, startGroup } from '../../bench/edge/procs.mjs';
import { DEFAULT_VARS, ROOT, httpRequest, recordingRequest, sleep } from './harness.mjs';

const READY_MS = 30_000;

/**
 * `{ url, port, pid, dir, request(), responses, logs(), stop() }` for build/ in workerd,
 * upstream = the emulator; `dir` is its temp dir (the copy, config.capnp, workerd.log),
 * removed by `stop()`. `request`, `responses` and `logs()` are those of harness.mjs's
 * `startWorker`, for `assertCleanWorker` and `assertAuditTrail` (`logs()` is workerd.log).
 * `rateLimit`: the RATE_LIMITER binding as wrangler.toml sets it, or `null` for none.
 * `ipRateLimit`: IP_RATE_LIMITER's, by default `rateLimit`'s.
 * `callBoard`: also bind the CallBoard Durable Object as wrangler.toml does
 * (CALL_BOARD, SQLite storage in the temp dir), which the /api/v1/live routes need.
 */
export async function startBareWorker({ emulator, vars = {}, rateLimit = { limit: 120, period: 60 }, ipRateLimit = rateLimit, callBoard = false }, tries = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'soak-workerd-'));
  cpSync(join(ROOT, 'build'), dir, { recursive: true });
  copyFileSync(RATELIMIT_JS, join(dir, 'ratelimit.worker.js'));
  const board = callBoard
    ? {
        // And the relay's delivery log, as wrangler.toml binds it.
        durableObjects: [
          { binding: 'CALL_BOARD', className: 'CallBoard', sql: true },
          { binding: 'RELAY_LOG', className: 'RelayLog', sql: true },
        ],
        // workerd offers SQLite only on disk, not with in-memory storage.
        durableObjectStorage: join(dir, 'do-storage'),
      }
    : {};
  if (callBoard) mkdirSync(board.durableObjectStorage);
  const port = await freePort();
  writeConfig(dir, {
    port,
    modules: buildModules(dir),
    vars: { ...DEFAULT_VARS, TENCENT_API_BASE: emulator.url, ...vars },
    rateLimit,
    ipRateLimit,
    ...board,
  });
  const proc = startGroup(WORKERD, ['serve', join(dir, 'config.capnp')], { cwd: dir, logFile: join(dir, 'workerd.log') });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  for (const deadline = Date.now() + READY_MS; ; await sleep(100)) {
    try {
      if ((await httpRequest(`${url}/api/v1/health`, { timeoutMs: 2_000 })).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (proc.exited() && tries > 1) {
      // The free port was taken before workerd bound it (another process starting): again.
      await stop();
      return startBareWorker({ emulator, vars, rateLimit, ipRateLimit, callBoard }, tries - 1);
    }
    if (Date.now() > deadline || proc.exited()) {
      await stop();
      throw new Error(`workerd did not answer health within ${READY_MS} ms`);
    }
  }
  const responses = [];
  const logs = () => (existsSync(join(dir, 'workerd.log')) ? readFileSync(join(dir, 'workerd.log'), 'utf8') : '');
  return { url, port, pid: proc.pid, dir, request: recordingRequest(url, responses), responses, logs, stop };
}

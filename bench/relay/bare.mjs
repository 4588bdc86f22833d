// The built worker in bare `workerd serve` with everything the relay needs, as `wrangler dev`
// binds it but without wrangler's proxy (which caps a worker at a few hundred requests per
// second): the board (CALL_BOARD) and the delivery log (RELAY_LOG) as SQLite Durable Objects
// on tmpfs, both rate limiters (never reached), and the relay's queues wired through
// Miniflare's broker (./queues.mjs), producers and consumers as wrangler.toml declares them.

import { cpSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RATELIMIT_JS, WORKERD, buildModules, writeConfig } from '../edge/capnp.mjs';
import { freePort, sleep, startGroup } from '../edge/procs.mjs';
import { ROOT } from '../edge/session.mjs';
import { DEFAULT_VARS } from '../../tests/integration/harness.mjs';
import { queueConfig, queuesOf } from './queues.mjs';

const READY_MS = 60_000;

/**
 * `{ url, logs(), stop() }`: build/ in workerd, upstream `emulatorUrl`, settings `vars`;
 * `maxBatchSize` overrides the consumers' `max_batch_size`; with `inspector`, workerd's
 * inspector listens on `inspectorPort` (for BENCH_PROFILE).
 */
export async function startBareRelayWorker({ emulatorUrl, vars, maxBatchSize, inspector = false }) {
  const dir = mkdtempSync(join('/dev/shm', 'bench-relay-workerd-'));
  cpSync(join(ROOT, 'build'), dir, { recursive: true });
  copyFileSync(RATELIMIT_JS, join(dir, 'ratelimit.worker.js'));
  const storage = join(dir, 'do-storage');
  mkdirSync(storage);
  const queues = queuesOf(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'));
  const port = await freePort();
  writeConfig(dir, {
    port,
    modules: buildModules(dir),
    vars: { ...DEFAULT_VARS, TENCENT_API_BASE: emulatorUrl, ...vars },
    rateLimit: { limit: 1e9, period: 60 },
    durableObjects: [
      { binding: 'CALL_BOARD', className: 'CallBoard', sql: true },
      { binding: 'RELAY_LOG', className: 'RelayLog', sql: true },
    ],
    durableObjectStorage: storage,
    extra: queueConfig(dir, queues, { maxBatchSize }),
  });
  const log = join(dir, 'workerd.log');
  const inspectorPort = inspector ? await freePort() : null;
  const args = ['serve', '--experimental', join(dir, 'config.capnp')];
  if (inspectorPort) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const proc = startGroup(WORKERD, args, { cwd: dir, logFile: log });
  const url = `http://127.0.0.1:${port}`;
  const logs = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  for (const deadline = Date.now() + READY_MS; ; await sleep(100)) {
    try {
      if ((await fetch(`${url}/api/v1/health`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline || proc.exited()) {
      const output = logs();
      await stop();
      throw new Error(`workerd did not answer health within ${READY_MS} ms:\n${output.slice(-3000)}`);
    }
  }
  return { url, pid: proc.pid, inspectorPort, logs, stop };
}

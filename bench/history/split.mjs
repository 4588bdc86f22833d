// The built worker and its ledger in two bare `workerd serve` processes (the export phase):
// the first hosts only D1 (Miniflare's D1 object, its entry worker and the bench's probe), the
// second only the worker, whose CALL_LEDGER binding reaches the first over HTTP. Locally D1's
// SQLite otherwise runs in the worker's process, so that process's memory would count the
// database's page cache and native heap too; split, the worker process's RSS is the worker's.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { WORKERD } from '../edge/capnp.mjs';
import { freePort, sleep, startGroup } from '../edge/procs.mjs';
import { MF, PROBE, config, d1Services, probeDb, startBareLedgerWorker } from './bare.mjs';
import { migrate } from './stack.mjs';

function d1Config({ d1Dir, d1Port, probePort }) {
  // The database's worker definitions are bare.mjs's, from its full config.
  const full = config({ port: 0, probePort, modules: [], vars: {}, boardDir: '', d1Dir });
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ${d1Services(d1Dir)}
  ],
  sockets = [
    (name = "d1", address = "127.0.0.1:${d1Port}", http = (), service = "d1:db:ledger"),
    (name = "probe", address = "127.0.0.1:${probePort}", http = (), service = "probe"),
  ],
  extensions = [(modules = [
    (name = "miniflare:shared", esModule = embed "mf-shared.worker.js"),
    (name = "miniflare:zod", esModule = embed "mf-zod.worker.js"),
  ])],
);

${full.slice(full.indexOf('const probe :Workerd.Worker'))}`;
}

/** Starts the D1 process under `dir` and migrates it: `{ d1Port, db, pid, log(), stop() }`. */
async function startD1(dir, storageDir) {
  mkdirSync(dir, { recursive: true });
  for (const [from, to] of [['shared/index.worker.js', 'mf-shared.worker.js'], ['shared/zod.worker.js', 'mf-zod.worker.js'],
    ['d1/database.worker.js', 'database.worker.js'], ['shared/object-entry.worker.js', 'object-entry.worker.js']]) {
    copyFileSync(join(MF, from), join(dir, to));
  }
  writeFileSync(join(dir, 'probe.mjs'), PROBE);
  const d1Dir = join(storageDir, 'd1');
  mkdirSync(d1Dir, { recursive: true });
  const [d1Port, probePort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'config.capnp'), d1Config({ d1Dir, d1Port, probePort }));
  const logFile = join(dir, 'workerd.log');
  const proc = startGroup(WORKERD, ['serve', '--experimental', join(dir, 'config.capnp')], { cwd: dir, logFile });
  const log = () => readFileSync(logFile, 'utf8');
  const db = probeDb(`http://127.0.0.1:${probePort}`);
  for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
    const up = await db.prepare('SELECT 1').first().then(() => true, () => false);
    if (up) break;
    if (proc.exited() || Date.now() > deadline) throw new Error(`the D1 workerd did not start:\n${log().slice(-2000)}`);
  }
  await migrate(db);
  return { d1Port, db, pid: proc.pid, log, stop: () => proc.stop() };
}

/**
 * The worker alone in one workerd (with its inspector), its ledger in another. Returns
 * `{ url, db, pid (the worker's process), d1Pid, d1Log(), inspectorPort, log(), stop() }`.
 */
export async function startSplitLedgerWorker(dir, { vars }) {
  // SQLite on tmpfs unless BENCH_STORAGE=disk, as bare.mjs.
  const storageDir = process.env.BENCH_STORAGE === 'disk' ? join(dir, 'state') : mkdtempSync('/dev/shm/bench-history-');
  if (process.env.BENCH_STORAGE !== 'disk') process.on('exit', () => rmSync(storageDir, { recursive: true, force: true }));
  const d1 = await startD1(join(dir, 'd1'), storageDir);
  const worker = await startBareLedgerWorker(join(dir, 'worker'), {
    vars, storageDir: join(storageDir, 'worker'), inspector: true, d1Port: d1.d1Port, db: d1.db,
  });
  return {
    ...worker,
    d1Pid: d1.pid,
    d1Log: d1.log,
    stop: async () => {
      await worker.stop();
      await d1.stop();
    },
  };
}

// The built worker in bare `workerd serve` with its ledger (BENCH_RUNTIME=workerd): Miniflare's
// proxy and entry worker are out of the path. The config is bench-live's (the board as the
// `CallBoard` Durable Object with SQLite on localDisk, RATE_LIMITER from Miniflare's module)
// plus CALL_LEDGER wired the way Miniflare wires D1: the `cloudflare-internal:d1-api` wrapped
// binding, whose fetcher is Miniflare's object-entry worker in front of its `D1DatabaseObject`
// (SQLite through workerd's storage API, on localDisk), from node_modules/miniflare/dist/src/
// workers/. A second small worker on its own port gives the bench the same database (counts,
// total_changes(), the migrations), as Miniflare's getD1Database does.

import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { COMPATIBILITY_DATE, RATELIMIT_JS, RATELIMIT_MODULE, WORKERD, buildModules } from '../edge/capnp.mjs';
import { freePort, sleep, startGroup } from '../edge/procs.mjs';
import { ROOT } from '../edge/session.mjs';
import { migrate } from './stack.mjs';

export const MF = join(ROOT, 'node_modules/miniflare/dist/src/workers');
export const str = (s) => JSON.stringify(String(s));

// The bench's door to the database: one statement (`first()`), or a batch.
export const PROBE = `export default {
  async fetch(request, env) {
    const { sql, params = [], batch } = await request.json();
    if (batch) {
      await env.DB.batch(batch.map((s) => env.DB.prepare(s.sql).bind(...s.params)));
      return Response.json(null);
    }
    return Response.json(await env.DB.prepare(sql).bind(...params).first());
  },
};
`;

// The database's services: Miniflare's D1 object on localDisk, its entry worker, the probe.
export const d1Services = (d1Dir) => `(name = "probe", worker = .probe),
    (name = "d1:storage", disk = (path = ${str(d1Dir)}, writable = true)),
    (name = "d1:db", worker = .d1Object),
    (name = "d1:db:ledger", worker = .d1Entry),`;

// With `d1Port`, the database is another workerd's (split.mjs): reached over HTTP, no probe here.
export function config({ port, probePort, modules, vars, boardDir, d1Dir, d1Port }) {
  const d1 = '(name = "CALL_LEDGER", wrapped = (moduleName = "cloudflare-internal:d1-api", innerBindings = [(name = "fetcher", service = "d1:db:ledger")]))';
  const limiter = (name) => `(name = ${str(name)}, wrapped = (moduleName = ${str(RATELIMIT_MODULE)}, innerBindings = [${
    Object.entries({ namespaceId: name, limit: 1e9, period: 60 }).map(([n, v]) => `(name = ${str(n)}, json = ${str(JSON.stringify(v))})`).join(', ')}]))`;
  const bindings = [
    ...Object.entries(vars).map(([name, value]) => `(name = ${str(name)}, text = ${str(value)})`),
    '(name = "CALL_BOARD", durableObjectNamespace = (className = "CallBoard"))',
    '(name = "RELAY_LOG", durableObjectNamespace = (className = "RelayLog"))',
    limiter('RATE_LIMITER'),
    limiter('IP_RATE_LIMITER'),
    d1,
  ];
  const mods = modules.map((m) => `(name = ${str(m.name)}, ${m.kind} = embed ${str(m.name)})`);
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
    (name = "do-storage", disk = (path = ${str(boardDir)}, writable = true)),
    ${d1Port ? `(name = "d1:db:ledger", external = (address = "127.0.0.1:${d1Port}", http = ())),` : d1Services(d1Dir)}
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:${port}", http = (), service = "main"),
    ${d1Port ? '' : `(name = "probe", address = "127.0.0.1:${probePort}", http = (), service = "probe"),`}
  ],
  extensions = [(modules = [
    (name = ${str(RATELIMIT_MODULE)}, esModule = embed "ratelimit.worker.js", internal = true),
    (name = "miniflare:shared", esModule = embed "mf-shared.worker.js"),
    (name = "miniflare:zod", esModule = embed "mf-zod.worker.js"),
  ])],
);

const worker :Workerd.Worker = (
  modules = [
    ${mods.join(',\n    ')}
  ],
  compatibilityDate = ${str(COMPATIBILITY_DATE)},
  bindings = [
    ${bindings.join(',\n    ')}
  ],
  durableObjectNamespaces = [
    (className = "CallBoard", uniqueKey = "callkit-edge-CallBoard", enableSql = true),
    (className = "RelayLog", uniqueKey = "callkit-edge-RelayLog", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);

const probe :Workerd.Worker = (
  modules = [(name = "probe.mjs", esModule = embed "probe.mjs")],
  compatibilityDate = ${str(COMPATIBILITY_DATE)},
  bindings = [${d1.replace('"CALL_LEDGER"', '"DB"')}],
);

const d1Object :Workerd.Worker = (
  modules = [(name = "database.worker.js", esModule = embed "database.worker.js")],
  compatibilityDate = "2023-07-24",
  compatibilityFlags = ["nodejs_compat", "experimental"],
  durableObjectNamespaces = [(className = "D1DatabaseObject", uniqueKey = "miniflare-D1DatabaseObject", enableSql = true)],
  durableObjectStorage = (localDisk = "d1:storage"),
  bindings = [(name = "MINIFLARE_BLOBS", service = "d1:storage")],
);

const d1Entry :Workerd.Worker = (
  modules = [(name = "object-entry.worker.js", esModule = embed "object-entry.worker.js")],
  compatibilityDate = "2023-07-24",
  bindings = [
    (name = "MINIFLARE_NAMESPACE", text = "ledger"),
    (name = "MINIFLARE_OBJECT", durableObjectNamespace = (className = "D1DatabaseObject", serviceName = "d1:db")),
  ],
);
`;
}

/** A D1-like handle for the bench (prepare/bind/first, batch) over the probe's socket. */
export function probeDb(url) {
  // A kept-alive connection workerd closed just as it was reused fails before the request
  // ran (Node's documented race): once more, on a new one. A batch run twice would fail on
  // its primary keys, never insert twice.
  const send = (body) => fetch(url, { method: 'POST', body: JSON.stringify(body) }).catch((e) => {
    if (e.cause?.code !== 'UND_ERR_SOCKET') throw e;
    return fetch(url, { method: 'POST', body: JSON.stringify(body) });
  });
  const post = async (body) => {
    const res = await send(body);
    if (!res.ok) throw new Error(`probe: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const statement = (sql, params = []) => ({ sql, params, bind: (...p) => statement(sql, p), first: () => post({ sql, params }) });
  return { prepare: (sql) => statement(sql), batch: (list) => post({ batch: list.map(({ sql, params }) => ({ sql, params })) }) };
}

/**
 * Starts a frozen copy of build/ under `dir` in bare workerd, its storage in `storageDir`.
 * Returns `{ url, db, pid, log(), stop() }` like stack.mjs's `startLedgerWorker`. With
 * `d1Port` and `db`, the ledger is another process's, already migrated (split.mjs).
 */
export async function startBareLedgerWorker(dir, { vars, storageDir: diskDir, inspector = false, d1Port, db: externalDb }) {
  mkdirSync(dir, { recursive: true });
  // SQLite on tmpfs, as bench-live's default: on this VM's shared disk every durable commit
  // can stall workerd's one thread for seconds, which would measure the disk.
  const storageDir = process.env.BENCH_STORAGE === 'disk' ? diskDir : mkdtempSync('/dev/shm/bench-history-');
  if (storageDir !== diskDir) process.on('exit', () => rmSync(storageDir, { recursive: true, force: true }));
  cpSync(join(ROOT, 'build'), dir, { recursive: true });
  const modules = buildModules(dir);
  copyFileSync(RATELIMIT_JS, join(dir, 'ratelimit.worker.js'));
  copyFileSync(join(MF, 'shared/index.worker.js'), join(dir, 'mf-shared.worker.js'));
  copyFileSync(join(MF, 'shared/zod.worker.js'), join(dir, 'mf-zod.worker.js'));
  copyFileSync(join(MF, 'd1/database.worker.js'), join(dir, 'database.worker.js'));
  copyFileSync(join(MF, 'shared/object-entry.worker.js'), join(dir, 'object-entry.worker.js'));
  writeFileSync(join(dir, 'probe.mjs'), PROBE);
  const [boardDir, d1Dir] = [join(storageDir, 'do'), join(storageDir, 'd1')];
  mkdirSync(boardDir, { recursive: true });
  mkdirSync(d1Dir, { recursive: true });
  const [port, probePort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'config.capnp'), config({ port, probePort, modules, vars, boardDir, d1Dir, d1Port }));
  const logFile = join(dir, 'workerd.log');
  const inspectorPort = inspector ? await freePort() : null;
  const args = ['serve', '--experimental', join(dir, 'config.capnp')];
  if (inspectorPort) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const proc = startGroup(WORKERD, args, { cwd: dir, logFile });
  const url = `http://127.0.0.1:${port}`;
  const log = () => readFileSync(logFile, 'utf8');
  for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
    const up = await fetch(`${url}/api/v1/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (proc.exited() || Date.now() > deadline) throw new Error(`workerd did not start:\n${log().slice(-2000)}`);
  }
  const db = externalDb ?? probeDb(`http://127.0.0.1:${probePort}`);
  if (!externalDb) await migrate(db);
  return { url, db, pid: proc.pid, inspectorPort, log, stop: () => proc.stop() };
}

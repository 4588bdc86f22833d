// The built worker for bench-history: Miniflare (the library `wrangler dev` runs, the same
// version: resolved through wrangler) with the board's Durable Object and the CALL_LEDGER D1
// database on local SQLite files, and the migrations applied through the D1 binding.
// Requests go to the worker's own socket (unsafeGetDirectURL), not through wrangler's proxy
// or Miniflare's entry worker, which cap throughput well below what the worker does.

import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { COMPATIBILITY_DATE, buildModules } from '../edge/capnp.mjs';
import { freePort } from '../edge/procs.mjs';
import { BUILD, ROOT } from '../edge/session.mjs';

const fromWrangler = createRequire(createRequire(join(ROOT, 'package.json')).resolve('wrangler/package.json'));
const { Miniflare } = fromWrangler('miniflare');

/**
 * A migration file as statements: split at `;` line ends, except inside a trigger's
 * BEGIN … END (its inner statements end with `;` too). Comments are dropped.
 */
export function statements(sqlText) {
  const out = [];
  let current = [];
  let inTrigger = false;
  for (const raw of sqlText.split('\n')) {
    const line = raw.replace(/--.*$/, '').trimEnd();
    if (!line.trim()) continue;
    current.push(line);
    if (/^\s*BEGIN\s*$/i.test(line) || /\bBEGIN$/i.test(line)) inTrigger = true;
    if (inTrigger ? /^\s*END\s*;\s*$/i.test(line) : line.endsWith(';')) {
      out.push(current.join('\n'));
      current = [];
      inTrigger = false;
    }
  }
  if (current.length) out.push(current.join('\n'));
  return out;
}

/** Applies every file of migrations/, in order, through `db` (a D1 binding). */
export async function migrate(db) {
  const dir = join(ROOT, 'migrations');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    await db.batch(statements(readFileSync(join(dir, file), 'utf8')).map((s) => db.prepare(s)));
  }
}

/**
 * Starts a frozen copy of the build (build/ may be rebuilt meanwhile) under `dir`, its
 * storage in `storageDir`. Returns `{ url, mf, db, inspectorPort, stop, log() }`; `log()` is
 * workerd's output.
 */
export async function startLedgerWorker(dir, { vars, storageDir }) {
  mkdirSync(dir, { recursive: true });
  cpSync(BUILD, dir, { recursive: true });
  let output = '';
  const port = await freePort();
  const inspectorPort = await freePort();
  const mf = new Miniflare({
    name: 'callkit-edge',
    modulesRoot: dir,
    modules: buildModules(dir).map(({ name, kind }) => ({
      type: kind === 'wasm' ? 'CompiledWasm' : 'ESModule',
      path: join(dir, name),
    })),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: vars,
    durableObjects: { CALL_BOARD: { className: 'CallBoard', useSQLite: true } },
    d1Databases: { CALL_LEDGER: 'bench-history-ledger' },
    ratelimits: { RATE_LIMITER: { simple: { limit: 1e9, period: 60 } } },
    durableObjectsPersist: join(storageDir, 'do'),
    d1Persist: join(storageDir, 'd1'),
    unsafeDirectSockets: [{ host: '127.0.0.1', port }],
    inspectorPort,
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) stream.on('data', (chunk) => { output += chunk; });
    },
  });
  await mf.ready;
  const url = (await mf.unsafeGetDirectURL()).href.replace(/\/$/, '');
  const db = await mf.getD1Database('CALL_LEDGER');
  await migrate(db);
  return { url, mf, db, inspectorPort, log: () => output, stop: () => mf.dispose() };
}

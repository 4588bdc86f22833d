// Test harness for the integration suites: starts the real emulator binary
// and the built worker under `wrangler dev` (workerd) on 127.0.0.1, and
// sweeps responses and logs for leaked secrets.
//
// Prerequisites: `make build emulator` (build/worker/shim.mjs and
// target/debug/callkit-emulator, built by `make emulator`). Nothing here rebuilds anything.
//
// Usage:
//   import { after, before } from 'node:test';
//   import { startEmulator, startWorker } from './harness.mjs';
//   let emulator, worker;
//   before(async () => {
//     emulator = await startEmulator();
//     worker = await startWorker({ emulator });
//   });
//   after(async () => { await worker?.stop(); await emulator?.stop(); });
//
// Every process is started in its own process group and `stop()` kills the
// whole group (wrangler, its esbuild and workerd children). `stop()` is
// idempotent and never throws, so it is safe in `after()` after a failure.
// As a last resort, groups still alive when node exits are killed too.
//
// Things to know when writing a suite:
// - wrangler runs from node_modules/.bin (what `npx wrangler` resolves to,
//   without npm's start-up cost or any registry access).
// - The worker's RATE_LIMITER binding (wrangler.toml: 120 requests / 60 s per
//   identity) is simulated locally: spread a long suite over several
//   identities (`ADMIN_USERS` defaults to `administrator,admin1`).
// - The worker runs from a temp copy of wrangler.toml (see `isolatedConfig`):
//   edits to `src/` during a run do not restart it; `make build` does.
// - The emulator is shared by every test of a file: call
//   `control.reset()` in `beforeEach` (state, counters, faults, webhook log).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { DEMO_KEY, DEMO_SDKAPPID, decodeUserSig } from './tokens.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EMULATOR_BIN = process.env.CALLKIT_EMULATOR_BIN ?? join(ROOT, 'target', 'debug', 'callkit-emulator');
export const WORKER_SHIM = join(ROOT, 'build', 'worker', 'shim.mjs');
export const WRANGLER_BIN = join(ROOT, 'node_modules', '.bin', 'wrangler');

/** Settings that are Worker secrets: passed through a temp env file, never on the command line. */
export const SECRET_SETTINGS = [
  'TENCENT_SECRET_KEY',
  'TENCENT_ADMIN_USERSIG',
  'JWT_SECRET',
  'TENCENT_CALLBACK_TOKEN',
  'WEBHOOK_URL_KEY',
  'WEBHOOK_FORWARD_SECRET',
  'TRTC_CALLBACK_KEY',
];

/** The defaults `startWorker` passes; `TENCENT_API_BASE` comes from the emulator. */
export const DEFAULT_VARS = Object.freeze({
  TENCENT_SDKAPPID: String(DEMO_SDKAPPID),
  TENCENT_SECRET_KEY: DEMO_KEY,
  AUTH_MODE: 'usersig',
  ADMIN_USERS: 'administrator,admin1',
  ALLOWED_ORIGINS: 'http://allowed.test',
  UPSTREAM_TIMEOUT_MS: '3500',
  UPSTREAM_DEADLINE_MS: '9000',
});

const EMULATOR_READY_MS = 15_000;
const WORKER_READY_MS = 60_000;
const STOP_GRACE_MS = 3_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ processes

const liveGroups = new Set();
const liveTempDirs = new Set();
function killAllGroups() {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  liveGroups.clear();
  for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
  liveTempDirs.clear();
}
process.on('exit', killAllGroups);
// A cancelled test run (Ctrl-C, the runner's SIGTERM) skips 'exit' handlers.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.once(signal, () => {
    killAllGroups();
    process.exit(code);
  });
}

/**
 * Spawns `cmd` in a new process group, collecting its output.
 * Returns `{ child, output(), waitFor(regex, ms), stop() }`.
 */
function spawnGroup(cmd, args, { env, cwd = ROOT, name }) {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  liveGroups.add(child.pid);
  let text = '';
  let exited = null;
  const listeners = new Set();
  const onData = (chunk) => {
    text += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exitPromise = new Promise((resolveExit) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      liveGroups.delete(child.pid);
      for (const l of listeners) l();
      resolveExit(exited);
    });
    child.on('error', (err) => {
      exited = { code: null, signal: null, error: err };
      liveGroups.delete(child.pid);
      for (const l of listeners) l();
      resolveExit(exited);
    });
  });

  function waitFor(regex, ms) {
    return new Promise((resolveWait, reject) => {
      const check = () => {
        const m = text.match(regex);
        if (m) return done(null, m);
        if (exited) return done(new Error(`${name} exited (${JSON.stringify(exited)}) before ready:\n${tail(text)}`));
      };
      const timer = setTimeout(() => done(new Error(`${name} not ready within ${ms} ms:\n${tail(text)}`)), ms);
      function done(err, m) {
        clearTimeout(timer);
        listeners.delete(check);
        if (err) reject(err);
        else resolveWait(m);
      }
      listeners.add(check);
      check();
    });
  }

  let stopping = null;
  function stop() {
    stopping ??= (async () => {
      if (!exited) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          /* group already gone */
        }
        const timer = sleep(STOP_GRACE_MS).then(() => 'timeout');
        if ((await Promise.race([exitPromise, timer])) === 'timeout') {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
          await Promise.race([exitPromise, sleep(STOP_GRACE_MS)]);
        }
      }
      // The leader may exit before its children (workerd): sweep the group.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      liveGroups.delete(child.pid);
    })();
    return stopping;
  }

  return { child, output: () => text, waitFor, stop, exited: () => exited };
}

function tail(text, lines = 40) {
  return text.split('\n').slice(-lines).join('\n');
}

/** A free TCP port on 127.0.0.1 (the OS picks it; freed before returning). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

// ------------------------------------------------------------ HTTP helpers

/**
 * fetch with a timeout; returns `{ status, headers, text, json, ms }` where
 * `headers` is a plain lower-case object and `json` is the parsed body or
 * undefined.
 */
export async function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 30_000 } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array) init.body = body;
    else {
      init.body = JSON.stringify(body);
      if (!Object.keys(init.headers).some((h) => h.toLowerCase() === 'content-type')) {
        init.headers['content-type'] = 'application/json';
      }
    }
  }
  const started = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  const ms = performance.now() - started;
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: Object.fromEntries(res.headers), text, json, ms };
}

async function controlCall(base, method, path, body) {
  const res = await httpRequest(`${base}/_emulator${path}`, { method, body, timeoutMs: 10_000 });
  if (res.status < 200 || res.status > 299) {
    throw new Error(`emulator control ${method} ${path} → ${res.status}: ${res.text}`);
  }
  return res.json;
}

// ------------------------------------------------------------ emulator

/**
 * Starts `callkit-emulator serve` on 127.0.0.1:0 (demo app:
 * SDKAppID 1400000000, the demo key, admin `administrator`).
 *
 * @param {{ recordDelayMs?: number, rateLimit?: number, extraArgs?: string[] }} [options]
 *   `rateLimit` 0 turns the emulator's per-command limit off.
 * @returns {Promise<{ url: string, port: number, output: () => string, stop: () => Promise<void>,
 *   control: {
 *     reset(), seed(opts?), createCall(body), act(callId, action, user), call(callId),
 *     counters(sdkappid?), faults(spec), clearFaults(), webhooks()
 *   } }>}
 *   `url` is `http://127.0.0.1:PORT` (the value for `TENCENT_API_BASE`).
 *   Every control method resolves to the parsed JSON answer and throws on a
 *   non-2xx status.
 */
export async function startEmulator({ recordDelayMs = 0, rateLimit = 0, extraArgs = [] } = {}) {
  if (!existsSync(EMULATOR_BIN)) throw new Error(`${EMULATOR_BIN} is missing: run \`make emulator\` first`);
  const args = [
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--record-delay-ms',
    String(recordDelayMs),
    '--rate-limit',
    String(rateLimit),
    ...extraArgs,
  ];
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, RUST_BACKTRACE: '0' };
  const proc = spawnGroup(EMULATOR_BIN, args, { env, name: 'callkit-emulator' });
  let match;
  try {
    match = await proc.waitFor(/callkit-emulator listening on (http:\/\/127\.0\.0\.1:(\d+))/, EMULATOR_READY_MS);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const url = match[1];
  const port = Number(match[2]);
  const control = {
    reset: () => controlCall(url, 'POST', '/reset', {}),
    seed: (opts = {}) => controlCall(url, 'POST', '/seed', opts),
    createCall: (body) => controlCall(url, 'POST', '/calls', body),
    act: (callId, action, user) =>
      controlCall(url, 'POST', `/calls/${encodeURIComponent(callId)}/${action}`, { user }),
    call: (callId) => controlCall(url, 'GET', `/calls/${encodeURIComponent(callId)}`),
    counters: (sdkappid) => controlCall(url, 'GET', `/counters${sdkappid ? `?sdkappid=${sdkappid}` : ''}`),
    faults: (spec) => controlCall(url, 'POST', '/faults', spec),
    clearFaults: () => controlCall(url, 'DELETE', '/faults'),
    webhooks: () => controlCall(url, 'GET', '/webhooks'),
  };
  return { url, port, control, output: proc.output, stop: proc.stop };
}

// ------------------------------------------------------------ worker

/**
 * The repository's wrangler.toml, made to run from a temp dir: `main` and
 * `[assets] directory` become absolute paths, and the `[build]` table is
 * dropped. That table's watcher restarts the worker whenever anything in
 * `src/` changes, failing requests in flight ("Your worker restarted
 * mid-request") while someone edits; the bundle is built beforehand anyway.
 * Everything else (vars, rate limits, compatibility date) is kept verbatim.
 * A config in a temp dir also means wrangler finds no `.dev.vars` or `.env`
 * of a developer next to it.
 */
export function isolatedConfig(toml) {
  let table = '';
  let sawMain = false;
  const out = [];
  for (const line of toml.split('\n')) {
    const header = line.match(/^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$/);
    if (header) table = header[1];
    if (table === 'build') continue;
    const kv = line.match(/^(\s*)(main|directory|migrations_dir)(\s*=\s*)"([^"]*)"(.*)$/);
    const pathKey =
      (table === '' && kv?.[2] === 'main') ||
      (table === 'assets' && kv?.[2] === 'directory') ||
      (table === 'd1_databases' && kv?.[2] === 'migrations_dir');
    if (kv && pathKey) {
      if (kv[2] === 'main') sawMain = true;
      out.push(`${kv[1]}${kv[2]}${kv[3]}${JSON.stringify(resolve(ROOT, kv[4]))}${kv[5]}`);
      continue;
    }
    out.push(line);
  }
  if (!sawMain) throw new Error('isolatedConfig: wrangler.toml has no top-level main = "..."');
  return out.join('\n');
}

/**
 * Starts the built worker (`build/worker/shim.mjs`) with
 * `wrangler dev --ip 127.0.0.1` and waits until `GET /api/v1/health`
 * answers (any status).
 *
 * Settings: `DEFAULT_VARS`, plus `TENCENT_API_BASE` = the emulator's URL,
 * overridden by `vars`; a var set to `null` is left out (e.g.
 * `{ TENCENT_SECRET_KEY: null }`). Plain vars go on the command line as
 * `--var K:V`. Secrets (`SECRET_SETTINGS`) go into a temp env file passed
 * with `--env-file`: wrangler then treats them as secrets (its binding
 * table prints "(hidden)" instead of the value) and, because an env file is
 * given, does not read a developer's `.dev.vars` or `.env` at all. The
 * config is a temp copy (`isolatedConfig`) with no `[build]` table, so
 * nothing is rebuilt or watched (`CALLKIT_SKIP_BUILD=1` is set as well),
 * and `--persist-to` points local state at the same temp dir, removed on
 * `stop()`. Give `persistDir` to keep the state (Durable Objects) in a dir
 * of your own that outlives `stop()`, and `port` to come back on the same
 * port: together they restart "the same" worker.
 *
 * @param {{ emulator?: { url: string } | string, vars?: Record<string, string|number|null>, readyMs?: number,
 *   persistDir?: string, port?: number, tomlEdit?: (toml: string) => string }} [options]
 * @returns {Promise<{ url: string, port: number, vars: Record<string,string>, logs: () => string,
 *   fetch: (path: string, init?: RequestInit) => Promise<Response>,
 *   request: (method: string, path: string, options?: { token?: string, body?: any, headers?: object, timeoutMs?: number })
 *     => Promise<{ status, headers, text, json, ms }>,
 *   responses: Array<{ method, path, status, headers, text, token }>,
 *   restart: (options?: { pauseMs?: number, ledgerDown?: boolean }) => Promise<void>,
 *   stop: () => Promise<void> }>}
 *   `request` adds `Authorization: Bearer <token>` when `token` is given,
 *   JSON-encodes an object `body`, and records every answer (with the
 *   token it was asked with) in `responses` for the secret sweep and
 *   `assertAuditTrail`.
 */
export async function startWorker({ emulator, vars = {}, readyMs = WORKER_READY_MS, persistDir, port: wantedPort, tomlEdit = (t) => t } = {}) {
  if (!existsSync(WORKER_SHIM)) throw new Error(`${WORKER_SHIM} is missing: run \`make build\` first`);
  const emulatorUrl = typeof emulator === 'string' ? emulator : emulator?.url;
  // Without a base URL the worker would go to Tencent's real region domains.
  if (!emulatorUrl && vars.TENCENT_API_BASE === undefined) {
    throw new Error('startWorker: pass { emulator } or set vars.TENCENT_API_BASE (null to use TENCENT_REGION)');
  }
  const merged = { ...DEFAULT_VARS, ...(emulatorUrl ? { TENCENT_API_BASE: emulatorUrl } : {}), ...vars };
  const settings = Object.fromEntries(
    Object.entries(merged)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );

  const dir = await mkdtemp(join(tmpdir(), 'callkit-worker-'));
  liveTempDirs.add(dir);
  const envFile = join(dir, 'secrets.env');
  const secretLines = Object.entries(settings)
    .filter(([k]) => SECRET_SETTINGS.includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  await writeFile(envFile, secretLines.join('\n') + '\n', { mode: 0o600 });
  const configFile = join(dir, 'wrangler.toml');
  // `tomlEdit` changes the copy, e.g. a queue's max_retries for a short test.
  const baseConfig = tomlEdit(isolatedConfig(await readFile(join(ROOT, 'wrangler.toml'), 'utf8')));
  // `ledgerDown` points the CALL_LEDGER binding at a database with no
  // tables: every D1 statement then fails, as when D1 is unavailable.
  const writeConfig = (ledgerDown = false) =>
    writeFile(configFile, ledgerDown ? baseConfig.replace(/^(database_id\s*=\s*)"[^"]*"/m, '$1"ledger-down"') : baseConfig);
  await writeConfig();
  const statePath = persistDir ?? join(dir, 'state');

  // Ports come from the OS free and are bound a moment later by wrangler: another
  // process starting meanwhile (a parallel worker's workerd) can take one first.
  // `launch` then tries again with new ones, unless the caller wanted this port.
  let port;
  let args;
  const choosePorts = async () => {
    port = wantedPort ?? (await freePort());
    const inspectorPort = await freePort();
    args = [
      'dev',
      '--config',
      configFile,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspectorPort),
      '--inspector-ip',
      '127.0.0.1',
      '--persist-to',
      statePath,
      // GET /__scheduled?cron=… runs the Cron Trigger's handler.
      '--test-scheduled',
      '--env-file',
      envFile,
      '--show-interactive-dev-session=false',
      '--log-level',
      'log',
    ];
    for (const [k, v] of Object.entries(settings)) {
      if (!SECRET_SETTINGS.includes(k)) args.push('--var', `${k}:${v}`);
    }
  };
  await choosePorts();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
    CALLKIT_SKIP_BUILD: '1',
    // No network: no telemetry, no update check, no colours in the logs.
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: 'true',
    CLOUDFLARE_INCLUDE_PROCESS_ENV: 'false',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
    CI: '1',
  };
  const url = () => `http://127.0.0.1:${port}`;
  // The output of the processes `restart()` replaced, so `logs()` covers the worker's whole life.
  let earlierOutput = '';
  let proc;

  // Starts wrangler dev and waits until it answers; on failure the process is stopped.
  const launch = async (tries = 3) => {
    proc = spawnGroup(WRANGLER_BIN, args, { env, name: 'wrangler dev' });
    const deadline = Date.now() + readyMs;
    for (;;) {
      if (proc.exited()) {
        const lostPort = /Address already in use/.test(proc.output());
        if (lostPort && wantedPort === undefined && tries > 1) {
          earlierOutput += proc.output();
          await choosePorts();
          return launch(tries - 1);
        }
        throw new Error(`wrangler dev exited before ready:\n${tail(proc.output())}`);
      }
      try {
        await httpRequest(`${url()}/api/v1/health`, { timeoutMs: 2_000 });
        return;
      } catch {
        if (Date.now() > deadline) {
          await proc.stop();
          throw new Error(`worker not ready within ${readyMs} ms:\n${tail(proc.output())}`);
        }
        await sleep(250);
      }
    }
  };

  const cleanup = async () => {
    await proc?.stop();
    await rm(dir, { recursive: true, force: true });
    liveTempDirs.delete(dir);
  };

  try {
    await applyMigrations(configFile, statePath, env);
    await launch();
  } catch (err) {
    await cleanup();
    throw err;
  }

  const responses = [];
  return {
    url: url(),
    port,
    vars: settings,
    logs: () => earlierOutput + proc.output(),
    fetch: (path, init) => fetch(`${url()}${path}`, init),
    responses,
    request: recordingRequest(url(), responses),
    /**
     * Stops the worker (its whole process group: every connection to it drops) and starts it
     * again on the same port, with the same settings and the same local state
     * (`--persist-to`); resolves once it answers again. `pauseMs` keeps it down that long
     * first. `responses` and `logs()` carry on across the restart.
     */
    async restart({ pauseMs = 0, ledgerDown = false } = {}) {
      await proc.stop();
      earlierOutput += proc.output();
      await writeConfig(ledgerDown);
      if (pauseMs > 0) await sleep(pauseMs);
      try {
        await launch(1); // the same port, or nothing
      } catch (err) {
        await cleanup();
        throw err;
      }
    },
    stop: cleanup,
  };
}

/**
 * `request(method, path, { token, body, headers, timeoutMs })` against `baseUrl`:
 * adds `Authorization: Bearer <token>` when `token` is given, JSON-encodes an
 * object `body`, and records every answer (with its token and body) in
 * `responses` for the secret sweep and `assertAuditTrail`.
 */
export function recordingRequest(baseUrl, responses) {
  return async (method, path, { token, body, headers = {}, timeoutMs } = {}) => {
    const h = { ...headers };
    if (token !== undefined) h.authorization = `Bearer ${token}`;
    const res = await httpRequest(`${baseUrl}${path}`, { method, headers: h, body, timeoutMs });
    const sent = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
    responses.push({ method, path, status: res.status, headers: res.headers, text: res.text, token, body: sent });
    return res;
  };
}

/**
 * `wrangler d1 migrations apply CALL_LEDGER --local` into the worker's
 * state dir: the call ledger's tables exist before the worker starts.
 * Applied migrations are skipped, so a restart may run it again.
 */
export async function applyMigrations(configFile, statePath, env) {
  const args = ['d1', 'migrations', 'apply', 'CALL_LEDGER', '--local', '--config', configFile, '--persist-to', statePath];
  const proc = spawnGroup(WRANGLER_BIN, args, { env: { ...env, CI: 'true' }, name: 'wrangler d1 migrations apply' });
  const deadline = Date.now() + WORKER_READY_MS;
  while (!proc.exited()) {
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`migrations not applied within ${WORKER_READY_MS} ms:\n${tail(proc.output())}`);
    }
    await sleep(100);
  }
  if (proc.exited().code !== 0) throw new Error(`wrangler d1 migrations apply failed:\n${tail(proc.output())}`);
}

// ------------------------------------------------------------ webhook receiver

/**
 * A tiny HTTP server on 127.0.0.1 that records every request and answers
 * 200 `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`.
 * Returns `{ url, received: [{ method, url, headers, body, json }], waitFor(pred, ms), stop() }`.
 */
export async function startWebhookReceiver() {
  const received = [];
  const waiters = new Set();
  const server = createHttpServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      received.push({ method: req.method, url: req.url, headers: req.headers, body, json });
      for (const w of waiters) w();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    /** Resolves with the first recorded request matching `pred`, or rejects after `ms`. */
    waitFor(pred, ms = 5_000) {
      return new Promise((resolveWait, reject) => {
        const check = () => {
          const hit = received.find(pred);
          if (hit) {
            clearTimeout(timer);
            waiters.delete(check);
            resolveWait(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching webhook within ${ms} ms; got ${JSON.stringify(received.map((r) => r.url))}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

// ------------------------------------------------------------ JWKS server

/**
 * Serves a JWKS at `GET {url}/.well-known/jwks.json` on 127.0.0.1, for
 * `JWT_JWKS_URL` in `jwt` mode. `set(jwks)` swaps the document (key
 * rotation), `fetches()` counts how often it was read (refetch limits), and
 * `fail(status)` makes it answer `status` until `fail(0)`.
 */
export async function startJwksServer(initial = { keys: [] }) {
  let doc = initial;
  let count = 0;
  let failStatus = 0;
  const server = createHttpServer((req, res) => {
    if (req.method !== 'GET' || req.url.split('?')[0] !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    count += 1;
    if (failStatus) {
      res.writeHead(failStatus, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: `${base}/.well-known/jwks.json`,
    set: (jwks) => {
      doc = jwks;
    },
    fail: (status) => {
      failStatus = status;
    },
    fetches: () => count,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

// ------------------------------------------------------------ secret sweep

/**
 * The forbidden strings for a sweep, as `[{ name, value }]`.
 *
 * @param {{ secretKey?: string, userSigs?: string[], tokens?: string[], emulatorUrl?: string, extra?: string[] }} input
 *   `userSigs`: admin and user UserSigs; `tokens`: bearer tokens (JWTs);
 *   `emulatorUrl`: the upstream base, forbidden when followed by `/v4/`.
 *   The literal `usersig=` (any case) is always forbidden: it only appears
 *   in an upstream query string.
 */
export function collectSecrets({ secretKey, userSigs = [], tokens = [], emulatorUrl, extra = [] } = {}) {
  const out = [];
  const add = (name, value) => {
    if (typeof value === 'string' && value.length >= 8 && !out.some((s) => s.value === value)) out.push({ name, value });
  };
  add('secret key', secretKey);
  userSigs.forEach((s, i) => add(`UserSig #${i}`, s));
  tokens.forEach((t, i) => add(`bearer token #${i}`, t));
  if (emulatorUrl) add('upstream URL', `${emulatorUrl.replace(/\/$/, '')}/v4/`);
  extra.forEach((s, i) => add(`extra #${i}`, s));
  out.push({ name: 'usersig= query', value: 'usersig=', caseInsensitive: true });
  return out;
}

/**
 * Asserts that none of `secrets` (from `collectSecrets`) occurs in
 * `subject`: a string (log text), or a response-like object
 * `{ status, headers, text | body | json }`. The failure message names the
 * secret and where it was found, never the secret itself.
 */
export function assertNoSecrets(subject, secrets, label = 'subject') {
  const text = typeof subject === 'string' ? subject : responseText(subject);
  const lower = text.toLowerCase();
  for (const s of secrets) {
    const found = s.caseInsensitive ? lower.includes(s.value.toLowerCase()) : text.includes(s.value);
    if (found) {
      const at = (s.caseInsensitive ? lower.indexOf(s.value.toLowerCase()) : text.indexOf(s.value));
      assert.fail(`${label}: contains the ${s.name} (at offset ${at} of ${text.length})`);
    }
  }
}

function responseText(res) {
  const headers = res.headers instanceof Headers ? Object.fromEntries(res.headers) : res.headers ?? {};
  const headerText = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  const body = res.text ?? (typeof res.body === 'string' ? res.body : JSON.stringify(res.json ?? res.body ?? ''));
  return `${res.status ?? ''}\n${headerText}\n\n${body}`;
}

// ------------------------------------------------------------ assertions

/**
 * Asserts an `application/problem+json` answer with `status` and `code`,
 * checking the README's fields; returns the parsed problem.
 */
export function assertProblem(res, status, code, label = '') {
  const where = `${label} ${status} ${code}: got ${res.status} ${res.text.slice(0, 400)}`;
  assert.equal(res.status, status, where);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/, where);
  const p = res.json;
  assert.ok(p && typeof p === 'object', where);
  assert.equal(p.code, code, where);
  assert.equal(p.status, status, where);
  assert.equal(p.type, `https://callkit-edge.dev/problems/${code}`, where);
  assert.equal(typeof p.title, 'string', where);
  assert.equal(typeof p.detail, 'string', where);
  return p;
}

/** The bearer tokens a worker's recorded answers were asked with (for `collectSecrets`). */
export function sentTokens(worker) {
  return [...new Set(worker.responses.map((r) => r.token).filter(Boolean))];
}

/** The UserSigs a worker's recorded `POST /api/v1/usersig` answers minted (for `collectSecrets`). */
export function mintedUserSigs(worker) {
  return worker.responses
    .filter((r) => r.path.startsWith('/api/v1/usersig') && r.status === 200)
    .map((r) => JSON.parse(r.text).userSig);
}

/**
 * A `fetch` for code that calls the worker itself (the browser client):
 * every answer is recorded in `worker.responses` like `worker.request`'s,
 * with the bearer token it was asked with, for the sweep and the audit trail.
 */
export function recordingFetch(worker) {
  return async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    const res = await fetch(input, init);
    const text = await res.clone().text();
    const auth = new Headers(init.headers).get('authorization');
    worker.responses.push({
      method: (init.method ?? 'GET').toUpperCase(),
      path: `${url.pathname}${url.search}`,
      status: res.status,
      headers: Object.fromEntries(res.headers),
      text,
      token: auth?.startsWith('Bearer ') ? auth.slice(7) : undefined,
    });
    return res;
  };
}

/** Tencent's RequestId shape, as the emulator makes it. */
export const REQUEST_ID = /^Id-[0-9a-f]{32}-O-Seq-\d+$/;

// ------------------------------------------------------------ audit trail

/** The worker's structured audit lines (`"kind":"audit"`) in log text, parsed, in order. */
export function auditLines(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{') && l.includes('"kind":"audit"'))
    .map((l) => JSON.parse(l));
}

/** Every UserSig in `text`: any string that decodes as a TLSSigAPIv2 document. */
export function userSigsIn(text) {
  return [...text.matchAll(/eJ[A-Za-z0-9*_-]{40,}/g)]
    .map((m) => m[0])
    .filter((candidate) => {
      try {
        return typeof decodeUserSig(candidate)['TLS.sig'] === 'string';
      } catch {
        return false;
      }
    });
}

/** Who a bearer token claims to be, unverified: a JWT's `sub` or a UserSig's identifier; else null. */
export function tokenSubject(token) {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      const sub = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')).sub;
      return typeof sub === 'string' ? sub : null;
    } catch {
      return null;
    }
  }
  try {
    const id = decodeUserSig(token)['TLS.identifier'];
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

const AUDIT_FIELDS = new Set([
  'kind', 'identity', 'action', 'callId', 'outcome', 'status', 'code', 'requestId', 'latencyMs', 'detail',
]);
// Answers given before the caller is authenticated carry no identity.
const UNAUTHENTICATED_CODES = new Set(['action_disabled', 'route_not_found', 'method_not_allowed', 'misconfigured']);

let routeTable;
async function edgeRoutes() {
  routeTable ??= (async () => {
    const doc = JSON.parse(await readFile(join(ROOT, 'src', 'api', 'openapi.json'), 'utf8'));
    const out = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      const pattern = new RegExp(`^${path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)').replace(/\./g, '\\.')}$`);
      for (const [method, op] of Object.entries(ops)) {
        out.push({ method: method.toUpperCase(), pattern, action: op['x-callkit-action'] });
      }
    }
    return out;
  })();
  return routeTable;
}

/**
 * The audit lines an answer may have left: one, but a misconfiguration is found
 * either before routing (no action, no caller) or by the route itself, after
 * the caller was known (the rate limiter, the webhook receiver's secrets).
 */
async function auditCandidates(res) {
  const first = await expectedAudit(res);
  return first.code === 'misconfigured' ? [first, await expectedAudit(res, { routed: true })] : [first];
}

/** The audit line an answer should have left, from its route, status, problem code and token. */
async function expectedAudit(res, { routed = false } = {}) {
  const path = res.path.split('?')[0];
  const routes = await edgeRoutes();
  const route = routes.find((r) => r.method === res.method && r.pattern.test(path));
  let problem;
  try {
    problem = res.status >= 400 ? JSON.parse(res.text) : undefined;
  } catch {
    problem = undefined;
  }
  const code = problem?.code ?? null;
  const early = code === 'misconfigured' && !routed;
  const action = early || !route ? null : route.action;
  const callId =
    action === 'receive_webhook' ? webhookCallId(res) : action ? (route.pattern.exec(path).groups?.callId ?? null) : null;
  // The webhook receivers and the socket are public, proven by a secret or a ticket: a bearer token
  // sent along is not read.
  const anonymous =
    action === null || ['health', 'openapi', 'receive_webhook', 'receive_trtc_event', 'live_socket'].includes(action) || res.status === 401 ||
    (UNAUTHENTICATED_CODES.has(code) && !(routed && code === 'misconfigured')) || code === 'auth_keys_unavailable';
  // `res.identity`: the UserID the edge takes from another claim (JWT_USER_CLAIM) or header.
  const identity = anonymous ? null : (res.identity ?? tokenSubject(res.token));
  return { action, identity, status: res.status, code, callId };
}

const WEBHOOK_COMMANDS = new Set(['Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterEndCall']);

/** An accepted webhook's line names the call its body is about. */
function webhookCallId(res) {
  if (res.status !== 200) return null;
  try {
    const event = JSON.parse(res.body);
    if (!WEBHOOK_COMMANDS.has(event.CallbackCommand)) return null;
    return event.CallId ?? event.CallInfo?.CallId ?? event.CallRecord?.CallId ?? null;
  } catch {
    return null;
  }
}

/** The answers that leave an audit line: a CORS preflight (answered 204 before routing) is not an action; a plain OPTIONS (405) is. */
function auditedAnswers(worker) {
  return worker.responses.filter((r) => !(r.method === 'OPTIONS' && r.status === 204));
}

/**
 * The worker's log text once it holds at least one audit line per answer in
 * `worker.responses`, waiting up to `waitMs` for lines in flight. A sweep of
 * logs that hold only wrangler's banner would prove nothing: this fails
 * instead.
 */
export async function auditedLogs(worker, label = 'worker', waitMs = 5_000) {
  const want = auditedAnswers(worker).length;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const logs = worker.logs();
    const have = auditLines(logs).length;
    if (have >= want) return logs;
    if (Date.now() > deadline) assert.fail(`${label}: ${have} audit lines in the logs for ${want} answers`);
    await sleep(200);
  }
}

/**
 * Asserts that every answer in `worker.responses` (CORS preflights aside)
 * left exactly one audit line in `worker.logs()` with its action (from the
 * OpenAPI document's `x-callkit-action`), status, problem code, CallId and,
 * once the caller was authenticated, the token's subject as identity; that
 * no line has a field beyond the audit schema; and that the only unmatched
 * lines are `startWorker`'s readiness probes of `GET /api/v1/health`, and
 * lines of the `external` actions (requests from someone else, e.g. the
 * emulator's webhooks, or sockets a test opened itself).
 * Waits up to `waitMs` for log lines still in flight.
 */
export async function assertAuditTrail(worker, label = 'worker', waitMs = 5_000, { external = [] } = {}) {
  const answered = auditedAnswers(worker);
  const expected = await Promise.all(answered.map(auditCandidates));
  const key = (a) => JSON.stringify([a.action, a.identity, a.status, a.code, a.callId]);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const lines = auditLines(worker.logs());
    const pool = new Map();
    for (const l of lines) pool.set(key(l), [...(pool.get(key(l)) ?? []), l]);
    const missing = [];
    for (const [i, candidates] of expected.entries()) {
      const hits = candidates.map((c) => pool.get(key(c))).find((h) => h?.length);
      if (hits) hits.shift();
      else missing.push(`${answered[i].method} ${answered[i].path} → ${answered[i].status}: want ${candidates.map(key).join(' or ')}`);
    }
    if (missing.length && Date.now() < deadline) {
      await sleep(200);
      continue;
    }
    assert.deepEqual(missing, [], `${label}: answers without their audit line`);
    const leftover = [...pool.values()].flat();
    for (const l of leftover) {
      const probe = l.identity === null && (l.action === 'health' || (l.action === null && l.code === 'misconfigured'));
      // Requests the test did not send itself (the emulator's webhooks).
      const outside = external.includes(l.action);
      assert.ok(probe || outside, `${label}: an audit line no answer accounts for: ${JSON.stringify(l)}`);
    }
    for (const l of lines) {
      for (const field of Object.keys(l)) assert.ok(AUDIT_FIELDS.has(field), `${label}: audit line has field ${field}`);
      assert.equal(typeof l.outcome, 'string');
      assert.ok(Number.isInteger(l.latencyMs), JSON.stringify(l));
    }
    return lines;
  }
}

/**
 * The end-of-suite sweep of one worker: no answer carries any of `secrets`
 * (from `collectSecrets`) or any UserSig but the one a `POST /api/v1/usersig`
 * answer minted for its caller; the logs hold an audit line per answer
 * (`auditedLogs`), and no log line carries a secret or any UserSig; every
 * error answer is `application/problem+json` with `type`, `title`,
 * `status`, `detail` and `code`. Resolves to the number of answers checked.
 */
export async function assertCleanWorker(worker, secrets, label = 'worker') {
  for (const res of worker.responses) {
    const where = `${label}: ${res.method} ${res.path} → ${res.status}`;
    let own;
    if (res.path.startsWith('/api/v1/usersig') && res.status === 200) own = JSON.parse(res.text).userSig;
    assertNoSecrets(res, secrets.filter((s) => s.value !== own), where);
    for (const sig of userSigsIn(`${res.text}\n${JSON.stringify(res.headers)}`)) {
      assert.equal(sig, own, `${where}: carries a UserSig that is not the caller's own`);
    }
    if (res.status >= 400) {
      let json;
      try {
        json = JSON.parse(res.text);
      } catch {
        assert.fail(`${where}: error body is not JSON`);
      }
      assertProblem({ ...res, json }, res.status, json?.code, where);
    }
  }
  const logs = await auditedLogs(worker, label);
  assertNoSecrets(logs, secrets, `${label} logs`);
  assert.equal(userSigsIn(logs).length, 0, `${label} logs contain a UserSig`);
  return worker.responses.length;
}

// ------------------------------------------------------------ no hangs

/**
 * `promise`, or a rejection naming `label` after `ms`: an awaited socket
 * event that never comes fails its test instead of hanging the run.
 */
export function within(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}


/** Tencent's webhook proof: SHA-256 of the callback token and the request time, in hex. */
export const webhookSign = (token, time) => createHash('sha256').update(`${token}${time}`).digest('hex');

/**
 * POSTs a CallKit webhook to `worker` as Tencent does, signed with the callback `token` at
 * `time`; `query` replaces the proof (`Sign`, `RequestTime`), `raw` is sent as it is.
 */
export function sendWebhook(worker, token, body, { query, time = Math.floor(Date.now() / 1000), sdkappid = DEMO_SDKAPPID, raw } = {}) {
  const params = new URLSearchParams({
    SdkAppid: String(sdkappid),
    CallbackCommand: body?.CallbackCommand ?? 'x',
    contenttype: 'json',
    ClientIP: '127.0.0.1',
    OptPlatform: 'RESTAPI',
    ...(query ?? { Sign: webhookSign(token, time), RequestTime: String(time) }),
  });
  return worker.request('POST', `/api/v1/webhooks/tencent?${params}`, {
    body: raw ?? JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
}

/** `sendWebhook`, asserting a 200; returns the answer. */
export async function deliverSigned(worker, token, body, time = Math.floor(Date.now() / 1000)) {
  const res = await sendWebhook(worker, token, body, { time });
  assert.equal(res.status, 200, `${body.CallbackCommand}: ${res.status} ${res.text}`);
  return res;
}

/** Points Tencent's (the emulator's) webhooks at `worker`, for `commands`, as the admin `token`. */
export async function pointCallbackAt(worker, token, commands = [
  'Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterEndCall',
]) {
  const res = await worker.request('PUT', '/api/v1/callback', {
    token,
    body: { url: `${worker.url}/api/v1/webhooks/tencent`, commands },
  });
  assert.equal(res.status, 200, res.text);
}
/** src/live/shards.rs's FNV-1a, to know which shard a call lands in. */
export function shardOf(callId, shards) {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(callId)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return Number(hash % BigInt(shards));
}

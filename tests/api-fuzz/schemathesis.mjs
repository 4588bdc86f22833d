// The API against its own document, by an independent generic fuzzer:
// schemathesis (PyPI, installed by scripts/schemathesis.sh) reads
// GET /api/v1/openapi.json from the built worker in bare `workerd serve`
// (with the CallBoard Durable Object, so /api/v1/live/* answer) against the
// real emulator, and runs every check (`--checks all`: no 5xx, statuses,
// content types, headers and bodies as documented, valid data accepted,
// invalid data rejected, auth not ignored, ...). Twice, with a fixed seed:
// as an admin and as a member, since policy gives them different answers.
// The one accepted exception, for one operation, is in schemathesis.toml.
//
// A custom check (hooks.py) accepts a 400 to a schema-valid start only as
// Tencent's refusal. Then every answer schemathesis recorded (its HAR
// report) must have its audit line in workerd.log, and no answer or log line
// may hold the secret key, a token, the webhook key, the upstream URL or a
// UserSig (but an answer's own minted one).
//
// Streams schemathesis's output; exits 1 when either run or the sweep fails.
// Prerequisites: `make build emulator` (nothing here rebuilds anything).
// API_FUZZ_SEED and API_FUZZ_EXAMPLES change the seed and the number of
// examples per operation, to explore beyond what `make test` runs;
// API_FUZZ_SCHEMA=src/api/openapi.json tests the build against the
// repository's document instead of the one it serves (say, an older build).

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT, assertCleanWorker, collectSecrets, mintedUserSigs, startEmulator } from '../integration/harness.mjs';
import { startBareWorker } from '../integration/bare-workerd.mjs';
import { DEMO_KEY, mintUserSig } from '../integration/tokens.mjs';
import { trackGroup } from '../../bench/edge/procs.mjs';

const SEED = process.env.API_FUZZ_SEED ?? '20260401';
const MAX_EXAMPLES = process.env.API_FUZZ_EXAMPLES ?? '200';
const CONFIG = join(ROOT, 'tests/api-fuzz/schemathesis.toml');
const WEBHOOK_URL_KEY = 'api-fuzz-webhook-url-key-0123456789abcdef';
// TRTC's receiver then answers 401 (no valid Sign), not 503.
const TRTC_CALLBACK_KEY = 'apiFuzzTrtcKey0123456789';
const ADMINS = Array.from({ length: 12 }, (_, i) => `admin${i + 1}`);
const RUNS = [
  { who: 'admin', user: 'admin1' },
  { who: 'member', user: 'alice' },
];

const log = (msg) => console.log(`[api-fuzz] ${msg}`);

// Installs it when missing; the path is the script's only stdout line.
let schemathesis;
try {
  schemathesis = execFileSync('bash', [join(ROOT, 'scripts/schemathesis.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
} catch {
  log('scripts/schemathesis.sh failed (its message is above)');
  process.exit(1);
}

let emulator;
let worker;
// schemathesis and Hypothesis keep caches in the working directory
// (.hypothesis/, .schemathesis/): a fresh one per run, not the repository.
const work = mkdtempSync(join(tmpdir(), 'api-fuzz-'));
// The process groups die with node (harness.mjs, procs.mjs); the temp dirs too.
process.on('exit', () => {
  rmSync(work, { recursive: true, force: true });
  if (worker) rmSync(worker.dir, { recursive: true, force: true });
});

function run(url, token, who) {
  const cwd = mkdtempSync(join(work, `${who}-`));
  reports.push(join(cwd, 'report.har'));
  const args = [
    '--config-file', CONFIG,
    // Loaded from its URL, schemathesis leaves out the operation serving it.
    'run', process.env.API_FUZZ_SCHEMA ? resolve(process.env.API_FUZZ_SCHEMA) : `${url}/api/v1/openapi.json`,
    '--url', url,
    '--checks', 'all',
    // Every failing case of an operation, not only the first.
    '--continue-on-failure',
    '--max-examples', MAX_EXAMPLES,
    '--seed', SEED,
    // One worker: hypothesis describes its lambdas with ast.parse, and CPython
    // before 3.11.7 (Debian 12 ships 3.11.2) keeps the AST recursion counter
    // per interpreter, so two threads parsing at once fail with "AST
    // constructor recursion depth mismatch" (cpython gh-106905): seen in CI.
    '--workers', '1',
    // No example database: each run is its seed's alone.
    '--generation-database', 'none',
    // Every request and answer, for the audit trail and the sweep.
    '--report-har-path', reports.at(-1),
    // Bare workerd has no D1, so the call ledger's routes would only answer 503: they are
    // fuzzed nowhere yet. tests/integration/call-ledger.test.mjs and
    // openapi-conformance.test.mjs check them against this document under wrangler dev.
    '--exclude-path-regex', '^/api/v1/history',
  ];
  const env = {
    ...process.env,
    API_FUZZ_TOKEN: token,
    API_FUZZ_WEBHOOK_URL_KEY: WEBHOOK_URL_KEY,
    SCHEMATHESIS_HOOKS: join(ROOT, 'tests/api-fuzz/hooks.py'),
  };
  // Its own group, killed with the others if node is stopped meanwhile.
  const child = spawn(schemathesis, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  return trackGroup(
    child.pid,
    new Promise((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? signal));
      child.on('error', (err) => resolve(err.message));
    }),
  );
}

const reports = [];

/** The answers in the runs' HAR reports, as `worker.responses` holds them. */
function recordedAnswers() {
  const out = [];
  for (const file of reports) {
    for (const { request, response } of JSON.parse(readFileSync(file, 'utf8')).log.entries) {
      if (!response.status) continue; // no answer (a dropped connection): nothing was logged either
      const url = new URL(request.url);
      const auth = request.headers.find((h) => h.name.toLowerCase() === 'authorization')?.value;
      out.push({
        method: request.method,
        path: `${url.pathname}${url.search}`,
        status: response.status,
        headers: Object.fromEntries(response.headers.map((h) => [h.name.toLowerCase(), h.value])),
        text: response.content?.text ?? '',
        token: auth?.startsWith('Bearer ') ? auth.slice(7) : undefined,
        body: request.postData?.text,
      });
    }
  }
  return out;
}

/**
 * Throws, naming the secret and never showing it, when an answer or workerd.log
 * holds one, or when the log lacks an audit line per answer.
 */
async function sweep(tokens) {
  const responses = recordedAnswers();
  if (responses.length < 100) throw new Error(`only ${responses.length} answers in the HAR reports`);
  const recorded = { responses, logs: () => readFileSync(join(worker.dir, 'workerd.log'), 'utf8') };
  const secrets = collectSecrets({
    secretKey: DEMO_KEY,
    tokens,
    userSigs: mintedUserSigs(recorded),
    emulatorUrl: emulator.url,
    extra: [WEBHOOK_URL_KEY, TRTC_CALLBACK_KEY],
  });
  const checked = await assertCleanWorker(recorded, secrets, 'api-fuzz worker');
  log(`${checked} answers: each has its audit line; no answer or log line holds a secret`);
}

const results = [];
try {
  emulator = await startEmulator();
  worker = await startBareWorker({
    emulator,
    vars: { ADMIN_USERS: ADMINS.join(','), WEBHOOK_URL_KEY, TRTC_CALLBACK_KEY },
    rateLimit: { limit: 100_000, period: 60 }, // no run comes near it
    callBoard: true,
  });
  log(`worker ${worker.url} (bare workerd, build/), emulator ${emulator.url}; seed ${SEED}, ${MAX_EXAMPLES} examples per operation`);
  const tokens = [];
  for (const { who, user } of RUNS) {
    log(`as ${who} (${user})`);
    const started = performance.now();
    tokens.push(mintUserSig(user));
    const outcome = await run(worker.url, tokens.at(-1), who);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    results.push({ who, ok: outcome === 0, outcome, secs });
    log(`as ${who}: ${outcome === 0 ? 'passed' : `FAILED (exit ${outcome})`} in ${secs} s`);
  }
  await sweep(tokens);
} catch (err) {
  results.push({ who: 'setup or log sweep', ok: false, outcome: err.message });
  console.error(err);
} finally {
  // What the worker said besides its audit lines (an exception behind a 500, say).
  if (results.some((r) => !r.ok) && worker && existsSync(join(worker.dir, 'workerd.log'))) {
    const text = readFileSync(join(worker.dir, 'workerd.log'), 'utf8');
    const lines = text.split('\n').filter((l) => l && !l.startsWith('{"kind":"audit"')).slice(-30);
    if (lines.length) log(`workerd.log, last lines that are not audit lines:\n${lines.join('\n')}`);
  }
  await worker?.stop();
  await emulator?.stop();
  rmSync(work, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok);
log(failed.length ? `FAILED: ${failed.map((r) => r.who).join(', ')}` : `passed: ${results.map((r) => `${r.who} ${r.secs} s`).join(', ')}`);
process.exit(failed.length ? 1 : 0);

// workerd configs in Cap'n Proto text, written next to the modules they
// embed (embed paths are relative to the config file).

import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WORKERD = join(ROOT, 'node_modules/workerd/bin/workerd');
/** The in-memory rate limiter miniflare gives `wrangler dev`, embedded by `writeConfig`. */
export const RATELIMIT_JS = join(ROOT, 'node_modules/miniflare/dist/src/workers/ratelimit/ratelimit.worker.js');

export const COMPATIBILITY_DATE = '2026-04-01'; // wrangler.toml
// What miniflare names the in-memory rate limiter it gives `wrangler dev`.
export const RATELIMIT_MODULE = 'cloudflare-internal:ratelimit:module';

const str = (s) => JSON.stringify(String(s)); // a JSON string is a valid capnp text literal here

/**
 * The modules of a worker-build output dir, main module first: every
 * .js/.mjs as an ES module and every .wasm as a wasm module, named by their
 * path in the dir (so `worker/shim.mjs` importing `../index.js` resolves).
 */
export function buildModules(dir, main = 'worker/shim.mjs') {
  const found = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else if (/\.(m?js|wasm)$/.test(e.name)) found.push(relative(dir, path));
    }
  };
  walk(dir);
  if (!found.includes(main)) throw new Error(`${dir} has no ${main}`);
  return [main, ...found.filter((m) => m !== main).sort()].map((name) => ({
    name,
    kind: name.endsWith('.wasm') ? 'wasm' : 'esModule',
  }));
}

/**
 * Writes `dir/config.capnp` for one worker listening on 127.0.0.1:`port`.
 * `modules`: [{ name, kind }] with files under `dir`; `vars`: text bindings;
 * `rateLimit`: { limit, period } binds RATE_LIMITER like `wrangler dev` does;
 * `ipRateLimit` binds IP_RATE_LIMITER (the per-address limit on the live
 * socket and unproven webhooks), by default with `rateLimit`'s numbers.
 * `durableObjects`: [{ binding, className, sql }] namespaces of classes the
 * worker exports, each bound under `binding` (SQLite API with `sql: true`);
 * `durableObjectStorage`: where they keep their data, an absolute directory
 * path (workerd's `localDisk`) or `'memory'` (gone with the process; workerd
 * then offers no SQL API, so SQLite-backed classes need a directory).
 * `extra`: more of the config as capnp text, for bindings served by other
 * workers (bench/relay's queues): `{ bindings: [], services: [], extensionModules: [] }`.
 */
export function writeConfig(dir, { port, modules, vars = {}, rateLimit, ipRateLimit = rateLimit, flags = [], durableObjects = [], durableObjectStorage = 'memory', extra = {} }) {
  const bindings = Object.entries(vars).map(([name, value]) => `(name = ${str(name)}, text = ${str(value)})`);
  bindings.push(...(extra.bindings ?? []));
  for (const o of durableObjects) {
    bindings.push(`(name = ${str(o.binding)}, durableObjectNamespace = (className = ${str(o.className)}))`);
  }
  const onDisk = durableObjects.length > 0 && durableObjectStorage !== 'memory';
  // The key names the class's subdirectory under localDisk; stable, so a kept dir is found again.
  const namespaces = durableObjects.map(
    (o) => `(className = ${str(o.className)}, uniqueKey = ${str(`callkit-edge-${o.className}`)}, enableSql = ${o.sql ? 'true' : 'false'})`,
  );
  const objectConfig = durableObjects.length
    ? `durableObjectNamespaces = [${namespaces.join(', ')}],
  durableObjectStorage = ${onDisk ? '(localDisk = "do-storage")' : '(inMemory = void)'},`
    : '';
  for (const [name, limits] of [['RATE_LIMITER', rateLimit], ['IP_RATE_LIMITER', ipRateLimit]]) {
    if (!limits) continue;
    const inner = { namespaceId: name, limit: limits.limit, period: limits.period };
    const innerBindings = Object.entries(inner).map(([n, v]) => `(name = ${str(n)}, json = ${str(JSON.stringify(v))})`);
    bindings.push(`(name = ${str(name)}, wrapped = (moduleName = ${str(RATELIMIT_MODULE)}, innerBindings = [${innerBindings.join(', ')}]))`);
  }
  const mods = modules.map((m) => `(name = ${str(m.name)}, ${m.kind} = embed ${str(m.name)})`);
  const extensionModules = [...(extra.extensionModules ?? [])];
  if (rateLimit || ipRateLimit) extensionModules.push(`(name = ${str(RATELIMIT_MODULE)}, esModule = embed "ratelimit.worker.js", internal = true)`);
  const extensions = extensionModules.length ? `extensions = [(modules = [${extensionModules.join(', ')}])],` : '';
  const text = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # fetch() to 127.0.0.1 (the upstream) needs "local"; the default internet service refuses it.
    (name = "internet", network = (allow = ["public", "private", "local"])),${onDisk ? `
    (name = "do-storage", disk = (path = ${str(durableObjectStorage)}, writable = true)),` : ''}${(extra.services ?? []).map((x) => `
    ${x},`).join('')}
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
  ${extensions}
);

const worker :Workerd.Worker = (
  modules = [
    ${mods.join(',\n    ')}
  ],
  compatibilityDate = ${str(COMPATIBILITY_DATE)},
  compatibilityFlags = [${flags.map(str).join(', ')}],
  bindings = [
    ${bindings.join(',\n    ')}
  ],
  ${objectConfig}
);
`;
  const path = join(dir, 'config.capnp');
  writeFileSync(path, text);
  return path;
}

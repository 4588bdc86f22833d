// workerd configs in Cap'n Proto text, written next to the modules they
// embed (embed paths are relative to the config file).

import { readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

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
 * `rateLimit`: { limit, period } binds RATE_LIMITER like `wrangler dev` does.
 */
export function writeConfig(dir, { port, modules, vars = {}, rateLimit, flags = [] }) {
  const bindings = Object.entries(vars).map(([name, value]) => `(name = ${str(name)}, text = ${str(value)})`);
  if (rateLimit) {
    const inner = { namespaceId: 'RATE_LIMITER', limit: rateLimit.limit, period: rateLimit.period };
    const innerBindings = Object.entries(inner).map(([n, v]) => `(name = ${str(n)}, json = ${str(JSON.stringify(v))})`);
    bindings.push(`(name = "RATE_LIMITER", wrapped = (moduleName = ${str(RATELIMIT_MODULE)}, innerBindings = [${innerBindings.join(', ')}]))`);
  }
  const mods = modules.map((m) => `(name = ${str(m.name)}, ${m.kind} = embed ${str(m.name)})`);
  const extensions = rateLimit
    ? `extensions = [(modules = [(name = ${str(RATELIMIT_MODULE)}, esModule = embed "ratelimit.worker.js", internal = true)])],`
    : '';
  const text = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # fetch() to 127.0.0.1 (the upstream) needs "local"; the default internet service refuses it.
    (name = "internet", network = (allow = ["public", "private", "local"])),
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
);
`;
  const path = join(dir, 'config.capnp');
  writeFileSync(path, text);
  return path;
}

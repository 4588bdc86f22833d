// Post-build step: replaces worker-build's shim at the end of build/index.js
// (the part after the wasm-bindgen glue) with scripts/lean-shim-runtime.js,
// which keeps its reset-on-panic without a Proxy per request and per method
// access. The names it needs (the init-state and reset functions, the
// WorkerEntrypoint import, the handlers, the exported classes) are read from
// worker-build's shim; anything else there fails the build rather than ship a
// shim that lost a handler. Idempotent.
// Usage: node scripts/lean-shim.mjs build/index.js
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2] ?? 'build/index.js';
const bundle = readFileSync(file, 'utf8');
const MARK = 'Error.stackTraceLimit=100;';
const LEAN = '/* callkit-edge lean shim */';
if (bundle.includes(LEAN)) process.exit(0);

function fail(why) {
  console.error(`${file}: ${why}; worker-build's shim changed, see scripts/lean-shim.mjs`);
  process.exit(1);
}
const one = (re, what, text) => {
  const all = [...text.matchAll(new RegExp(re, 'g'))];
  if (all.length !== 1) fail(`expected one ${what}, found ${all.length}`);
  return all[0];
};

if (bundle.split(MARK).length !== 2) fail(`expected one "${MARK}"`);
const cut = bundle.indexOf(MARK);
const [glue, shim] = [bundle.slice(0, cut), bundle.slice(cut)];
const id = '[\\w$]+';
const esc = (name) => name.replaceAll('$', '\\$');

const [, , initFn, , resetFn] = one(
  `var (${id})=(${id})\\(\\);function (${id})\\(\\)\\{\\1\\.criticalError&&\\(console\\.log\\("Reinitializing Wasm application"\\),(${id})\\(\\)`,
  'init-state/reset pair',
  shim,
);
const [, entry, base] = one(`var (${id})=class extends (${id})\\{\\};`, 'Entrypoint class', shim);
const handlers = [...shim.matchAll(new RegExp(`${esc(entry)}\\.prototype\\.(${id})=function\\(${id}\\)\\{return (${id})\\.call\\(this,${id},this\\.env,this\\.ctx\\)\\}`, 'g'))];
const assigned = shim.split(`${entry}.prototype.`).length - 1;
if (handlers.length === 0 || handlers.length !== assigned) fail(`${assigned} handlers, ${handlers.length} of a known form`);
const [, hooks] = one(`(${id})=\\{construct\\(`, 'class proxy hooks', shim);
const proxies = new Map([...shim.matchAll(new RegExp(`(${id})=new Proxy\\((${id}),${esc(hooks)}\\)`, 'g'))].map((m) => [m[1], m[2]]));
const [, list] = one(`export\\{([^}]*)\\};?\\s*$`, 'export list', shim);
const exported = list.split(',').map((e) => e.trim().split(' as '));
if (exported.some(([local]) => !proxies.has(local))) fail('an export that is not a class proxy');

const runtime = readFileSync(new URL('./lean-shim-runtime.js', import.meta.url), 'utf8').replace('export default function leanShim', 'function leanShim');
const handlerMap = handlers.map(([, name, fn]) => `${JSON.stringify(name)}:${fn}`).join(',');
const classes = exported.filter(([, name]) => name !== 'default');
const classMap = classes.map(([local, name]) => `${JSON.stringify(name)}:${proxies.get(local)}`).join(',');
const out = `${glue}${LEAN}
${runtime}
const __ck=leanShim(${initFn},${resetFn},${base},{${handlerMap}},{${classMap}});
${classes.map(([, name]) => `export const ${name}=__ck.classes.${name};`).join('\n')}
export default __ck.Entrypoint;
`;
writeFileSync(file, out);
console.log(`${file}: lean shim (${handlers.map((h) => h[1]).join(', ')}; ${classes.map((c) => c[1]).join(', ')})`);

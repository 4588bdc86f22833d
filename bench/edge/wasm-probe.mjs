// Cold-start probe: a trivial worker that imports callkit-edge's
// index_bg.wasm (workerd compiles it while loading) and, with
// INSTANTIATE=1, also instantiates it at start-up with every import stubbed.
// Its start-up time minus the pass-through's is what the wasm costs by itself.
import wasm from './index_bg.wasm';
import { env } from 'cloudflare:workers';

function stubs(module) {
  const imports = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    imports[from] ??= {};
    if (kind === 'function') imports[from][name] = () => undefined;
    else if (kind === 'tag') imports[from][name] = WebAssembly.JSTag;
    else throw new Error(`wasm-probe: no stub for a ${kind} import (${from}.${name})`);
  }
  return imports;
}

if (env.INSTANTIATE === '1') new WebAssembly.Instance(wasm, stubs(wasm));

export default {
  fetch: () => new Response('{"status":"ok"}', { headers: { 'content-type': 'application/json' } }),
};

// callkit-edge's worker shim, inlined into build/index.js by
// scripts/lean-shim.mjs in place of worker-build's. Same recovery: a panic
// (worker's hook sets `criticalError`) or a WebAssembly.RuntimeError makes the
// next call reinitialise the wasm instance, and a Durable Object built on an
// older instance is built again. worker-build's shim does this through a
// Proxy per object and a new Proxy per method access; here each method is a
// plain function, defined once per isolate.
export default function leanShim(initState, resetState, WorkerEntrypoint, handlers, classes) {
  Error.stackTraceLimit = 100;
  const state = initState();

  function checkReinitialize() {
    if (state.criticalError) {
      console.log('Reinitializing Wasm application');
      resetState();
      state.criticalError = false;
      state.instanceId++;
    }
  }
  function noteCritical(e) {
    if (e instanceof WebAssembly.RuntimeError) {
      console.error('Critical', e);
      state.criticalError = true;
    }
  }
  addEventListener('error', (e) => noteCritical(e.error));

  // Calls `fn`, noting a trap whether it throws now or rejects later.
  function guarded(fn, self, args) {
    let out;
    try {
      out = fn.apply(self, args);
    } catch (e) {
      noteCritical(e);
      throw e;
    }
    if (out instanceof Promise) out.catch(noteCritical);
    return out;
  }

  class Entrypoint extends WorkerEntrypoint {}
  for (const [name, handler] of Object.entries(handlers)) {
    Entrypoint.prototype[name] = function (arg) {
      checkReinitialize();
      return guarded(handler, this, [arg, this.env, this.ctx]);
    };
  }

  // A wasm-bindgen class (a Durable Object) behind a plain class holding it.
  function recoverable(Inner) {
    class Outer {
      #args;
      #instanceId;
      #inner;
      constructor(...args) {
        try {
          checkReinitialize();
          this.#args = args;
          this.#instanceId = state.instanceId;
          this.#inner = new Inner(...args);
        } catch (e) {
          state.criticalError = true;
          throw e;
        }
      }
      // The wrapped object, built again if the instance was reset since.
      static current(outer) {
        checkReinitialize();
        if (outer.#instanceId !== state.instanceId) {
          outer.#inner = new Inner(...outer.#args);
          outer.#instanceId = state.instanceId;
        }
        return outer.#inner;
      }
    }
    const current = Outer.current;
    delete Outer.current;
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(Inner.prototype))) {
      if (name === 'constructor' || name === 'free' || name.startsWith('__')) continue;
      const forward = { configurable: true };
      if (typeof d.value === 'function') {
        forward.value = function (...args) {
          return guarded(d.value, current(this), args);
        };
      } else {
        if (d.get) forward.get = function () { return d.get.call(current(this)); };
        if (d.set) forward.set = function (v) { d.set.call(current(this), v); };
      }
      Object.defineProperty(Outer.prototype, name, forward);
    }
    return Outer;
  }

  const wrapped = Object.fromEntries(Object.entries(classes).map(([k, c]) => [k, recoverable(c)]));
  return { Entrypoint, classes: wrapped };
}

// V8 CPU profiles of a workerd process over its inspector (BENCH_PROFILE=1):
// where a worker's time goes, by category and by function (self time).
// The wasm is built with `strip = true`, so its functions have no names.

import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * A DevTools protocol session with one of the isolates behind `inspectorPort` (`pick` chooses
 * among the `/json/list` targets; the first by default): `{ target, send(method, params), close() }`.
 */
export async function inspectorSession(root, inspectorPort, pick = (targets) => targets[0]) {
  const WebSocket = globalThis.WebSocket ?? createRequire(join(root, 'package.json'))('ws'); // node 20: wrangler's ws
  const target = pick(await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json());
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const pending = new Map();
  let next = 0;
  ws.onmessage = ({ data }) => {
    const msg = JSON.parse(data);
    pending.get(msg.id)?.(msg.result);
    pending.delete(msg.id);
  };
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      pending.set(++next, resolve);
      ws.send(JSON.stringify({ id: next, method, params }));
    });
  return { target, send, close: () => ws.close() };
}

/**
 * Samples the worker behind `inspectorPort` while `load()` runs; returns the summary (and the
 * raw `profile`). `pick` chooses the isolate as for `inspectorSession`.
 */
export async function profileWhile(root, inspectorPort, load, pick) {
  const { send, close } = await inspectorSession(root, inspectorPort, pick);
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 200 });
  await send('Profiler.start');
  await load();
  const { profile } = await send('Profiler.stop');
  close();
  return { ...summarize(profile), profile };
}

function category({ functionName: name, url }) {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'V8/workerd (program)';
  if (url.startsWith('wasm://') || /^wasm-function\[/.test(name) || name === 'wasm-to-js' || name === 'js-to-wasm') return 'wasm + transitions';
  if (url.endsWith('index.js')) return 'wasm-bindgen JS glue (index.js)';
  if (url) return `JS (${url.split('/').pop()})`;
  return 'runtime built-ins (fetch, streams, …)';
}

/** `{ categories: [[name, share]], top: [[function, share]] }`, shares of all samples but idle. */
export const summarize = (profile) => summarizeAll([profile]);

/** The same over several profiles' samples together. */
export function summarizeAll(profiles) {
  const byCat = new Map();
  const byFn = new Map();
  let total = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    for (const id of profile.samples) {
      const frame = nodes.get(id);
      const cat = category(frame);
      if (cat === 'idle') continue;
      total += 1;
      byCat.set(cat, (byCat.get(cat) ?? 0) + 1);
      const fn = `${frame.functionName || '(anonymous)'}${frame.url ? ` ${frame.url.split('/').pop()}` : ''}`;
      byFn.set(fn, (byFn.get(fn) ?? 0) + 1);
    }
  }
  const shares = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, v / total]);
  return { categories: shares(byCat, 10), top: shares(byFn, Number(process.env.BENCH_PROFILE_TOP ?? 12)), samples: total };
}

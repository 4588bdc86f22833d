// The V8 heap of one worker's isolate, over Miniflare's inspector: what the Worker itself
// holds, apart from D1's SQLite (native memory, and another isolate) in the same process.

import { createRequire } from 'node:module';
import { join } from 'node:path';

import { ROOT } from '../edge/session.mjs';

/** Connects to the isolate of worker `name` (Miniflare names it `core:user:<name>`). */
export async function heapProbe(inspectorPort, name) {
  const WebSocket = globalThis.WebSocket ?? createRequire(join(ROOT, 'package.json'))('ws');
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.title?.includes(name) || t.url?.includes(name)) ?? targets[0];
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
  const send = (method, params = {}) => new Promise((resolve) => {
    pending.set(++next, resolve);
    ws.send(JSON.stringify({ id: next, method, params }));
  });
  return {
    title: target.title,
    /** `{ usedSize, totalSize, backingStorageSize }`: the JS heap (garbage not yet collected
     * included) and the ArrayBuffers' backing stores. */
    usage: () => send('Runtime.getHeapUsage'),
    close: () => ws.close(),
  };
}

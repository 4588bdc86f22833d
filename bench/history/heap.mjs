// The V8 heap of one worker's isolate, over Miniflare's inspector: what the Worker itself
// holds, apart from D1's SQLite (native memory, and another isolate) in the same process.

import { inspectorSession } from '../edge/profile.mjs';
import { ROOT } from '../edge/session.mjs';

/** Connects to the isolate of worker `name` (Miniflare names it `core:user:<name>`). */
export async function heapProbe(inspectorPort, name) {
  const { target, send, close } = await inspectorSession(ROOT, inspectorPort,
    (targets) => targets.find((t) => t.title?.includes(name)) ?? targets[0]);
  return {
    title: target.title,
    /** `{ usedSize, totalSize, backingStorageSize }`: the JS heap (garbage not yet collected
     * included) and the ArrayBuffers' backing stores. */
    usage: () => send('Runtime.getHeapUsage'),
    close,
  };
}

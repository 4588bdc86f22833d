// The bench's backends (tests/integration/relay-sink.mjs, each verifying every delivery with
// `standardwebhooks`) on a thread of their own, so that answering and verifying deliveries
// does not wait behind the thread sending the webhooks: on a 2-core machine the sinks in the
// load generator's event loop were part of what the bench measured. Each sink's `received`
// is filled from the thread's reports, every 20 ms.

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startSink } from '../../tests/integration/relay-sink.mjs';

const REPORT_MS = 20;

if (!isMainThread) {
  const sinks = await Promise.all(Array.from({ length: workerData.count }, (_, i) => startSink({ secret: workerData.secret, label: `sink ${i}` })));
  const sent = sinks.map(() => 0);
  const report = () => {
    const news = sinks.map((s, i) => s.received.slice(sent[i]).map(({ id, at, status, verified, body }) => ({ id, at, status, verified, body })));
    news.forEach((n, i) => { sent[i] += n.length; });
    if (news.some((n) => n.length)) parentPort.postMessage({ received: news });
  };
  const timer = setInterval(report, REPORT_MS);
  parentPort.on('message', async (msg) => {
    if (msg !== 'stop') return;
    clearInterval(timer);
    report();
    await Promise.all(sinks.map((s) => s.stop()));
    parentPort.postMessage({ stopped: true });
  });
  parentPort.postMessage({ urls: sinks.map((s) => s.url) });
}

/** `count` sinks on one thread: `[{ url, received }]`, and `stop()`. */
export async function startSinkThread(count, secret) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { count, secret } });
  const sinks = [];
  let stopped;
  await new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (msg) => {
      if (msg.urls) {
        sinks.push(...msg.urls.map((url) => ({ url, received: [] })));
        resolve();
      }
      msg.received?.forEach((list, i) => sinks[i].received.push(...list));
      if (msg.stopped) stopped?.();
    });
  });
  const stop = async () => {
    await new Promise((resolve) => { stopped = resolve; worker.postMessage('stop'); });
    await worker.terminate();
  };
  return { sinks, stop };
}

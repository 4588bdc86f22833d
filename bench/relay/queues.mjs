// Cloudflare Queues in bare `workerd serve`, as `wrangler dev` runs them: Miniflare's queue
// broker (a Durable Object, node_modules/miniflare/dist/src/workers/queues/broker.worker.js)
// holds each queue's messages in memory and hands batches to the consumer worker's `queue`
// handler; each producer binding is a small service that routes `send` to its queue's broker
// object. The queues, batch sizes, retries and dead-letter queue are read from wrangler.toml,
// so the bench runs what a deployment declares. workerd must run with `--experimental`
// (the broker calls the consumer through `service_binding_extra_handlers`).

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../edge/session.mjs';

const WORKERS = join(ROOT, 'node_modules/miniflare/dist/src/workers');
/** What Miniflare names these (src/plugins/queues, src/workers/shared/constants.ts). */
const BROKER_SERVICE = 'queues:queue';
const BROKER_CLASS = 'QueueBrokerObject';
const FILES = {
  'queue-broker.worker.js': 'queues/broker.worker.js',
  'queue-entry.worker.js': 'shared/object-entry.worker.js',
  'miniflare-shared.worker.js': 'shared/index.worker.js',
  'miniflare-zod.worker.js': 'shared/zod.worker.js',
};

const str = (s) => JSON.stringify(String(s));

/** `[[queues.producers]]` and `[[queues.consumers]]` of a wrangler.toml, as objects. */
export function queuesOf(toml) {
  const tables = { producers: [], consumers: [] };
  let current = null;
  for (const line of toml.split('\n')) {
    const header = line.match(/^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?/);
    if (header) {
      const kind = header[1].match(/^queues\.(producers|consumers)$/)?.[1];
      current = kind ? {} : null;
      if (kind) tables[kind].push(current);
      continue;
    }
    const kv = current && line.match(/^\s*([A-Za-z_]+)\s*=\s*("([^"]*)"|\d+)\s*(#.*)?$/);
    if (kv) current[kv[1]] = kv[3] ?? Number(kv[2]);
  }
  return tables;
}

/**
 * Copies Miniflare's modules into `dir` and returns `writeConfig`'s `extra` that binds each
 * producer of `queues` (from `queuesOf`) in the worker named `worker` and makes that worker
 * the consumer of each consumed queue. `maxBatchSize` overrides wrangler.toml's.
 */
export function queueConfig(dir, queues, { worker = 'main', maxBatchSize } = {}) {
  for (const [to, from] of Object.entries(FILES)) copyFileSync(join(WORKERS, from), join(dir, to));
  const producers = Object.fromEntries(queues.producers.map((p) => [p.binding, { workerName: worker, queueName: p.queue }]));
  const consumers = Object.fromEntries(queues.consumers.map((c) => [c.queue, {
    workerName: worker,
    maxBatchSize: maxBatchSize ?? c.max_batch_size,
    maxBatchTimeout: c.max_batch_timeout,
    maxRetries: c.max_retries,
    deadLetterQueue: c.dead_letter_queue,
    retryDelay: c.retry_delay,
  }]));
  const entry = (queue) => `(name = ${str(`${BROKER_SERVICE}:${queue}`)}, worker = (
      compatibilityDate = "2023-07-24",
      modules = [(name = "queue-entry.worker.js", esModule = embed "queue-entry.worker.js")],
      bindings = [
        (name = "MINIFLARE_NAMESPACE", text = ${str(queue)}),
        (name = "MINIFLARE_OBJECT", durableObjectNamespace = (className = ${str(BROKER_CLASS)}, serviceName = ${str(BROKER_SERVICE)})),
      ],
    ))`;
  const broker = `(name = ${str(BROKER_SERVICE)}, worker = (
      compatibilityDate = "2023-07-24",
      compatibilityFlags = ["nodejs_compat", "experimental", "service_binding_extra_handlers"],
      modules = [(name = "broker.worker.js", esModule = embed "queue-broker.worker.js")],
      durableObjectNamespaces = [(className = ${str(BROKER_CLASS)}, uniqueKey = "miniflare-${BROKER_CLASS}", preventEviction = true)],
      durableObjectStorage = (inMemory = void),
      bindings = [
        (name = "MINIFLARE_OBJECT", durableObjectNamespace = (className = ${str(BROKER_CLASS)})),
        (name = "MINIFLARE_QUEUE_PRODUCERS", json = ${str(JSON.stringify(producers))}),
        (name = "MINIFLARE_QUEUE_CONSUMERS", json = ${str(JSON.stringify(consumers))}),
        (name = ${str(`MINIFLARE_WORKER_${worker}`)}, service = ${str(worker)}),
      ],
    ))`;
  return {
    bindings: queues.producers.map((p) => `(name = ${str(p.binding)}, queue = (name = ${str(`${BROKER_SERVICE}:${p.queue}`)}))`),
    services: [...queues.producers.map((p) => entry(p.queue)), broker],
    extensionModules: [
      '(name = "miniflare:shared", esModule = embed "miniflare-shared.worker.js")',
      '(name = "miniflare:zod", esModule = embed "miniflare-zod.worker.js")',
    ],
  };
}

// A stand-in for the app's own backend behind the relay (docs/relay.md): an
// HTTP server on 127.0.0.1 that verifies every delivery with the
// `standardwebhooks` library, as a backend would, and records it. Its faults
// are switched at run time: `down()`/`up()` (connections refused),
// `mode('fail')` (500 to all), `mode('random500', 1/3)`, `mode('hang')`
// (never answers). Used by the relay suites and bench/relay.

import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

/**
 * @param {{ secret: string, port?: number, label?: string }} options
 */
export async function startSink({ secret, port = 0, label = 'sink' }) {
  const verifier = new Webhook(secret);
  /** Every delivery that arrived: `{ id, at, status, verified, headers, body }`. */
  const received = [];
  const waiters = new Set();
  const hanging = new Set();
  let current = { mode: 'ok', rate: 0 };
  let server;

  const answer = (res, req) => {
    if (current.mode === 'hang') {
      hanging.add(res);
      req.socket.on('close', () => hanging.delete(res));
      return null;
    }
    const fail = current.mode === 'fail' || (current.mode === 'random500' && Math.random() < current.rate);
    const status = fail ? 500 : 204;
    res.writeHead(status).end();
    return status;
  };

  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified = false;
      try {
        verifier.verify(body, req.headers);
        verified = true;
      } catch {
        verified = false;
      }
      const status = answer(res, req);
      received.push({ id: req.headers['webhook-id'], at: Date.now(), status, verified, headers: req.headers, body, path: req.url });
      for (const w of waiters) w();
    });
  };

  const listen = async (wanted) => {
    server = createServer(handler);
    server.keepAliveTimeout = 60_000;
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(wanted, '127.0.0.1', resolve);
    });
    return server.address().port;
  };
  const boundPort = await listen(port);
  const close = () =>
    new Promise((resolve) => {
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections?.();
      server.close(() => resolve());
    });

  /** Distinct webhook-ids that were answered 2xx. */
  const accepted = () => new Set(received.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.id));

  return {
    label,
    url: `http://127.0.0.1:${boundPort}`,
    received,
    accepted,
    mode(mode, rate = 0) {
      current = { mode, rate };
    },
    /** Stops listening: connections are refused until `up()`. */
    down: close,
    up: async () => {
      await listen(boundPort);
    },
    /** Resolves once `pred()` holds (checked on every delivery), or rejects after `ms`. */
    waitUntil(pred, ms = 10_000, what = 'condition') {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pred()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${label}: ${what} not reached within ${ms} ms (${received.length} deliveries, ${accepted().size} accepted ids)`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    stop: close,
  };
}

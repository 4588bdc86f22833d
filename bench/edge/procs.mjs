// Child processes for the bench: each in its own process group, every group
// killed on exit, Ctrl-C or failure. The group ids are also appended to
// `$BENCH_TMP/pgids`, so run.sh can sweep them if node itself dies hard.

import { spawn } from 'node:child_process';
import { appendFileSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const live = new Set();
const stoppers = new Map(); // pid → stop()
let pgidFile = null;

/** Where run.sh looks for groups to kill (inside the temp dir). */
export function recordGroupsIn(dir) {
  pgidFile = join(dir, 'pgids');
}

/** Stops every group still running and waits for each leader to exit. */
export async function stopAll() {
  await Promise.all([...stoppers.values()].map((stop) => stop()));
}

export function killAll() {
  for (const pid of live) killGroup(pid);
  live.clear();
}

function killGroup(pid, signal = 'SIGKILL') {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

process.on('exit', killAll);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.once(signal, () => {
    killAll();
    process.exit(code);
  });
}

/** Kills `pid`'s group with the others on exit, until `promise` settles (short-lived tools like wrk). */
export function trackGroup(pid, promise) {
  live.add(pid);
  if (pgidFile) appendFileSync(pgidFile, `${pid}\n`);
  const forget = () => live.delete(pid);
  promise.then(forget, forget);
  return promise;
}

/**
 * Starts `cmd args` in a new process group with stdout+stderr appended to
 * `logFile`. Returns `{ pid, exited(), stop() }`.
 */
export function startGroup(cmd, args, { logFile, env = process.env, cwd } = {}) {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  live.add(child.pid);
  if (pgidFile) appendFileSync(pgidFile, `${child.pid}\n`);
  let exit = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve((exit = { code, signal })));
    child.on('error', (error) => resolve((exit = { code: null, signal: null, error })));
  });
  async function stop() {
    killGroup(child.pid, 'SIGTERM');
    const timeout = new Promise((r) => setTimeout(r, 2000, 'timeout'));
    if ((await Promise.race([exitPromise, timeout])) === 'timeout') killGroup(child.pid);
    killGroup(child.pid); // children that outlived the leader
    await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 2000))]);
    live.delete(child.pid);
    stoppers.delete(child.pid);
  }
  stoppers.set(child.pid, stop);
  return { pid: child.pid, started: performance.now(), exited: () => exit, stop };
}

/** A free TCP port on 127.0.0.1 (chosen by the OS, released before returning). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

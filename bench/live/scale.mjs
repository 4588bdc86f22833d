// bench-live's scale phases (issue 20): ingest over LIVE_SHARDS = 1, 2, 4; GET /live/calls
// and socket opens with a board of 10,000 live calls; and real traffic while a flood of
// forged tickets and unproven webhooks hits the same worker. `s` is bench.mjs's toolbox.

import { Agent } from 'node:http';
import WebSocket from 'ws';
import { mintUserSig } from '../edge/tokens.mjs';

/** Ingest (one round each) with every shard count: rate, and workerd CPU per webhook. */
export async function shardIngest(s, upstream, adminToken, counts, secs) {
  const results = [];
  for (const shards of counts) {
    const worker = await s.startWorker(`shards-${shards}`, upstream, { storage: 'tmpfs', shards });
    await s.drive(worker, { prefix: 'warm', secs: 2, seed: 1 });
    s.progress(`ingest with LIVE_SHARDS=${shards}: ${secs} s`);
    const cpuBefore = s.cpuMs(worker.proc.pid);
    const run = await s.drive(worker, { prefix: `sh${shards}`, secs, seed: 7 });
    const cpu = s.cpuMs(worker.proc.pid) - cpuBefore;
    const checked = await s.verify(worker, adminToken, run.calls);
    await worker.stop();
    const lost = [...run.failures.values()].reduce((n, f) => n + f.count, 0) + checked.bad.length;
    results.push({
      shards, rate: run.ok / run.elapsed, cpuUs: (cpu * 1000) / run.ok,
      p99: s.quantile(run.latencies, 0.99), lost,
      failed: Object.fromEntries([...run.failures].map(([status, f]) => [status, { count: f.count, example: f.example }])),
      wrong: checked.bad.slice(0, 5),
    });
  }
  s.progress('');
  s.out('ingest by shard count (one workerd, so the shards share one thread here; per object on Cloudflare)');
  s.out('  LIVE_SHARDS  webhooks/s  p99 ms  workerd CPU µs/webhook  lost');
  for (const r of results) {
    s.out(`  ${String(r.shards).padStart(11)} ${s.f0(r.rate).padStart(11)} ${s.f2(r.p99).padStart(7)} ${s.f0(r.cpuUs).padStart(23)} ${String(r.lost).padStart(5)}`);
    if (r.lost) s.out(`    lost: ${JSON.stringify({ failed: r.failed, wrong: r.wrong }).slice(0, 600)}`);
  }
  s.out();
  return results;
}

/** Time of `fn()` in ms, `n` times, sequentially: sorted. */
async function timed(s, n, fn) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  return s.sortNum(ms);
}

/** A board of `count` live calls: p99 of an admin's GET /live/calls and of a socket open (ticket → snapshot). */
export async function snapshotAtScale(s, upstream, adminToken, count) {
  const worker = await s.startWorker('snapshot', upstream, { storage: 'tmpfs' });
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const path = `/api/v1/webhooks/tencent?SdkAppid=${s.DEMO_SDKAPPID}&key=${s.URL_KEY}`;
  let next = 0;
  const at = Date.now();
  const load = async () => {
    for (let i = next++; i < count; i = next++) {
      const body = JSON.stringify({
        CallbackCommand: 'Call.CallbackAfterStartCall',
        CallInfo: { CallId: `snap-${i}`, MediaType: 'Audio', ChatGroupId: '', RoomId: '', RoomIdType: 1 },
        UserList: [{ User_Account: `u${i % 40}`, Status: 'Calling' }, { User_Account: `u${(i + 1) % 40}`, Status: 'Waiting' }],
        EventTime: at + i,
      });
      // A keep-alive connection the server closed as it was reused: the same delivery again
      // (the board answers a repeat as a replay).
      const send = () => s.request(worker.url + path, { method: 'POST', body, agent });
      const res = await send().catch(send);
      if (res.status !== 200) throw new Error(`webhook ${i}: ${res.status} ${res.body.slice(0, 200)}`);
    }
  };
  s.progress(`snapshot: loading ${count} live calls`);
  await Promise.all(Array.from({ length: 32 }, load)).catch((e) => { throw new Error(`loading the board: ${e.message}`); });
  s.progress('snapshot: GET /live/calls and socket opens');
  const member = mintUserSig('u1', { expire: 3600 });
  let bytes = 0;
  // Each timed request on a connection of its own (agent: false), as a console's would be.
  const list = await timed(s, 20, async () => {
    s.progress('snapshot: admin GET /live/calls');
    const res = await s.request(`${worker.url}/api/v1/live/calls`, { token: adminToken });
    if (res.status !== 200) throw new Error(`GET /live/calls: ${res.status}`);
    bytes = res.body.length;
  });
  const memberList = await timed(s, 20, () => s.request(`${worker.url}/api/v1/live/calls`, { token: member }));
  // The whole board, a page of 1,000 at a time; a search by user (500 calls) and by CallId.
  let pages = 0;
  const walk = await timed(s, 5, async () => {
    for (let cursor = ''; ; pages += 1) {
      const res = await s.request(`${worker.url}/api/v1/live/calls?limit=1000${cursor && `&cursor=${cursor}`}`, { token: adminToken });
      if (res.status !== 200) throw new Error(`GET /live/calls (walk): ${res.status}`);
      cursor = JSON.parse(res.body).nextCursor;
      if (!cursor) break;
    }
  });
  const byUser = await timed(s, 20, () => s.request(`${worker.url}/api/v1/live/calls?user=u7`, { token: adminToken }));
  const byId = await timed(s, 20, (i) => s.request(`${worker.url}/api/v1/live/calls?callId=snap-${i * 37}`, { token: adminToken }));
  const opens = await timed(s, 20, async (i) => {
    const sock = await s.openSocket(worker, 'bench-admin', adminToken);
    sock.ws.terminate();
    if (i % 7 === 6) await new Promise((r) => setTimeout(r, 50)); // the per-viewer cap closes the oldest anyway
  });
  agent.destroy();
  await worker.stop();
  s.progress('');
  const r = {
    calls: count, bytes,
    listP50: s.quantile(list, 0.5), listP99: s.quantile(list, 0.99),
    memberListP99: s.quantile(memberList, 0.99),
    walkP50: s.quantile(walk, 0.5), byUserP99: s.quantile(byUser, 0.99), byIdP99: s.quantile(byId, 0.99),
    openP50: s.quantile(opens, 0.5), openP99: s.quantile(opens, 0.99),
  };
  s.out(`board of ${s.f0(count)} live calls (one shard, 20 sequential requests each)`);
  s.out(`  admin GET /live/calls (a page of 500): p50 ${s.f2(r.listP50)} ms, p99 ${s.f2(r.listP99)} ms (${s.f0(bytes)} bytes)`);
  s.out(`  admin, the whole board in pages of 1,000: p50 ${s.f2(r.walkP50)} ms (${pages / 5} pages)`);
  s.out(`  admin search ?user= (500 calls): p99 ${s.f2(r.byUserP99)} ms; ?callId=: p99 ${s.f2(r.byIdP99)} ms`);
  s.out(`  member GET /live/calls (from the call_members index): p99 ${s.f2(r.memberListP99)} ms`);
  s.out(`  admin socket open, ticket → snapshot: p50 ${s.f2(r.openP50)} ms, p99 ${s.f2(r.openP99)} ms`);
  s.out();
  return r;
}

/** Upgrades with `n` forged tickets (well-formed, random MAC), `parallel` at a time. */
async function forgedTickets(worker, n, parallel) {
  const statuses = new Map();
  let next = 0;
  const one = () => new Promise((resolve) => {
    const hex = (bytes) => Buffer.from(Array.from({ length: bytes }, () => Math.floor(Math.random() * 256))).toString('hex');
    const ticket = `01${hex(16)}${(Date.now() + 30_000).toString(16).padStart(16, '0')}${'0'.repeat(16)}0000${'01'}${Buffer.from('bench-admin').toString('hex')}${hex(32)}`;
    const ws = new WebSocket(`ws://127.0.0.1:${worker.port}/api/v1/live?ticket=${ticket}`);
    let counted = false; // terminate() after a refusal reports an error too
    const done = (status) => {
      if (counted) return;
      counted = true;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      ws.terminate();
      resolve();
    };
    ws.once('unexpected-response', (_q, res) => { res.resume(); done(res.statusCode); });
    ws.once('open', () => done(101));
    ws.once('error', () => done('error'));
  });
  await Promise.all(Array.from({ length: parallel }, async () => { while (next++ < n) await one(); }));
  return statuses;
}

/** Webhooks with a wrong key, `parallel` at a time. */
async function unprovenWebhooks(s, worker, n, parallel) {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const statuses = new Map();
  let next = 0;
  const body = JSON.stringify({ CallbackCommand: 'Call.CallbackAfterStartCall', CallId: 'forged', EventTime: 1 });
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next++ < n) {
      const res = await s.request(`${worker.url}/api/v1/webhooks/tencent?SdkAppid=${s.DEMO_SDKAPPID}&key=wrong`, { method: 'POST', body, agent })
        .catch(() => ({ status: 'error' }));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  }));
  agent.destroy();
  return statuses;
}

/** Real ingest alone, then again while `n` forged tickets and `n` unproven webhooks arrive. */
export async function floodWhileServing(s, upstream, adminToken, n, secs) {
  const worker = await s.startWorker('flood', upstream, { storage: 'tmpfs' });
  await s.drive(worker, { prefix: 'warm', secs: 2, seed: 1 });
  s.progress(`flood: ${secs} s of real traffic alone`);
  const calm = await s.drive(worker, { prefix: 'calm', secs, seed: 8 });
  s.progress(`flood: ${secs} s of real traffic with ${n} forged tickets and ${n} unproven webhooks`);
  const objectLinesBefore = (await import('node:fs')).readFileSync(worker.log, 'utf8').match(/"event":"socket"/g)?.length ?? 0;
  const [stormy, tickets, hooks] = await Promise.all([
    s.drive(worker, { prefix: 'storm', secs, seed: 9 }),
    forgedTickets(worker, n, 16),
    unprovenWebhooks(s, worker, n, 16),
  ]);
  const objectLines = ((await import('node:fs')).readFileSync(worker.log, 'utf8').match(/"event":"socket"/g)?.length ?? 0) - objectLinesBefore;
  const checked = await s.verify(worker, adminToken, [...calm.calls, ...stormy.calls]);
  await worker.stop();
  s.progress('');
  const failed = (run) => [...run.failures.values()].reduce((k, f) => k + f.count, 0);
  const r = {
    calmP99: s.quantile(calm.latencies, 0.99), calmRate: calm.ok / calm.elapsed,
    stormP99: s.quantile(stormy.latencies, 0.99), stormRate: stormy.ok / stormy.elapsed,
    lost: failed(calm) + failed(stormy) + checked.bad.length,
    tickets: Object.fromEntries(tickets), webhooks: Object.fromEntries(hooks), objectLines,
  };
  s.out(`flood: real webhooks alone, then with ${s.f0(n)} forged tickets and ${s.f0(n)} unproven webhooks at once`);
  s.out(`  real traffic alone:   ${s.f0(r.calmRate)}/s, p99 ${s.f2(r.calmP99)} ms`);
  s.out(`  real traffic flooded: ${s.f0(r.stormRate)}/s, p99 ${s.f2(r.stormP99)} ms (${s.f2(r.stormP99 / r.calmP99)}× the calm p99; target ≤ 2×)`);
  s.out(`  real deliveries lost: ${r.lost} (target 0); forged tickets answered ${JSON.stringify(r.tickets)}, unproven webhooks ${JSON.stringify(r.webhooks)}`);
  s.out(`  board object socket requests during the flood: ${r.objectLines} (a forged ticket never reaches it)`);
  s.out();
  return r;
}

// Seeds the ledger with N ended calls through SQL (recursive CTEs run by D1 itself, in
// chunks), in the shape the webhooks leave them (migrations/0001_call_ledger.sql): one calls
// row, a members row per member and the member timeline. Deterministic: call i is always
// the same call. 10,000 users; one call in five is a group call of three; 70 % answered.

const USERS = 10_000;
export const SEED_USERS = Array.from({ length: USERS }, (_, i) => `user${String(i).padStart(5, '0')}`);
const CHUNK = 50_000;
const DAY = 86_400_000;

// Per call i: its start s, a result bucket r (0–99), talk seconds, and its members' offsets.
const VALUES = `
WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2),
v AS (
  SELECT i,
    printf('%08x-%04x-4%03x-8%03x-%012x', i, i % 65536, i % 4096, (i * 7) % 4096, (i * 2654435761) % 281474976710656) AS id,
    ?3 + i * ?4 AS s,
    (i * 31 + 7) % 100 AS r,
    (i * 7919) % 590 + 10 AS talk,
    printf('user%05d', (i * 7919) % ${USERS}) AS caller,
    printf('user%05d', ((i * 7919) + 1 + i % ${USERS - 1}) % ${USERS}) AS callee,
    CASE WHEN i % 5 = 0 THEN printf('user%05d', ((i * 7919) + CASE WHEN 1 + i % ${USERS - 1} < ${USERS - 1} THEN 2 + i % ${USERS - 1} ELSE 1 END) % ${USERS}) END AS third
  FROM n),
w AS (
  SELECT *,
    CASE WHEN r < 70 THEN 'NormalEnd' WHEN r < 80 THEN 'Reject' WHEN r < 88 THEN 'NotAnswer' WHEN r < 96 THEN 'Cancel'
         WHEN r < 98 THEN 'CallBusy' WHEN r < 99 THEN 'Interrupt' ELSE 'Offline' END AS result,
    CASE WHEN r < 70 THEN s + 5000 END AS accepted,
    CASE WHEN r < 70 THEN s + 5000 + talk * 1000 ELSE s + 20000 END AS ended
  FROM v)`;

const CALLS = `INSERT INTO calls (call_id, caller, media_type, call_type, result, started_at, accepted_at, ended_at,
  room_id, group_id, fact_rank, start_src, end_rank, record_src)
${VALUES}
SELECT id, caller, CASE WHEN (i * 17) % 10 < 6 THEN 'Audio' ELSE 'Video' END,
  CASE WHEN third IS NULL THEN 'SingleCall' ELSE 'MultiCall' END, result, s, accepted, ended,
  printf('%d', 100000 + i), '', 3, 'webhook', 3, 'fetch' FROM w`;

const MEMBERS = `INSERT INTO members (call_id, user_id, started_at)
${VALUES}
SELECT id, caller, s FROM w UNION ALL SELECT id, callee, s FROM w UNION ALL SELECT id, third, s FROM w WHERE third IS NOT NULL`;

// started, invited, then joined + left (answered) or left (not), then ended; a group call's
// third member is invited and leaves as well. In three statements: D1 allows few terms in
// a compound SELECT.
const TIMELINE_INTO = 'INSERT INTO timeline (call_id, at, user_id, event, reason, source)';
const TIMELINE = [
  `${TIMELINE_INTO}
${VALUES}
SELECT id, s, caller, 'started', NULL, 'webhook' FROM w
UNION ALL SELECT id, s, callee, 'invited', NULL, 'webhook' FROM w
UNION ALL SELECT id, accepted, callee, 'joined', 'Answer', 'webhook' FROM w WHERE accepted IS NOT NULL`,
  `${TIMELINE_INTO}
${VALUES}
SELECT id, ended, callee, 'left', CASE WHEN result = 'NormalEnd' THEN 'Hangup' WHEN result = 'Cancel' THEN 'Cancel_Invite'
  WHEN result = 'NotAnswer' THEN 'NotAnswer' ELSE 'Reject' END, 'webhook' FROM w
UNION ALL SELECT id, ended, '', 'ended', result, 'webhook' FROM w`,
  `${TIMELINE_INTO}
${VALUES}
SELECT id, s, third, 'invited', NULL, 'webhook' FROM w WHERE third IS NOT NULL
UNION ALL SELECT id, s + 15000, third, 'left', 'NotAnswer', 'webhook' FROM w WHERE third IS NOT NULL`,
];

/**
 * Inserts `calls` calls started evenly over the `days` days before `now` through `db` (the
 * CALL_LEDGER binding). Returns `{ calls, days, members, timeline, secs }`.
 */
export async function seedCalls(db, { calls, days, now, onProgress = () => {} }) {
  const t0 = performance.now();
  const start = now - days * DAY;
  const step = Math.floor((days * DAY) / calls);
  for (let first = 0; first < calls; first += CHUNK) {
    const last = Math.min(calls, first + CHUNK) - 1;
    const bind = [first, last, start, step];
    await db.batch([CALLS, MEMBERS, ...TIMELINE].map((sql) => db.prepare(sql).bind(...bind)));
    onProgress(`seeded ${last + 1} of ${calls} calls`);
  }
  const count = async (table) => Object.values(await db.prepare(`SELECT COUNT(*) FROM ${table}`).first())[0];
  return { calls: await count('calls'), days, members: await count('members'), timeline: await count('timeline'), secs: (performance.now() - t0) / 1000 };
}

// Realistic call webhooks for the live-board bench: each call is a script of
// start → member changed (… ) → end, in the documented body shapes
// (crates/callkit-core/tests/resources/webhook.*.json), with the board state
// each step must leave (docs/live-board.md), so the bench can check what it
// sent was applied.

/** A small deterministic PRNG (mulberry32), so a run's calls are reproducible. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct users out of `pool`, caller first. */
function pick(random, pool, count) {
  const chosen = new Set();
  while (chosen.size < count) chosen.add(pool[Math.floor(random() * pool.length)]);
  return [...chosen];
}

const list = (members) => members.map(([u, s]) => ({ User_Account: u, Status: s }));

/**
 * One call's webhooks. Every fourth call is a group call (a caller and three
 * callees: one answers, one rejects, then the end), the others 1:1 (the callee
 * answers, then the end). EventTimes are `at`, `at + 1`, … (ms), so each
 * event's time is also the `updatedAt` of the call it leaves on the board.
 *
 * Returns `{ callId, users, events: [{ body, command, at, expect }] }` where
 * `expect` is the call after the event: `{ state, members: { user: status }, updatedAt }`.
 */
export function callScript(callId, { random, pool, at }) {
  const group = random() < 0.25;
  const users = pick(random, pool, group ? 4 : 2);
  const [caller, ...callees] = users;
  const startSecs = Math.floor(at / 1000);
  const events = [];
  const add = (command, body, members, state = 'live') => {
    const time = at + events.length;
    body.EventTime = time;
    events.push({ command, body: JSON.stringify(body), at: time, expect: { state, members, updatedAt: time } });
  };
  const statuses = (pairs) => Object.fromEntries(pairs);

  const start = [[caller, 'Calling'], ...callees.map((c) => [c, 'Waiting'])];
  add('Call.CallbackAfterStartCall', {
    CallbackCommand: 'Call.CallbackAfterStartCall',
    CallInfo: {
      CallId: callId,
      CallMediaType: group ? 'Video' : 'Audio',
      ChatGroupId: group ? `grp-${callId}` : '',
      RoomId: `room-${callId}`,
      RoomIdType: 2,
    },
    UserList: list(start),
  }, statuses(start));

  const answered = [[caller, 'Calling'], [callees[0], 'Calling'], ...callees.slice(1).map((c) => [c, 'Waiting'])];
  add('Call.CallbackAfterMemberChanged', {
    CallbackCommand: 'Call.CallbackAfterMemberChanged',
    CallId: callId,
    UserList: list(answered),
    ChangedUserList: [{ User_Account: callees[0], ActionType: 'Answer' }],
  }, statuses(answered));

  if (group) {
    const rejected = answered.filter(([u]) => u !== callees[1]);
    add('Call.CallbackAfterMemberChanged', {
      CallbackCommand: 'Call.CallbackAfterMemberChanged',
      CallId: callId,
      UserList: list(rejected),
      ChangedUserList: [{ User_Account: callees[1], ActionType: 'Reject' }],
    }, { ...statuses(rejected), [callees[1]]: 'Left' });
  }

  const endSecs = startSecs + 1 + events.length;
  add('Call.CallbackAfterEndCall', {
    CallbackCommand: 'Call.CallbackAfterEndCall',
    CallRecord: {
      CallId: callId,
      Caller_Account: caller,
      MediaType: group ? 'Video' : 'Audio',
      CallType: group ? 'MultiCall' : 'SingleCall',
      StartTime: startSecs,
      EndTime: endSecs,
      AcceptTime: startSecs + 1,
      CallResult: 'NormalEnd',
      CalleeList_Account: users,
      RoomId: `room-${callId}`,
      RoomIdType: 2,
    },
  }, Object.fromEntries(users.map((u) => [u, 'Left'])), 'ended');

  return { callId, users, events };
}

/** The receiver's URL for one delivery, proven by the URL key (docs/live-board.md). */
export function webhookPath(command, { sdkappid, urlKey }) {
  const query = new URLSearchParams({
    SdkAppid: String(sdkappid),
    CallbackCommand: command,
    contenttype: 'json',
    ClientIP: '127.0.0.1',
    OptPlatform: 'RESTAPI',
    key: urlKey,
  });
  return `/api/v1/webhooks/tencent?${query}`;
}

/** Why `call` (from the board) is not what `expect` says, or null when it is. */
export function mismatch(call, expect) {
  if (!call) return 'not on the board';
  if (call.state !== expect.state) return `state ${call.state}, want ${expect.state}`;
  if (call.updatedAt !== expect.updatedAt) return `updatedAt ${call.updatedAt}, want ${expect.updatedAt}`;
  const got = Object.fromEntries(call.members.map((m) => [m.userId, m.status]));
  const want = expect.members;
  const same = Object.keys(got).length === Object.keys(want).length && Object.entries(want).every(([u, s]) => got[u] === s);
  return same ? null : `members ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
}

// Types for callkit-edge-client.js; the shapes follow the README "Edge API" section.

export type MediaType = 'Audio' | 'Video';
export type CallType = 'SingleCall' | 'MultiCall';
export type CallResult = 'Cancel' | 'Reject' | 'NotAnswer' | 'NormalEnd' | 'CallBusy' | 'Interrupt' | 'Offline';
/** `Calling`: in the call; `Waiting`: not connected yet. */
export type MemberStatus = 'Calling' | 'Waiting';
/** 1 = numeric room ID, 2 = string room ID, 0 = no room. */
export type RoomIdType = 0 | 1 | 2;
export type CallbackCommand =
  | 'Call.CallbackAfterStartCall'
  | 'Call.CallbackAfterEndCall'
  | 'Call.CallbackAfterMemberChanged';

export interface Health {
  status: 'ok';
  region: string;
  sdkAppId: number;
  authMode: 'usersig' | 'jwt';
  credentialMode: 'staticUserSig' | 'secretKey';
  /** Unix seconds, or null when unknown. */
  credentialExpiresAt: number | null;
}

export interface CallMember {
  userId: string;
  status: MemberStatus;
}

export interface CallInfo {
  requestId: string;
  callId: string;
  mediaType: MediaType;
  groupId: string;
  roomId: string;
  roomIdType: RoomIdType;
  members: CallMember[];
}

export interface EndCallResult {
  requestId: string;
  callId: string;
  ended: true;
}

export interface StartCallRequest {
  robot: string;
  callees: string[];
  mediaType: MediaType;
  /** Default 30000. */
  timeoutMs?: number;
  userData?: string;
  roomId?: string;
  roomIdType?: 1 | 2;
  offlinePush?: { title?: string; desc?: string; ext?: string };
}

export interface StartCallResult {
  requestId: string;
  /** null when Tencent returns none. */
  callId: string | null;
  results: { userId: string; resultCode: number }[];
}

export interface CallRecord {
  callId: string;
  caller: string;
  callees: string[];
  mediaType: MediaType;
  callType: CallType;
  result: CallResult;
  /** Unix seconds. */
  startTime: number;
  endTime: number;
  acceptTime: number;
  roomId: string;
  roomIdType: RoomIdType;
}

export interface RecordResult {
  requestId: string;
  record: CallRecord;
}

export interface RecordFilter {
  /** Unix seconds (or a Date); default now - 7 days. Tencent keeps 7 days: an earlier start is raised to that. */
  start?: number | Date;
  /** Unix seconds (or a Date); default now. A later end is lowered to now; start after end gives an empty page. */
  end?: number | Date;
  result?: CallResult;
  type?: CallType;
  /** ≥ 1, default 1. */
  page?: number;
  /** 1..100, default 20. */
  perPage?: number;
}

export interface RecordPage {
  requestId: string;
  total: number;
  page: number;
  perPage: number;
  records: CallRecord[];
}

export interface CallbackConfig {
  requestId: string;
  /** The configured URL without its `key` parameter (a secret, never answered). */
  url: string;
  /** The configured URL carries a `key` parameter. */
  keyed: boolean;
  commands: CallbackCommand[];
}

export interface DeleteCallbackResult {
  requestId: string;
  deleted: true;
}

export interface MintedUserSig {
  userId: string;
  userSig: string;
  sdkAppId: number;
  /** Unix seconds. */
  expiresAt: number;
}

/** `Left`: no longer in the call (on the live board only; see `lastAction` for why). */
export type LiveMemberStatus = 'Calling' | 'Waiting' | 'Left';

export interface LiveMember {
  userId: string;
  status: LiveMemberStatus;
  /** The member's last `ActionType` as Tencent sent it (`Answer`, `Reject`, `Hangup`, …), or null. */
  lastAction: string | null;
  /** Unix milliseconds. */
  changedAt: number;
}

/** A call on the live board (docs/live-board.md). Times are Unix milliseconds. */
export interface LiveCall {
  callId: string;
  state: 'live' | 'ended';
  /** null until an event says it. */
  mediaType: MediaType | null;
  callType: CallType | null;
  caller: string | null;
  groupId: string;
  roomId: string;
  roomIdType: 1 | 2 | null;
  startedAt: number;
  endedAt: number | null;
  /** Tencent's `CallResult` at the end. */
  callResult: CallResult | string | null;
  endedBy: 'webhook' | 'reconcile' | null;
  updatedAt: number;
  members: LiveMember[];
  /** Members who left and are no longer listed (a call lists at most 64); absent when none. */
  leftOmitted?: number;
}

export interface LiveCalls {
  /** Live first, then the call the board heard of last. */
  calls: LiveCall[];
  /** The edge's clock, Unix milliseconds. */
  now: number;
  /** Counts over every call the caller may see, whatever the filters and the page. */
  summary: LiveSummary;
  /** Pass as `cursor` (with the same filters) for the next page; null when none is left. */
  nextCursor: string | null;
}

/** `GET /api/v1/live/calls`: a page, and a search of the whole board. */
export interface LiveCallsQuery {
  /** 1..1000, default 500. */
  limit?: number;
  /** `nextCursor` of the previous page, with the same filters. */
  cursor?: string;
  /** Only the calls this user places or is a member of (a member's own calls still). */
  user?: string;
  /** Only this call. */
  callId?: string;
}

/** The call ledger (docs/call-ledger.md). Every time is Unix milliseconds. */
export interface HistoryFilter {
  /** Unix ms (or a Date); default: the start of the retention (earlier is raised to it). */
  from?: number | Date;
  /** Unix ms (or a Date), exclusive; default now. */
  to?: number | Date;
  /** Admins: any user; members: only themselves (else 403 `history_user_forbidden`). */
  user?: string;
  result?: CallResult;
  mediaType?: 'Audio' | 'Video';
  callType?: CallType;
  /** 1..100, default 20. */
  limit?: number;
  /** `nextCursor` of the previous page, with the same filters. */
  cursor?: string;
}

export interface HistoryCall {
  callId: string;
  state: 'live' | 'ended';
  /** `"[erased]"` after the caller's erasure. */
  caller: string | null;
  /** The caller first, then the others by name. */
  members: string[];
  mediaType: 'Audio' | 'Video' | null;
  callType: CallType | null;
  result: CallResult | null;
  startedAt: number;
  acceptedAt: number | null;
  endedAt: number | null;
  talkMs: number | null;
  roomId: string;
  groupId: string;
  sources: {
    start: 'webhook' | 'record';
    end: 'webhook' | 'reconcile' | 'record' | null;
    record: 'fetch' | 'backfill' | null;
  };
}

export interface HistoryPage {
  calls: HistoryCall[];
  nextCursor: string | null;
  from: number;
  to: number;
}

export interface HistoryTimelineEntry {
  at: number;
  /** `null` for the call's own events (`ended`). */
  userId: string | null;
  event: 'started' | 'invited' | 'joined' | 'left' | 'ended'
    | 'room_entered' | 'room_exited' | 'video_on' | 'video_off' | 'audio_on' | 'audio_off' | 'screen_on' | 'screen_off';
  /** `joined`/`left`: the member's ActionType; `ended`: the result; `room_exited`: TRTC's exit reason (`normal`, `timeout`, …). */
  reason: string | null;
  source: 'webhook' | 'record' | 'trtc';
}

export interface HistoryCallDetail {
  call: HistoryCall;
  timeline: HistoryTimelineEntry[];
}

export interface HistoryStatsQuery {
  from?: number | Date;
  to?: number | Date;
  bucket?: 'hour' | 'day';
  /** `+HH:MM`, `-HH:MM` or `Z`. */
  tz?: string;
}

export interface HistoryStatsBucket {
  start: number;
  calls: number;
  answered: number;
  /** 0..1 */
  answerRate: number;
  results: Partial<Record<CallResult, number>>;
  talkMs: { sum: number; p50: number | null; p95: number | null };
}

export interface HistoryStats {
  from: number;
  to: number;
  bucket: 'hour' | 'day';
  tz: string;
  buckets: HistoryStatsBucket[];
}

export interface BackfillProgress {
  state: 'idle' | 'running' | 'done' | 'failed';
  from: number | null;
  to: number | null;
  pages: number;
  records: number;
  added: number;
  merged: number;
  startedAt: number | null;
  updatedAt: number | null;
  finishedAt: number | null;
  error: string | null;
}

export interface HistoryErased {
  userId: string;
  calls: number;
  members: number;
  timeline: number;
  callers: number;
}

export interface LiveTicket {
  /** One use, for `GET /api/v1/live?ticket=…`: the first shard's. */
  ticket: string;
  /** One per shard of the board, in shard order: open a socket with each. */
  tickets: string[];
  /** Seconds. */
  expiresIn: number;
}

export type LiveStatus = 'connecting' | 'open' | 'closed';

export interface LiveDetail {
  /** Why the connection is closed (or the last attempt failed); null while all is well. */
  error: CallKitEdgeError | Error | null;
  /** When the next attempt starts (Unix ms), while `status` is `closed` and not `final`. */
  retryAt: number | null;
  /** Closed for good: another attempt cannot help (401, 403, …). `reconnect()` still tries. */
  final: boolean;
  /** The edge's clock minus this one, from the last snapshot, in ms. */
  clockOffsetMs: number;
  /**
   * Counts over every call the viewer could see when the snapshots were taken; a snapshot
   * holds the newest 500 calls per shard, so `total` may exceed the calls held. Null before.
   */
  summary?: LiveSummary | null;
}

export interface LiveSummary {
  total: number;
  live: number;
  ended: number;
  audio: number;
  video: number;
}

export interface SubscribeOptions {
  /** First reconnect delay before jitter; default 1000. */
  minDelayMs?: number;
  /** Cap of the reconnect delay; default 30000. */
  maxDelayMs?: number;
  /** How often to send `ping`; a socket that answered nothing since the last one is dropped. Default 25000. */
  pingIntervalMs?: number;
  /** Random source for the jitter (0 ≤ x < 1); default Math.random. */
  random?: () => number;
}

/** Calling it closes the subscription for good. */
export interface LiveSubscription {
  (): void;
  /** Tries now instead of waiting for the next scheduled attempt (also after a final close). */
  reconnect(): void;
}

/** Returns the identity provider's current token; `forceRefresh` after the edge answered `token_expired`. */
export type GetToken = (options: { forceRefresh: boolean }) => string | null | undefined | Promise<string | null | undefined>;

export type TokenSource = string | GetToken;

export interface Me {
  /** The TUICallKit UserID every route acts on (from JWT_USER_CLAIM in jwt mode). */
  userId: string;
  admin: boolean;
  provider: 'usersig' | 'jwt' | 'firebase' | 'supabase' | 'auth0' | 'clerk' | 'cognito' | 'cloudflare-access';
  /** Unix seconds: when the token that proved the identity expires. */
  expiresAt: number | null;
}
/** The relay's delivery log (docs/relay.md). Times are Unix milliseconds. */
export type RelayStatus = 'pending' | 'retrying' | 'delivered' | 'dead';

export interface RelayFilter {
  status?: RelayStatus;
  /** One of WEBHOOK_FORWARD_URLS, exactly. */
  url?: string;
  /** `nextCursor` of the page before. */
  cursor?: string;
}

export interface RelayDelivery {
  /** The `webhook-id`, the same on every attempt and redelivery. */
  id: string;
  url: string;
  source: 'callkit' | 'trtc';
  status: RelayStatus;
  attempts: number;
  /** The backend's HTTP status on the last attempt. */
  lastStatus: number | null;
  lastError: 'timeout' | 'network' | null;
  latencyMs: number | null;
  acceptedAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

export interface RelayUrl {
  url: string;
  pending: number;
  retrying: number;
  delivered: number;
  dead: number;
  lastAttemptAt: number;
}

export interface RelayPage {
  /** Failing (retrying or dead) URLs first. */
  urls: RelayUrl[];
  /** Newest first, 50 a page. */
  deliveries: RelayDelivery[];
  nextCursor: string | null;
}

export interface Redelivery {
  id: string;
  status: 'pending';
}


export interface CallKitEdgeClientOptions {
  /** Origin of the edge; '' (the default) means the page's own origin. */
  baseUrl?: string;
  /** The bearer token, or a function returning it (called before every request). Give this or `getToken`. */
  token?: TokenSource;
  /**
   * Called before every request for a fresh provider token (e.g. `() => auth.currentUser.getIdToken()`);
   * after a 401 `token_expired` once more with `{ forceRefresh: true }`, and the request is sent again.
   */
  getToken?: GetToken;
  /** A fetch implementation; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** A WebSocket constructor for `subscribe()`; defaults to the global one (pass `ws`'s in Node). */
  WebSocket?: new (url: string) => WebSocket;
}

export class CallKitEdgeClient {
  constructor(options?: CallKitEdgeClientOptions);
  health(): Promise<Health>;
  getCall(callId: string): Promise<CallInfo>;
  endCall(callId: string): Promise<EndCallResult>;
  startCall(req: StartCallRequest): Promise<StartCallResult>;
  getRecord(callId: string): Promise<RecordResult>;
  listRecords(filter?: RecordFilter): Promise<RecordPage>;
  getCallback(): Promise<CallbackConfig>;
  /** `keepKey`: `url` has no `key=` and keeps the configured one. */
  setCallback(config: { url: string; commands: CallbackCommand[]; keepKey?: boolean }): Promise<CallbackConfig>;
  deleteCallback(): Promise<DeleteCallbackResult>;
  mintUserSig(): Promise<MintedUserSig>;
  /** `GET /api/v1/me`: who the edge thinks the caller is. */
  me(): Promise<Me>;
  liveCalls(query?: LiveCallsQuery): Promise<LiveCalls>;
  liveTicket(): Promise<LiveTicket>;
  listHistory(filter?: HistoryFilter): Promise<HistoryPage>;
  getHistoryCall(callId: string): Promise<HistoryCallDetail>;
  historyStats(query?: HistoryStatsQuery): Promise<HistoryStats>;
  /** CSV (default) or NDJSON; admins only. */
  exportHistory(query?: { from?: number | Date; to?: number | Date; format?: 'csv' | 'ndjson' }): Promise<Blob>;
  startBackfill(range?: { from?: number | Date; to?: number | Date }): Promise<BackfillProgress>;
  backfillStatus(): Promise<BackfillProgress>;
  eraseHistoryUser(userId: string): Promise<HistoryErased>;
  relayDeliveries(filter?: RelayFilter): Promise<RelayPage>;
  redeliver(id: string): Promise<Redelivery>;
  /**
   * Follows the live board over WebSockets (one per shard), opened with fresh tickets on every
   * (re)connect, at once when a socket's ticket time is up (close code 4001);
   * reconnects after a drop with exponential backoff and jitter (capped at `maxDelayMs`).
   * `onChange` gets every visible call (live first, then newest first), the status and details; it is not
   * called again once the returned function has been called.
   */
  subscribe(
    onChange: (calls: LiveCall[], status: LiveStatus, detail: LiveDetail) => void,
    options?: SubscribeOptions,
  ): LiveSubscription;
}

export interface CallKitEdgeErrorInit {
  status?: number;
  code?: string;
  title?: string;
  detail?: string;
  tencentErrorCode?: number | null;
  requestId?: string | null;
  retryAfter?: number | null;
  type?: string | null;
}

/**
 * Any failed call. `code` is the problem+json `code`; answers that are not problem+json get a
 * generic one (`unauthorized`, `forbidden`, `not_found`, `rate_limited`, `server_error`,
 * `http_error`), no answer at all is `network_error` (status 0), and a success body that is
 * not JSON is `bad_response`. On the live socket (`LiveDetail.error`), a socket that closed is
 * `connection_closed` and one that stopped answering pings `network_error`, both status 0 and
 * retried; one that made way for a newer socket of the same user (the edge keeps 8 per user,
 * close code 4008) is `socket_replaced`, final until `reconnect()`.
 */
export class CallKitEdgeError extends Error {
  constructor(init?: CallKitEdgeErrorInit);
  readonly name: 'CallKitEdgeError';
  status: number;
  code: string;
  title: string;
  detail: string;
  tencentErrorCode: number | null;
  requestId: string | null;
  /** Seconds to wait, from `Retry-After` (429 and some 503s). */
  retryAfter: number | null;
  type: string | null;
}

/** Seconds from a Retry-After header value (delta-seconds or HTTP date), or null. */
export function parseRetryAfter(value: string | null | undefined, now?: number): number | null;

/**
 * The wait before reconnect attempt `attempt` (0-based): `minDelayMs · 2^attempt`, capped at
 * `maxDelayMs`, times a random 0.5-1 (jitter). Milliseconds.
 */
export function reconnectDelay(
  attempt: number,
  options?: { minDelayMs?: number; maxDelayMs?: number; random?: () => number },
): number;

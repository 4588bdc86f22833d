//! The live board's Durable Object (`CallBoard`) and the edge API's way to
//! reach it: `Board`, the app's board over its shards, and `BoardStub`, one
//! shard. The model it serves is `crate::board`.

mod coalesce;
mod object;
pub mod page;
mod reconcile;
pub mod rooms;
pub mod shards;
pub mod sockets;
mod store;
pub mod tickets;

pub use object::CallBoard;

use js_sys::Uint8Array;
use worker::{Env, Request, Response, Stub};

use crate::board::Viewer;
use crate::platform::join_all::join_all;
use crate::platform::live_config::LiveConfig;
use page::PageQuery;
use tickets::Ticket;

/// The Durable Object binding in wrangler.toml.
pub const BINDING: &str = "CALL_BOARD";
/// A socket ticket's life.
pub const TICKET_TTL_MS: u64 = 30_000;
/// The longest a socket stays open on one ticket, whatever the token's life.
pub const MAX_SOCKET_MS: u64 = 3_600_000;
/// How long a delivery is remembered to answer its replay: the 60 s a
/// `RequestTime` may be off either way.
pub const REPLAY_WINDOW_MS: u64 = 120_000;

/// The object's own routes; only `BoardStub` calls them.
mod paths {
    pub const EVENT: &str = "/event";
    pub const CALLS: &str = "/calls";
    pub const SOCKET: &str = "/socket";
    pub const BACKFILL: &str = "/ledger/backfill";
    pub const TRTC: &str = "/trtc";
}
const ORIGIN: &str = "https://call-board";
const VIEWER_HEADER: &str = "X-Board-Viewer";
const REPLAY_HEADER: &str = "X-Board-Replay-Key";
/// The ticket's nonce, spent once by the object.
const NONCE_HEADER: &str = "X-Board-Nonce";
/// When the nonce may be forgotten: the ticket's expiry (ms).
const NONCE_EXPIRES_HEADER: &str = "X-Board-Nonce-Expires";
/// When the socket is closed with 4001 (ms).
const SOCKET_UNTIL_HEADER: &str = "X-Board-Socket-Until";
/// `1`: apply the event only if this shard holds the call already.
const KNOWN_ONLY_HEADER: &str = "X-Board-Known-Only";
/// The calls a shard may hold (`LIVE_MAX_CALLS`).
const MAX_CALLS_HEADER: &str = "X-Board-Max-Calls";
/// On the board's 101: the user the ticket was issued to.
const VIEWER_ID_HEADER: &str = "X-Board-Viewer-Id";
/// `applied`, `unchanged` or `replay`: a header, since reading a body back
/// costs the webhook path about a tenth of its time.
const OUTCOME_HEADER: &str = "X-Board-Outcome";
/// What of a client's upgrade reaches the object: nothing else it sent.
const UPGRADE_HEADERS: [&str; 5] = [
    "Upgrade",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];
/// The page of calls asked for (`page::PageQuery::to_header`), checked by the edge.
const PAGE_HEADER: &str = "X-Board-Page";
/// `from-to` (ms) of a backfill the edge checked.
const BACKFILL_HEADER: &str = "X-Ledger-Backfill";

/// How often the alarm looks at the board while it holds anything.
pub fn alarm_interval_ms(live: &LiveConfig) -> u64 {
    let shortest = live.reconcile_after.min(live.keep_ended);
    (reconcile::millis(shortest) / 2).clamp(1_000, 60_000)
}

/// What became of a webhook, as the board's `X-Board-Outcome` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The board changed.
    Applied,
    /// A duplicate or a stale event: nothing to change.
    Unchanged,
    /// The same delivery was applied before.
    Replay,
    /// Asked to apply only to a call it holds, the shard holds none.
    Unknown,
    /// The shard is full (`LIVE_MAX_CALLS`): a new call was not taken.
    Full,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Unchanged => "unchanged",
            Outcome::Replay => "replay",
            Outcome::Unknown => "unknown",
            Outcome::Full => "full",
        }
    }
}

/// Why the board could not answer.
#[derive(Debug)]
pub enum BoardError {
    /// The `CALL_BOARD` binding is not configured.
    Missing,
    /// The ticket is forged, used or expired.
    InvalidTicket,
    /// The object failed; the detail is for the log.
    Failed(String),
}

impl From<worker::Error> for BoardError {
    fn from(e: worker::Error) -> Self {
        BoardError::Failed(e.to_string())
    }
}

/// The app's board: its shards, and where each call goes.
pub struct Board<'a> {
    env: &'a Env,
    sdkappid: u64,
    live: &'a LiveConfig,
}

impl<'a> Board<'a> {
    pub fn new(env: &'a Env, sdkappid: u64, live: &'a LiveConfig) -> Self {
        Self {
            env,
            sdkappid,
            live,
        }
    }

    pub fn live(&self) -> &LiveConfig {
        self.live
    }

    pub fn shard(&self, shard: u16) -> Result<BoardStub, BoardError> {
        BoardStub::for_shard(self.env, self.sdkappid, shard)
    }

    /// Applies a verified webhook in its call's shard. While the shard count
    /// changes, a call the previous layout placed elsewhere stays there.
    pub async fn apply(
        &self,
        call_id: &str,
        body: &[u8],
        replay_key: &str,
    ) -> Result<Outcome, BoardError> {
        let new = shards::shard_of(call_id, self.live.shards);
        let max = self.live.max_calls;
        if let Some(previous) = self.live.previous_shards {
            let old = shards::shard_of(call_id, previous);
            if old != new {
                let outcome = self.shard(old)?.apply(body, replay_key, true, max).await?;
                if outcome != Outcome::Unknown {
                    return Ok(outcome);
                }
            }
        }
        self.shard(new)?.apply(body, replay_key, false, max).await
    }

    /// Takes a proven TRTC event in every shard, at once. The event names a
    /// room, not a call, and any shard may hold the call that uses the room
    /// or get its start webhook later: each shard keeps its own copy of the
    /// room's presence and joins it to its own calls (docs/live-board.md).
    /// A replay is one every shard has seen.
    pub async fn apply_trtc(&self, body: &[u8], dedupe_key: &str) -> Result<Outcome, BoardError> {
        let stubs = (0..self.live.shards_to_read())
            .map(|k| self.shard(k))
            .collect::<Result<Vec<_>, _>>()?;
        let answers = join_all(stubs.iter().map(|s| s.apply_trtc(body, dedupe_key))).await;
        let mut outcome = Outcome::Replay;
        for answer in answers {
            if answer? != Outcome::Replay {
                outcome = Outcome::Applied;
            }
        }
        Ok(outcome)
    }

    /// A page of every shard's calls that `viewer` may see, asked of all
    /// shards at once and merged; `fingerprint` ties its cursor to the query.
    pub async fn calls(
        &self,
        viewer: &Viewer,
        query: &PageQuery,
        fingerprint: &str,
    ) -> Result<String, BoardError> {
        let stubs = (0..self.live.shards_to_read())
            .map(|k| self.shard(k))
            .collect::<Result<Vec<_>, _>>()?;
        let answers = join_all(stubs.iter().map(|s| s.calls(viewer, query))).await;
        let texts = answers.into_iter().collect::<Result<Vec<_>, _>>()?;
        let pages = texts
            .iter()
            .map(|text| page::read_shard(text))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| BoardError::Failed("a shard's page is unreadable".into()))?;
        Ok(page::merge(pages, query, fingerprint))
    }

    /// Starts the ledger's backfill over `[from, to]` (ms). It runs in
    /// shard 0 whatever the shard count: one run per app, its progress in
    /// one place, and its rows merge with those the shards' drains write.
    pub async fn start_backfill(&self, from: u64, to: u64) -> Result<String, BoardError> {
        self.shard(0)?.start_backfill(from, to).await
    }

    /// The backfill's progress, from shard 0.
    pub async fn backfill_progress(&self) -> Result<String, BoardError> {
        self.shard(0)?.backfill_progress().await
    }
}

/// One shard of the board: one Durable Object.
pub struct BoardStub {
    stub: Stub,
}

impl BoardStub {
    pub fn for_shard(env: &Env, sdkappid: u64, shard: u16) -> Result<Self, BoardError> {
        let namespace = env
            .durable_object(BINDING)
            .map_err(|_| BoardError::Missing)?;
        let stub = namespace.get_by_name(&shards::object_name(sdkappid, shard))?;
        Ok(Self { stub })
    }

    /// Applies a verified webhook body. `replay_key` identifies the delivery;
    /// `known_only` leaves a call this shard does not hold alone.
    pub async fn apply(
        &self,
        body: &[u8],
        replay_key: &str,
        known_only: bool,
        max_calls: u64,
    ) -> Result<Outcome, BoardError> {
        let max = max_calls.to_string();
        let mut pairs = vec![
            (REPLAY_HEADER, replay_key),
            (MAX_CALLS_HEADER, max.as_str()),
        ];
        if known_only {
            pairs.push((KNOWN_ONLY_HEADER, "1"));
        }
        let body = Uint8Array::from(body);
        let response = self
            .send(paths::EVENT, "POST", headers(&pairs)?, Some(body.into()))
            .await?;
        let outcome = response.headers().get(OUTCOME_HEADER)?.unwrap_or_default();
        [
            Outcome::Applied,
            Outcome::Unchanged,
            Outcome::Replay,
            Outcome::Unknown,
            Outcome::Full,
        ]
        .into_iter()
        .find(|o| o.as_str() == outcome)
        .ok_or_else(|| BoardError::Failed(format!("board answered outcome {outcome:?}")))
    }

    /// Takes a proven TRTC event once; `dedupe_key` identifies the event.
    pub async fn apply_trtc(&self, body: &[u8], dedupe_key: &str) -> Result<Outcome, BoardError> {
        let headers = headers(&[(REPLAY_HEADER, dedupe_key)])?;
        let body = Uint8Array::from(body);
        let response = self
            .send(paths::TRTC, "POST", headers, Some(body.into()))
            .await?;
        let outcome = response.headers().get(OUTCOME_HEADER)?.unwrap_or_default();
        Ok(if outcome == Outcome::Replay.as_str() {
            Outcome::Replay
        } else {
            Outcome::Applied
        })
    }

    /// A page of the shard as `viewer` may see it (`page::shard_text`).
    pub async fn calls(&self, viewer: &Viewer, query: &PageQuery) -> Result<String, BoardError> {
        let headers = viewer_headers(viewer)?;
        headers
            .set(PAGE_HEADER, &query.to_header())
            .map_err(|_| BoardError::Failed("could not set a board header".into()))?;
        let mut response = self.send(paths::CALLS, "GET", headers, None).await?;
        Ok(response.text().await?)
    }

    /// Starts the ledger's backfill over `[from, to]` (ms), unless one is
    /// under way; its progress as the JSON the API answers.
    pub async fn start_backfill(&self, from: u64, to: u64) -> Result<String, BoardError> {
        let window = format!("{from}-{to}");
        let headers = headers(&[(BACKFILL_HEADER, &window)])?;
        let mut response = self.send(paths::BACKFILL, "POST", headers, None).await?;
        Ok(response.text().await?)
    }

    /// The backfill's progress, as the JSON the API answers.
    pub async fn backfill_progress(&self) -> Result<String, BoardError> {
        let mut response = self
            .send(paths::BACKFILL, "GET", headers(&[])?, None)
            .await?;
        Ok(response.text().await?)
    }

    /// Hands a WebSocket upgrade with a ticket the edge verified to the
    /// shard, which spends it; the answer is the 101 and whom the ticket was
    /// issued to (for the audit line).
    pub async fn socket(
        &self,
        upgrade: &web_sys::Request,
        ticket: &Ticket,
    ) -> Result<(web_sys::Response, String), BoardError> {
        let url = format!("{ORIGIN}{}", paths::SOCKET);
        let forwarded_headers = socket_headers(&upgrade.headers(), ticket)?;
        let failed = |_| BoardError::Failed("could not forward the upgrade".into());
        let init = web_sys::RequestInit::new();
        init.set_headers(&forwarded_headers);
        let forwarded = web_sys::Request::new_with_str_and_init(&url, &init).map_err(failed)?;
        let response = self
            .stub
            .fetch_with_request(Request::from(forwarded))
            .await?;
        match response.status_code() {
            101 => upgraded(response),
            401 => Err(BoardError::InvalidTicket),
            status => Err(BoardError::Failed(format!(
                "board answered {status} to a socket"
            ))),
        }
    }

    async fn send(
        &self,
        path: &str,
        method: &str,
        headers: web_sys::Headers,
        body: Option<wasm_bindgen::JsValue>,
    ) -> Result<Response, BoardError> {
        // web_sys's init: `worker`'s would serialize its `cf` options, ~6 KB of wasm.
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        init.set_headers(&headers);
        if let Some(body) = body {
            init.set_body(&body);
        }
        let request = web_sys::Request::new_with_str_and_init(&format!("{ORIGIN}{path}"), &init)
            .map_err(|_| BoardError::Failed(format!("could not build the request to {path}")))?;
        let response = self.stub.fetch_with_request(Request::from(request)).await?;
        match response.status_code() {
            200..=299 => Ok(response),
            status => Err(BoardError::Failed(format!(
                "board answered {status} on {path}"
            ))),
        }
    }
}

/// The headers of a socket request to the board: the client's upgrade
/// headers (`UPGRADE_HEADERS`) and nothing else it sent, then what the edge
/// checked in the ticket.
pub fn socket_headers(
    upgrade: &web_sys::Headers,
    ticket: &Ticket,
) -> Result<web_sys::Headers, BoardError> {
    let headers = viewer_headers(&ticket.viewer)?;
    let failed = |_| BoardError::Failed("could not forward the upgrade".into());
    for name in UPGRADE_HEADERS {
        if let Some(value) = upgrade.get(name).map_err(failed)? {
            headers.set(name, &value).map_err(failed)?;
        }
    }
    for (name, value) in [
        (NONCE_HEADER, ticket.nonce.clone()),
        (NONCE_EXPIRES_HEADER, ticket.expires_ms.to_string()),
        (SOCKET_UNTIL_HEADER, ticket.socket_until_ms.to_string()),
    ] {
        headers.set(name, &value).map_err(failed)?;
    }
    Ok(headers)
}

/// The board's 101, passed on without the board's own header.
fn upgraded(response: Response) -> Result<(web_sys::Response, String), BoardError> {
    let viewer = response
        .headers()
        .get(VIEWER_ID_HEADER)?
        .unwrap_or_default();
    let socket = response
        .websocket()
        .ok_or_else(|| BoardError::Failed("a 101 without a socket".into()))?;
    Ok((Response::from_websocket(socket)?.into(), viewer))
}

fn viewer_headers(viewer: &Viewer) -> Result<web_sys::Headers, BoardError> {
    let json = serde_json::to_string(viewer).map_err(|e| BoardError::Failed(e.to_string()))?;
    headers(&[(VIEWER_HEADER, &json)])
}

fn headers(pairs: &[(&str, &str)]) -> Result<web_sys::Headers, BoardError> {
    let failed = |_| BoardError::Failed("could not set a board header".into());
    let headers = web_sys::Headers::new().map_err(failed)?;
    for (name, value) in pairs {
        headers.set(name, value).map_err(failed)?;
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(reconcile: u64, keep: u64) -> LiveConfig {
        LiveConfig::for_tests(reconcile, keep, 1)
    }

    #[test]
    fn the_alarm_runs_twice_per_shortest_period_within_bounds() {
        assert_eq!(alarm_interval_ms(&live(120, 600)), 60_000);
        assert_eq!(alarm_interval_ms(&live(10, 600)), 5_000);
        assert_eq!(alarm_interval_ms(&live(600, 4)), 2_000);
        assert_eq!(alarm_interval_ms(&live(1, 1)), 1_000);
        assert_eq!(alarm_interval_ms(&live(3_600, 3_600)), 60_000);
    }
}

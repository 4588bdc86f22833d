//! The live board's Durable Object (`CallBoard`) and the edge API's way to
//! reach it (`BoardStub`). The model it serves is `crate::board`.

mod object;
mod reconcile;
pub mod rooms;
mod sockets;
mod store;
pub mod tickets;

pub use object::CallBoard;

use js_sys::Uint8Array;
use worker::{Env, Request, Response, Stub};

use crate::board::Viewer;
use crate::platform::live_config::LiveConfig;

/// The Durable Object binding in wrangler.toml.
pub const BINDING: &str = "CALL_BOARD";
/// A socket ticket's life.
pub const TICKET_TTL_MS: u64 = 30_000;
/// How long a delivery is remembered to answer its replay: the 60 s a
/// `RequestTime` may be off either way.
pub const REPLAY_WINDOW_MS: u64 = 120_000;

/// The object's own routes; only `BoardStub` calls them.
mod paths {
    pub const EVENT: &str = "/event";
    pub const CALLS: &str = "/calls";
    pub const TICKETS: &str = "/tickets";
    pub const SOCKET: &str = "/socket";
    pub const TRTC: &str = "/trtc";
}
const ORIGIN: &str = "https://call-board";
const VIEWER_HEADER: &str = "X-Board-Viewer";
const REPLAY_HEADER: &str = "X-Board-Replay-Key";
const TICKET_HEADER: &str = "X-Board-Ticket";
/// On the board's 101: the user the ticket was issued to.
const VIEWER_ID_HEADER: &str = "X-Board-Viewer-Id";
/// `applied`, `unchanged` or `replay`: a header, since reading a body back
/// costs the webhook path about a tenth of its time.
const OUTCOME_HEADER: &str = "X-Board-Outcome";

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
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Unchanged => "unchanged",
            Outcome::Replay => "replay",
        }
    }
}

/// Why the board could not answer.
#[derive(Debug)]
pub enum BoardError {
    /// The `CALL_BOARD` binding is not configured.
    Missing,
    /// The ticket is unknown, used or expired.
    InvalidTicket,
    /// The object failed; the detail is for the log.
    Failed(String),
}

impl From<worker::Error> for BoardError {
    fn from(e: worker::Error) -> Self {
        BoardError::Failed(e.to_string())
    }
}

/// The board of one app.
pub struct BoardStub {
    stub: Stub,
}

impl BoardStub {
    pub fn for_app(env: &Env, sdkappid: u64) -> Result<Self, BoardError> {
        let namespace = env
            .durable_object(BINDING)
            .map_err(|_| BoardError::Missing)?;
        let stub = namespace.get_by_name(&sdkappid.to_string())?;
        Ok(Self { stub })
    }

    /// Applies a verified webhook body. `replay_key` identifies the delivery.
    pub async fn apply(&self, body: &[u8], replay_key: &str) -> Result<Outcome, BoardError> {
        let headers = headers(&[(REPLAY_HEADER, replay_key)])?;
        let body = Uint8Array::from(body);
        let response = self
            .send(paths::EVENT, "POST", headers, Some(body.into()))
            .await?;
        let outcome = response.headers().get(OUTCOME_HEADER)?.unwrap_or_default();
        [Outcome::Applied, Outcome::Unchanged, Outcome::Replay]
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

    /// The board as `viewer` may see it, as the JSON the API answers.
    pub async fn calls(&self, viewer: &Viewer) -> Result<String, BoardError> {
        let mut response = self
            .send(paths::CALLS, "GET", viewer_headers(viewer)?, None)
            .await?;
        Ok(response.text().await?)
    }

    /// A new socket ticket for `viewer`, as the JSON the API answers.
    pub async fn ticket(&self, viewer: &Viewer) -> Result<String, BoardError> {
        let mut response = self
            .send(paths::TICKETS, "POST", viewer_headers(viewer)?, None)
            .await?;
        Ok(response.text().await?)
    }

    /// Hands a WebSocket upgrade to the board; the answer is the 101 and
    /// whom the ticket was issued to (for the audit line).
    pub async fn socket(
        &self,
        upgrade: &web_sys::Request,
        ticket: &str,
    ) -> Result<(web_sys::Response, String), BoardError> {
        let url = format!("{ORIGIN}{}", paths::SOCKET);
        // The upgrade's own headers (Upgrade, Sec-WebSocket-*), nothing else.
        let init = web_sys::RequestInit::new();
        init.set_headers(&upgrade.headers());
        let forwarded = web_sys::Request::new_with_str_and_init(&url, &init)
            .map_err(|_| BoardError::Failed("could not forward the upgrade".into()))?;
        forwarded
            .headers()
            .set(TICKET_HEADER, ticket)
            .map_err(|_| BoardError::Failed("could not forward the ticket".into()))?;
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
    use std::time::Duration;

    fn live(reconcile: u64, keep: u64) -> LiveConfig {
        LiveConfig {
            callback_token: None,
            url_key: None,
            reconcile_after: Duration::from_secs(reconcile),
            keep_ended: Duration::from_secs(keep),
        }
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

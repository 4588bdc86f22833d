//! The live board: `GET /api/v1/live/calls`, `POST /api/v1/live/ticket` and
//! the socket `GET /api/v1/live?ticket=…` (docs/live-board.md).

use serde::Serialize;

use super::Success;
use crate::api::auth::Identity;
use crate::api::ip_limit;
use crate::api::policy::Action;
use crate::api::problem::ApiError;
use crate::api::validate::CallId;
use crate::api::Incoming;
use crate::board::Viewer;
use crate::ledger::filter;
use crate::live::page::{self, PageQuery};
use crate::live::tickets::{self, Ticket};
use crate::live::{Board, BoardError, MAX_SOCKET_MS, TICKET_TTL_MS};
use callkit_core::user_id::is_valid_user_id;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tickets {
    /// The first shard's: all a board of one shard needs.
    ticket: String,
    /// One per shard, in shard order: open a socket with each.
    tickets: Vec<String>,
    expires_in: u64,
}

pub async fn calls(
    board: &Board<'_>,
    identity: &Identity,
    query: Vec<(String, String)>,
) -> Result<Success, ApiError> {
    let (page, fingerprint) = page_query(&query)?;
    let json = board.calls(&viewer(identity), &page, &fingerprint).await?;
    Ok(Success::raw(200, json))
}

/// `limit`, `cursor`, `user` and `callId`, checked. A member's `user` only
/// narrows their own calls, so it needs no rule of its own.
fn page_query(pairs: &[(String, String)]) -> Result<(PageQuery, String), ApiError> {
    let invalid = |detail: String| ApiError::bad_request("invalid_query", detail);
    let mut query = PageQuery {
        limit: page::DEFAULT_LIMIT,
        ..PageQuery::default()
    };
    let mut cursor = None;
    for (key, value) in pairs {
        match key.as_str() {
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=page::MAX_LIMIT).contains(n))
                    .ok_or_else(|| invalid(format!("`limit` must be 1 to {}.", page::MAX_LIMIT)))?
            }
            "user" if is_valid_user_id(value) => query.user = Some(value.clone()),
            "user" => return Err(invalid("`user` must be a valid TUICallKit UserID.".into())),
            "callId" => query.call_id = Some(CallId::parse(value)?.as_str().to_owned()),
            "cursor" => cursor = Some(value.clone()),
            other => return Err(invalid(format!("Unknown query parameter `{other}`."))),
        }
    }
    let fingerprint = filter::fingerprint(&[
        query.user.as_deref().unwrap_or_default(),
        query.call_id.as_deref().unwrap_or_default(),
    ]);
    if let Some(raw) = cursor {
        query.after = Some(page::decode_cursor(&raw, &fingerprint).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_cursor",
                "The cursor is malformed or was made for other filters: start again without it.",
            )
        })?);
    }
    Ok((query, fingerprint))
}

/// Tickets are signed here, at the edge: issuing them touches no object.
pub async fn ticket(board: &Board<'_>, identity: &Identity) -> Result<Success, ApiError> {
    let now = now_ms();
    let token_end = identity
        .expires_at()
        .map_or(u64::MAX, |s| s.saturating_mul(1000));
    let secret = board.live().ticket_secret.expose().as_bytes();
    let mut issued = Vec::new();
    for shard in 0..board.live().shards_to_read() {
        let ticket = Ticket {
            nonce: tickets::new_nonce().map_err(|e| ApiError::Internal(e.to_string()))?,
            expires_ms: now + TICKET_TTL_MS,
            socket_until_ms: token_end.min(now + MAX_SOCKET_MS),
            shard,
            viewer: viewer(identity),
        };
        let text = tickets::issue(secret, &ticket)
            .ok_or_else(|| ApiError::Internal("a user id too long for a ticket".into()))?;
        issued.push(text);
    }
    let body = Tickets {
        ticket: issued[0].clone(),
        tickets: issued,
        expires_in: TICKET_TTL_MS / 1000,
    };
    Success::json(200, &body, None)
}

/// The ticket is the credential here. The client's address is limited
/// first; then the ticket's MAC and expiry are checked at the edge, so a
/// forged one costs no object; its shard spends it once. A browser page of
/// another origin may not open the socket even with a ticket (no cross-site
/// WebSocket hijacking): same origin, or one of `ALLOWED_ORIGINS`, or no
/// `Origin` at all (not a browser).
pub async fn socket(input: Incoming<'_>) -> Result<Success, ApiError> {
    ip_limit::check(&input).await?;
    let upgrade = input.header("Upgrade");
    if !upgrade.is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::UpgradeRequired);
    }
    if let Some(origin) = input.header("Origin") {
        if origin != input.own_origin() && !input.app.cors.is_allowed(&origin) {
            return Err(ApiError::Forbidden {
                action: Action::LiveSocket,
            });
        }
    }
    let text = input
        .query()
        .into_iter()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let secret = input.app.live.ticket_secret.expose().as_bytes();
    let ticket = tickets::verify(secret, &text, now_ms())
        .ok()
        .filter(|t| t.shard < input.app.live.shards_to_read())
        .ok_or(BoardError::InvalidTicket)?;
    let board = input.board();
    let (response, viewer) = board
        .shard(ticket.shard)?
        .socket(input.req, &ticket)
        .await?;
    input.line.identity = Some(viewer);
    Ok(Success::upgrade(response))
}

/// Admins see every call; under the `member` rule anyone else their own.
fn viewer(identity: &Identity) -> Viewer {
    Viewer {
        user_id: identity.user_id().to_owned(),
        is_admin: identity.is_admin(),
    }
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

//! `/api/v1/history…`: the call ledger's routes (docs/call-ledger.md). Each
//! checks its query, asks D1 (or the board object, for the backfill) and
//! answers JSON; the export answers a stream.

use callkit_core::user_id::is_valid_user_id;
use serde::Deserialize;

use super::Success;
use crate::api::auth::Identity;
use crate::api::problem::ApiError;
use crate::api::validate::{self, CallId};
use crate::api::Incoming;
use crate::ledger::backfill::WINDOW_MS;
use crate::ledger::filter::{self, Asker, Refused};
use crate::ledger::{erase, export, read, stats, Ledger};

/// What a history route is served with: the request, who signed in, and
/// whether the policy limits them to their own calls.
pub struct HistoryInput<'a> {
    pub incoming: Incoming<'a>,
    pub identity: Identity,
    pub own_calls_only: bool,
}

impl HistoryInput<'_> {
    fn asker(&self) -> Asker<'_> {
        Asker {
            user_id: self.identity.user_id(),
            is_admin: !self.own_calls_only,
        }
    }

    fn now_ms(&self) -> u64 {
        self.incoming.now_secs * 1000
    }

    /// The oldest start the retention keeps.
    fn oldest(&self) -> u64 {
        self.incoming.app.ledger.window_start(self.now_ms())
    }

    /// A member's own user ID; `None` for an admin, who sees every call.
    fn viewer(&self) -> Option<&str> {
        self.own_calls_only.then(|| self.identity.user_id())
    }

    fn ledger(&self) -> Result<Ledger, ApiError> {
        Ok(Ledger::open(self.incoming.env)?)
    }
}

fn refused(r: Refused) -> ApiError {
    if r.code == "history_user_forbidden" {
        return ApiError::HistoryUserForbidden;
    }
    ApiError::bad_request(r.code, r.detail)
}

pub async fn list(input: HistoryInput<'_>) -> Result<Success, ApiError> {
    let now = input.now_ms();
    let query = filter::list(&input.incoming.query(), &input.asker(), input.oldest(), now)
        .map_err(refused)?;
    let page = read::page(&input.ledger()?, &query).await?;
    Ok(Success::raw(200, page))
}

pub const CALL_NOT_FOUND: ApiError = ApiError::NotFound {
    code: "history_call_not_found",
    detail: "No call with this CallId is in the history you may see.",
};

pub async fn one(input: HistoryInput<'_>) -> Result<Success, ApiError> {
    no_query(&input)?;
    let raw = last_segment(input.incoming.path());
    let call_id = CallId::parse(&raw)?;
    let call = read::one(&input.ledger()?, call_id.as_str(), input.viewer()).await?;
    match call {
        Some(call) => Ok(Success::raw(200, call)),
        None => Err(CALL_NOT_FOUND),
    }
}

pub async fn stats(input: HistoryInput<'_>) -> Result<Success, ApiError> {
    let now = input.now_ms();
    let query = filter::stats(&input.incoming.query(), input.oldest(), now).map_err(refused)?;
    let stats = stats::stats(&input.ledger()?, &query, input.viewer()).await?;
    Ok(Success::raw(200, stats))
}

pub async fn export(input: HistoryInput<'_>) -> Result<Success, ApiError> {
    let now = input.now_ms();
    let query = filter::export(&input.incoming.query(), input.oldest(), now).map_err(refused)?;
    let response = export::respond(input.ledger()?, query).await?;
    Ok(Success::stream(response))
}

/// `{"from","to"}` in ms, both optional (but never `null`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackfillBody {
    #[serde(default = "unset")]
    from: u64,
    #[serde(default = "unset")]
    to: u64,
}

fn unset() -> u64 {
    u64::MAX
}

pub async fn start_backfill(input: HistoryInput<'_>) -> Result<Success, ApiError> {
    no_query(&input)?;
    let raw = input.incoming.body(validate::MAX_BODY_BYTES).await?;
    let content_type = input.incoming.header("Content-Type");
    let body: BackfillBody = validate::json_body(content_type.as_deref(), &raw)?;
    let set = |v: u64| (v != unset()).then_some(v);
    let (from, to) = (set(body.from), set(body.to));
    if [from, to].into_iter().flatten().any(|v| v > filter::MAX_MS) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("`from` and `to` are Unix ms, 0 to {}.", filter::MAX_MS),
        ));
    }
    let now = input.now_ms();
    let oldest = now.saturating_sub(WINDOW_MS);
    let from = from.unwrap_or(oldest).max(oldest);
    let to = to.unwrap_or(now).min(now);
    let progress = input.incoming.board().start_backfill(from, to).await?;
    Ok(Success::raw(202, progress))
}

pub async fn backfill_progress(input: HistoryInput<'_>) -> Result<Success, ApiError> {
    no_query(&input)?;
    let progress = input.incoming.board().backfill_progress().await?;
    Ok(Success::raw(200, progress))
}

pub async fn erase(input: HistoryInput<'_>) -> Result<Success, ApiError> {
    no_query(&input)?;
    let user = last_segment(input.incoming.path());
    if !is_valid_user_id(&user) {
        return Err(ApiError::bad_request(
            "invalid_user_id",
            "The path must end in a valid TUICallKit UserID.",
        ));
    }
    let erased = erase::erase(&input.ledger()?, &user).await?;
    // The admin is the line's identity; the erased user and their calls
    // stay out of the log.
    input.incoming.line.detail = Some(format!(
        "erased {} member rows, {} timeline entries, {} callers",
        erased.members, erased.timeline, erased.callers
    ));
    Success::json(200, &erased, None)
}

fn no_query(input: &HistoryInput<'_>) -> Result<(), ApiError> {
    match input.incoming.query().first() {
        Some((key, _)) => Err(ApiError::bad_request(
            "invalid_query",
            format!("Unknown query parameter `{key}`."),
        )),
        None => Ok(()),
    }
}

/// The path's last segment, percent-decoded.
fn last_segment(path: &str) -> String {
    let raw = path.rsplit('/').next().unwrap_or_default();
    js_sys::decode_uri_component(raw)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| raw.to_owned())
}

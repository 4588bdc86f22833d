//! The edge API's one error type, and its `application/problem+json` form.
//! Every other layer's error is mapped into it here, once.

use callkit_core::client::ClientError;
use callkit_core::error_code::{self, RetryClass};
use serde::Serialize;

use super::actions::Method;
use super::auth::AuthError;
use super::policy::Action;
use super::webhook_proof::Refusal;
use crate::ledger::LedgerError;
use crate::live::BoardError;
use crate::platform::config::ConfigError;
use crate::relay::{self, enqueue::EnqueueError, log::LogError};

#[derive(Debug)]
pub enum ApiError {
    Unauthenticated(AuthError),
    Forbidden {
        action: Action,
    },
    ActionDisabled {
        action: Action,
    },
    RouteNotFound,
    MethodNotAllowed {
        allow: Vec<Method>,
    },
    /// A resource that is absent, or that the caller may not see: both answer
    /// alike so a 404 does not reveal that a call exists.
    NotFound {
        code: &'static str,
        detail: &'static str,
    },
    BadRequest {
        code: &'static str,
        detail: String,
    },
    PayloadTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    RateLimited {
        retry_after_secs: u32,
    },
    Upstream(ClientError),
    Misconfigured(ConfigError),
    /// A webhook without a valid proof of coming from Tencent.
    WebhookRefused(Refusal),
    /// A TRTC callback without a valid `Sign`, or far from now.
    TrtcRefused(Refusal),
    /// A webhook for another app.
    WrongSdkAppId,
    /// A live-board request that needs a WebSocket upgrade.
    UpgradeRequired,
    Board(BoardError),
    /// Something we did not expect; the detail goes to the log only.
    Internal(String),
    /// The call ledger's database failed or is not bound.
    Ledger(LedgerError),
    /// A member asked for someone else's call history.
    HistoryUserForbidden,
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        ApiError::Ledger(e)
    }
}

/// How long a client waits before asking the ledger again.
const LEDGER_RETRY_AFTER_SECS: u32 = 5;

fn ledger_problem(e: &LedgerError) -> Problem {
    match e {
        LedgerError::Missing => Problem::new(
            503,
            "misconfigured",
            "Service misconfigured",
            format!(
                "setting {} is required but not set. The operator must bind the D1 database.",
                crate::ledger::db::BINDING
            ),
        ),
        LedgerError::Failed(_) => {
            let mut p = Problem::new(
                503,
                "history_unavailable",
                "History unavailable",
                "The call history cannot be read right now. Try again shortly.",
            );
            p.retry_after_secs = Some(LEDGER_RETRY_AFTER_SECS);
            p
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        ApiError::Upstream(e)
    }
}

impl From<EnqueueError> for ApiError {
    fn from(e: EnqueueError) -> Self {
        match e {
            EnqueueError::Missing(binding) => {
                ApiError::Misconfigured(ConfigError::Missing(binding))
            }
            EnqueueError::Failed(detail) => ApiError::Internal(format!("relay queue: {detail}")),
        }
    }
}

impl From<LogError> for ApiError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Missing => ApiError::Misconfigured(ConfigError::Missing(relay::log::BINDING)),
            LogError::NotFound => DELIVERY_NOT_FOUND,
            LogError::Failed(detail) => ApiError::Internal(format!("relay log: {detail}")),
        }
    }
}

impl From<BoardError> for ApiError {
    fn from(e: BoardError) -> Self {
        ApiError::Board(e)
    }
}

/// RFC 9457 problem details plus our stable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tencent_error_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip)]
    pub retry_after_secs: Option<u32>,
    #[serde(skip)]
    pub allow: Option<String>,
    #[serde(skip)]
    pub upgrade: Option<&'static str>,
}

impl Problem {
    fn new(status: u16, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("https://callkit-edge.dev/problems/{code}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code: code.to_owned(),
            tencent_error_code: None,
            request_id: None,
            retry_after_secs: None,
            allow: None,
            upgrade: None,
        }
    }
}

pub const CALL_NOT_FOUND: ApiError = ApiError::NotFound {
    code: "call_not_found",
    detail: "No live call with this CallId is visible to you. It may have ended.",
};
pub const RECORD_NOT_FOUND: ApiError = ApiError::NotFound {
    code: "record_not_found",
    detail: "No call record with this CallId is visible to you. Records appear about 5 s after a call ends and are kept 7 days.",
};
pub const DELIVERY_NOT_FOUND: ApiError = ApiError::NotFound {
    code: "delivery_not_found",
    detail: "No relayed delivery has this id. The log keeps the newest 10000.",
};

/// Seconds a client should wait after an upstream rate limit; Tencent's
/// limits are per second.
const UPSTREAM_RETRY_AFTER_SECS: u32 = 1;

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn to_problem(&self) -> Problem {
        match self {
            Self::Unauthenticated(e) => unauthenticated(e),
            Self::Forbidden { action } => denied(*action, false),
            Self::ActionDisabled { action } => denied(*action, true),
            Self::RouteNotFound => Problem::new(
                404,
                "route_not_found",
                "Not found",
                "There is no such API route. See /api/v1/openapi.json.",
            ),
            Self::MethodNotAllowed { allow } => method_not_allowed(allow),
            Self::NotFound { code, detail } => Problem::new(404, code, "Not found", *detail),
            Self::BadRequest { code, detail } => {
                Problem::new(400, code, "Bad request", detail.clone())
            }
            Self::PayloadTooLarge { limit } => Problem::new(
                413,
                "body_too_large",
                "Request body too large",
                format!("Request bodies are limited to {limit} bytes."),
            ),
            Self::UnsupportedMediaType => Problem::new(
                415,
                "unsupported_media_type",
                "Unsupported media type",
                "Send the body as JSON with Content-Type: application/json.",
            ),
            Self::RateLimited { retry_after_secs } => rate_limited(*retry_after_secs),
            Self::Upstream(e) => upstream_problem(e),
            Self::Misconfigured(e) => Problem::new(
                503,
                "misconfigured",
                "Service misconfigured",
                format!("{e}. The operator must fix this setting."),
            ),
            Self::WebhookRefused(refusal) => webhook_refused(*refusal),
            Self::TrtcRefused(refusal) => trtc_refused(*refusal),
            Self::WrongSdkAppId => Problem::new(
                400,
                "wrong_sdkappid",
                "Webhook for another app",
                "The webhook's SdkAppid is not this deployment's TENCENT_SDKAPPID.",
            ),
            Self::UpgradeRequired => upgrade_required(),
            Self::Board(e) => board_problem(e),
            Self::Internal(_) => internal(),
            Self::Ledger(e) => ledger_problem(e),
            Self::HistoryUserForbidden => Problem::new(
                403,
                "history_user_forbidden",
                "Not allowed",
                "Members may only read their own call history.",
            ),
        }
    }

    /// The detail worth logging for an operator, beyond what the caller sees.
    pub fn log_detail(&self) -> Option<String> {
        match self {
            Self::Internal(detail) | Self::Board(BoardError::Failed(detail)) => {
                Some(detail.clone())
            }
            Self::Upstream(e) => Some(e.to_string()),
            Self::Ledger(e) => Some(e.to_string()),
            _ => None,
        }
    }
}

fn unauthenticated(e: &AuthError) -> Problem {
    if e.http_status() == 401 {
        let detail = format!("{e}. Sign in again to get a fresh token.");
        return Problem::new(401, e.code(), "Not signed in", detail);
    }
    let detail =
        format!("{e}. The operator must check the identity provider settings; try again later.");
    Problem::new(e.http_status(), e.code(), "Sign-in unavailable", detail)
}

/// 403: not allowed to this caller, or switched off for everyone.
fn denied(action: Action, disabled: bool) -> Problem {
    let does = action.spec().does;
    if disabled {
        let detail =
            format!("The operator has turned off the action to {does} on this deployment.");
        return Problem::new(403, "action_disabled", "Action disabled", detail);
    }
    let detail = format!("Your account may not {does}. Ask an administrator.");
    Problem::new(403, "forbidden", "Not allowed", detail)
}

fn method_not_allowed(allow: &[Method]) -> Problem {
    let allow = allow
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let detail = format!("This route accepts {allow}.");
    let mut p = Problem::new(405, "method_not_allowed", "Method not allowed", detail);
    p.allow = Some(allow);
    p
}

fn rate_limited(retry_after_secs: u32) -> Problem {
    let detail = format!("Slow down and retry in {retry_after_secs} s.");
    let mut p = Problem::new(429, "rate_limited", "Too many requests", detail);
    p.retry_after_secs = Some(retry_after_secs);
    p
}

fn webhook_refused(refusal: Refusal) -> Problem {
    let detail = match refusal {
        Refusal::Unproven => "The webhook carries no valid proof: a Sign and RequestTime made with the callback token, or the URL key.",
        Refusal::Stale => "The webhook's RequestTime is more than 60 s from now.",
    };
    Problem::new(401, "webhook_unauthenticated", "Webhook refused", detail)
}

fn trtc_refused(refusal: Refusal) -> Problem {
    let detail = match refusal {
        Refusal::Unproven => "The TRTC callback carries no valid Sign made with the callback key.",
        Refusal::Stale => "The event's EventMsTs is more than 5 minutes from now.",
    };
    Problem::new(401, "webhook_unauthenticated", "Webhook refused", detail)
}

/// 400, not 426: RFC 6455 §4.2.1 answers a request that is not a handshake
/// with 400; 426 is for a handshake of an unsupported version.
fn upgrade_required() -> Problem {
    let detail = "Open this route as a WebSocket, with a ticket from POST /api/v1/live/ticket.";
    let mut p = Problem::new(400, "upgrade_required", "WebSocket required", detail);
    p.upgrade = Some("websocket");
    p
}

fn board_problem(e: &BoardError) -> Problem {
    match e {
        BoardError::InvalidTicket => Problem::new(
            401,
            "invalid_ticket",
            "Invalid ticket",
            "The ticket is unknown, used or expired. Get a new one from POST /api/v1/live/ticket; each is good for one socket within 30 s.",
        ),
        BoardError::Missing => Problem::new(
            503,
            "misconfigured",
            "Service misconfigured",
            "The CALL_BOARD Durable Object binding is missing. The operator must add it to wrangler.toml.",
        ),
        BoardError::Failed(_) => internal(),
    }
}

/// The detail stays in the log.
fn internal() -> Problem {
    let detail = "Something went wrong on our side. Try again later.";
    Problem::new(500, "internal", "Internal error", detail)
}

fn upstream_problem(e: &ClientError) -> Problem {
    let p = match e {
        ClientError::Timeout { .. } | ClientError::DeadlineExceeded { .. } => Problem::new(
            504,
            "upstream_timeout",
            "Tencent did not answer in time",
            "The CallKit service did not answer in time. Try again shortly.",
        ),
        ClientError::Network { .. } => Problem::new(
            502,
            "upstream_unreachable",
            "Tencent unreachable",
            "The CallKit service could not be reached. Try again shortly.",
        ),
        ClientError::UpstreamHttp { status } => Problem::new(
            502,
            "upstream_bad_gateway",
            "Bad answer from Tencent",
            format!("The CallKit service answered HTTP {status} instead of an API response. Try again shortly."),
        ),
        ClientError::MalformedResponse { .. } => Problem::new(
            502,
            "upstream_bad_response",
            "Bad answer from Tencent",
            "The CallKit service sent a response this edge could not read.",
        ),
        ClientError::CredentialExpired { expired_at } => Problem::new(
            502,
            "admin_usersig_expired",
            "Admin credential expired",
            format!(
                "The configured TENCENT_ADMIN_USERSIG expired at {expired_at} (unix seconds). The operator must set a new one, or set TENCENT_SECRET_KEY so the edge mints its own."
            ),
        ),
        ClientError::CredentialInvalid { reason } => Problem::new(
            502,
            "admin_credential_invalid",
            "Admin credential invalid",
            format!("The configured admin credential cannot be used: {reason}. The operator must fix TENCENT_ADMIN_USERSIG or TENCENT_SECRET_KEY."),
        ),
        ClientError::InvalidConfig { reason } => Problem::new(
            503,
            "misconfigured",
            "Service misconfigured",
            format!("{reason}. The operator must fix the Tencent settings."),
        ),
        ClientError::Api { code, class, .. } => api_problem(*code, *class),
    };
    with_trace(p, e)
}

/// Tencent's code and RequestId, except on a missing call or record: that
/// must look exactly like one the caller may not see (the trace is logged).
fn with_trace(mut p: Problem, e: &ClientError) -> Problem {
    if let ClientError::Api {
        code, request_id, ..
    } = e
    {
        if !matches!(code, 101004 | 101050) {
            p.tencent_error_code = Some(*code);
            p.request_id = Some(request_id.clone()).filter(|id| !id.is_empty());
        }
    }
    p
}

fn api_problem(code: i64, class: RetryClass) -> Problem {
    let meaning = error_code::lookup(code).map_or("unknown Tencent error", |i| i.meaning);
    match (code, class) {
        (101004, _) => CALL_NOT_FOUND.to_problem(),
        (101050, _) => RECORD_NOT_FOUND.to_problem(),
        (100301, _) => Problem::new(
            404,
            "callback_not_configured",
            "Not found",
            "No webhook configuration exists yet. Create one with PUT /api/v1/callback.",
        ),
        (70001, _) => Problem::new(
            502,
            "admin_usersig_expired",
            "Admin credential expired",
            "Tencent rejected the admin UserSig as expired. The operator must renew TENCENT_ADMIN_USERSIG, or set TENCENT_SECRET_KEY.",
        ),
        (_, RetryClass::Credential) => Problem::new(
            502,
            "admin_credential_rejected",
            "Admin credential rejected",
            format!("Tencent rejected the admin credential: {meaning}. The operator must check TENCENT_SECRET_KEY, TENCENT_ADMIN_USERSIG, TENCENT_ADMIN_IDENTIFIER and TENCENT_SDKAPPID."),
        ),
        (_, RetryClass::Configuration) => Problem::new(
            502,
            "upstream_configuration",
            "Tencent configuration problem",
            format!("Tencent refused the request because of the app's setup: {meaning}. The operator must fix it in the Tencent console or the edge settings."),
        ),
        (_, RetryClass::RateLimited) => {
            let mut p = Problem::new(
                429,
                "upstream_rate_limited",
                "Tencent rate limit",
                format!("Tencent is limiting requests: {meaning}. Retry in {UPSTREAM_RETRY_AFTER_SECS} s."),
            );
            p.retry_after_secs = Some(UPSTREAM_RETRY_AFTER_SECS);
            p
        }
        (_, RetryClass::InvalidRequest) => Problem::new(
            400,
            "upstream_invalid_parameter",
            "Tencent rejected the input",
            format!("Tencent rejected the request: {meaning}."),
        ),
        (_, RetryClass::Transient) => Problem::new(
            503,
            "upstream_unavailable",
            "Tencent temporarily unavailable",
            format!("Tencent reported a temporary error after retries: {meaning}. Try again shortly."),
        ),
        _ => Problem::new(
            502,
            "upstream_error",
            "Tencent error",
            format!("Tencent answered with error {code}: {meaning}."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64) -> Problem {
        ApiError::Upstream(ClientError::Api {
            code,
            info: "raw upstream text".into(),
            request_id: "Id-0123456789abcdef0123456789abcdef-O-Seq-1".into(),
            class: error_code::class_of(code),
        })
        .to_problem()
    }

    #[test]
    fn design_mapping_table() {
        let cases: &[(i64, u16, &str)] = &[
            (101004, 404, "call_not_found"),
            (101050, 404, "record_not_found"),
            (100301, 404, "callback_not_configured"),
            (101002, 400, "upstream_invalid_parameter"),
            (100002, 400, "upstream_invalid_parameter"),
            (60007, 429, "upstream_rate_limited"),
            (60011, 429, "upstream_rate_limited"),
            (60018, 429, "upstream_rate_limited"),
            (60019, 429, "upstream_rate_limited"),
            (60004, 502, "admin_credential_rejected"),
            (60005, 502, "admin_credential_rejected"),
            (70001, 502, "admin_usersig_expired"),
            (70009, 502, "admin_credential_rejected"),
            (60010, 502, "upstream_configuration"),
            (101001, 503, "upstream_unavailable"),
            (99999, 502, "upstream_error"),
        ];
        for (code, status, name) in cases {
            let p = api(*code);
            assert_eq!((p.status, p.code.as_str()), (*status, *name), "code {code}");
            if *status != 404 || *code == 100301 {
                assert_eq!(p.tencent_error_code, Some(*code));
                assert!(p.request_id.is_some());
            }
            assert!(
                !p.detail.contains("raw upstream text"),
                "upstream text is not echoed"
            );
        }
        assert_eq!(api(60007).retry_after_secs, Some(1));
    }

    #[test]
    fn a_missing_call_is_indistinguishable_from_a_hidden_one() {
        assert_eq!(api(101004), CALL_NOT_FOUND.to_problem());
        assert_eq!(api(101050), RECORD_NOT_FOUND.to_problem());
    }

    #[test]
    fn transport_failures() {
        let p = ApiError::Upstream(ClientError::Timeout { attempts: 3 }).to_problem();
        assert_eq!((p.status, p.code.as_str()), (504, "upstream_timeout"));
        let p = ApiError::Upstream(ClientError::UpstreamHttp { status: 502 }).to_problem();
        assert_eq!((p.status, p.code.as_str()), (502, "upstream_bad_gateway"));
        let p = ApiError::Upstream(ClientError::CredentialExpired { expired_at: 5 }).to_problem();
        assert_eq!((p.status, p.code.as_str()), (502, "admin_usersig_expired"));
        assert!(p.detail.contains("TENCENT_ADMIN_USERSIG"));
    }

    #[test]
    fn problem_json_shape() {
        let p = ApiError::RateLimited {
            retry_after_secs: 60,
        }
        .to_problem();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json["type"],
            "https://callkit-edge.dev/problems/rate_limited"
        );
        assert_eq!(json["status"], 429);
        assert_eq!(json["code"], "rate_limited");
        assert!(json.get("retryAfterSecs").is_none());
        assert!(json.get("tencentErrorCode").is_none());
        let p = ApiError::MethodNotAllowed {
            allow: vec![Method::Get, Method::Put],
        }
        .to_problem();
        assert_eq!(p.allow.as_deref(), Some("GET, PUT"));
    }

    #[test]
    fn internal_detail_goes_to_the_log_only() {
        let e = ApiError::Internal("panic-ish detail".into());
        assert!(!e.to_problem().detail.contains("panic-ish"));
        assert_eq!(e.log_detail().as_deref(), Some("panic-ish detail"));
    }
}

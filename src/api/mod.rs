//! The browser-facing edge API under `/api/v1/`: CORS, routing,
//! authentication, policy, rate limiting, then one handler per area. Every
//! failure becomes problem+json here, and every action one audit line.

pub mod actions;
pub mod audit;
pub mod auth;
pub mod cors;
pub mod handlers;
pub mod health;
pub mod ip_limit;
pub mod openapi;
pub mod panic_probe;
pub mod policy;
pub mod problem;
pub mod router;
pub mod serve;
pub mod state;
pub mod validate;
pub mod webhook_proof;

use std::rc::Rc;

use web_sys::{Request, Response, ResponseInit};
use worker::{console_log, Env, Result};

use self::audit::AuditLine;
use self::auth::Identity;
use self::handlers::history::HistoryInput;
use self::handlers::{Input, Success};
use self::policy::{Action, Decision, Rule};
use self::problem::ApiError;
use self::router::Resolved;
use self::serve::{serve, Serve};
use self::state::EdgeState;
use self::validate::CallId;
use crate::live::Board;
use crate::platform::capped_body::{self, BodyError};
use crate::platform::config::ConfigError;
use crate::platform::rate_limit::{self, RateLimitError};

const RATE_LIMIT_BINDING: &str = "RATE_LIMITER";
/// Must match the binding's `period` in wrangler.toml (the binding does not
/// report it).
const RATE_LIMIT_PERIOD_SECS: u32 = 60;

/// Serves one request with the isolate's state (or the reason there is none).
pub async fn handle(
    req: Request,
    env: Env,
    state: std::result::Result<Rc<EdgeState>, ConfigError>,
) -> Result<Response> {
    let started = js_sys::Date::now();
    let origin = header(&req, "Origin");
    let mut line = AuditLine::new();
    let app = match state {
        Ok(app) => app,
        Err(e) => return finish(Err(ApiError::Misconfigured(e)), line, Vec::new(), started),
    };
    // The method exactly as sent: `worker`'s `Method` turns any name it does
    // not know into GET, which would let `QUERY` run a GET route.
    let method = req.method();
    let preflight = method.eq_ignore_ascii_case("OPTIONS")
        && cors::is_preflight(
            &method,
            header(&req, "Access-Control-Request-Method").as_deref(),
        );
    if preflight {
        return respond(
            cors::PREFLIGHT_STATUS,
            None,
            app.cors.preflight_headers(origin.as_deref()),
        );
    }
    let cors_headers = app.cors.response_headers(origin.as_deref());
    let outcome = route(&app, &env, &req, &method, &mut line).await;
    finish(outcome, line, cors_headers, started)
}

async fn route(
    app: &EdgeState,
    env: &Env,
    req: &Request,
    method: &str,
    line: &mut AuditLine,
) -> std::result::Result<Success, ApiError> {
    let url = req.url();
    let (action, call_id) = match app.router.resolve(method, path_of(&url)) {
        Resolved::Found { action, call_id } => (action, call_id),
        Resolved::MethodNotAllowed { allow } => return Err(ApiError::MethodNotAllowed { allow }),
        Resolved::NotFound => return Err(ApiError::RouteNotFound),
    };
    line.action = Some(action.as_str());
    line.call_id = call_id.clone();
    let mut request = Incoming {
        app,
        env,
        req,
        url: &url,
        now_secs: (js_sys::Date::now() / 1000.0) as u64,
        line,
    };
    if app.policy.rule(action) == Rule::Off {
        return Err(ApiError::ActionDisabled { action });
    }
    match serve(action) {
        Serve::Public(handler) => handler(request).await,
        Serve::Board(handler) => {
            let (identity, _) = sign_in(action, &mut request).await?;
            handler(&board_of(env, app), &identity, request.query()).await
        }
        Serve::SignedIn(handler) => {
            let (identity, _) = sign_in(action, &mut request).await?;
            handler(request, identity).await
        }
        Serve::History(handler) => {
            let (identity, own_calls_only) = sign_in(action, &mut request).await?;
            handler(HistoryInput {
                incoming: request,
                identity,
                own_calls_only,
            })
            .await
        }
        Serve::Upstream(handler) => {
            let (identity, needs_membership) = sign_in(action, &mut request).await?;
            let (content_type, body) = read_input(req).await?;
            handler(Input {
                client: &app.client,
                tencent: &app.tencent,
                identity: &identity,
                needs_membership,
                call_id: call_id.as_deref().map(CallId::parse).transpose()?,
                content_type,
                body,
                // Only the record filter reads a query; other routes ignore theirs.
                query: if action == Action::ListRecords {
                    query_pairs(&url)
                } else {
                    Vec::new()
                },
                now_secs: request.now_secs,
            })
            .await
        }
    }
}

/// The bearer token's identity, whether it needs to prove membership, and
/// a rate-limit slot; or why not.
async fn sign_in(
    action: Action,
    request: &mut Incoming<'_>,
) -> std::result::Result<(Identity, bool), ApiError> {
    // Only the configured header counts; a token in any other is ignored.
    let credential = header(request.req, request.app.auth.header().name());
    let identity = request
        .app
        .auth
        .authenticate(credential.as_deref(), request.now_secs)
        .await
        .map_err(ApiError::Unauthenticated)?;
    request.line.identity = Some(identity.user_id().to_owned());
    let needs_membership = match request.app.policy.decide(action, &identity) {
        Decision::Allow => false,
        Decision::NeedsMembership => true,
        Decision::Deny => return Err(ApiError::Forbidden { action }),
    };
    rate_limit(request.env, &identity).await?;
    Ok((identity, needs_membership))
}

/// Only POST and PUT routes take a body; the others' is never read.
async fn read_input(req: &Request) -> std::result::Result<(Option<String>, Vec<u8>), ApiError> {
    if matches!(req.method().as_str(), "POST" | "PUT") {
        Ok((
            header(req, "Content-Type"),
            read_body(req, validate::MAX_BODY_BYTES).await?,
        ))
    } else {
        Ok((None, Vec::new()))
    }
}

/// The Workers rate-limit binding, keyed by identity. Without the binding
/// the edge refuses to serve rather than run unlimited.
async fn rate_limit(env: &Env, identity: &Identity) -> std::result::Result<(), ApiError> {
    match rate_limit::allow(env, RATE_LIMIT_BINDING, identity.user_id()).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::RateLimited {
            retry_after_secs: RATE_LIMIT_PERIOD_SECS,
        }),
        Err(RateLimitError::Missing) => Err(ApiError::Misconfigured(ConfigError::Missing(
            RATE_LIMIT_BINDING,
        ))),
        Err(RateLimitError::Failed) => Err(ApiError::Internal("rate limiter failed".into())),
    }
}

/// The request as it came in, with the isolate's state: what a route that
/// needs no bearer token may look at, and what signing in reads.
pub struct Incoming<'a> {
    pub app: &'a EdgeState,
    pub env: &'a Env,
    pub req: &'a Request,
    url: &'a str,
    pub now_secs: u64,
    pub line: &'a mut AuditLine,
}

/// The app's board, over its `LIVE_SHARDS` Durable Objects.
fn board_of<'a>(env: &'a Env, app: &'a EdgeState) -> Board<'a> {
    Board::new(env, app.tencent.client.sdkappid, &app.live)
}

impl Incoming<'_> {
    pub fn board(&self) -> Board<'_> {
        board_of(self.env, self.app)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        header(self.req, name)
    }

    /// `scheme://host[:port]` of the URL this request was sent to.
    pub fn own_origin(&self) -> &str {
        let host_start = self.url.find("://").map_or(0, |i| i + 3);
        let end = self.url[host_start..]
            .find('/')
            .map_or(self.url.len(), |i| host_start + i);
        &self.url[..end]
    }

    pub fn query(&self) -> Vec<(String, String)> {
        query_pairs(self.url)
    }

    pub fn path(&self) -> &str {
        path_of(self.url)
    }

    pub async fn body(&self, limit: usize) -> std::result::Result<Vec<u8>, ApiError> {
        read_body(self.req, limit).await
    }
}

/// Reads the body of a POST or PUT, and stops at the first chunk
/// past the limit: the rest is not read, so a client streaming without end
/// gets its 413 at once and costs the isolate no more than the limit.
async fn read_body(req: &Request, limit: usize) -> std::result::Result<Vec<u8>, ApiError> {
    match capped_body::read_request(req, limit).await {
        Ok(body) => Ok(body),
        Err(BodyError::TooLarge) => Err(ApiError::PayloadTooLarge { limit }),
        Err(BodyError::Unreadable) => Err(ApiError::bad_request(
            "invalid_body",
            "The request body could not be read.",
        )),
    }
}

/// Renders the outcome, logs its audit line, and adds the CORS headers.
fn finish(
    outcome: std::result::Result<Success, ApiError>,
    mut line: AuditLine,
    cors_headers: Vec<(&'static str, String)>,
    started: f64,
) -> Result<Response> {
    let mut headers = cors_headers;
    let (status, body) = match outcome {
        Ok(Success {
            upgrade: Some(socket),
            ..
        }) => {
            line.set_status(socket.status());
            line.latency_ms = (js_sys::Date::now() - started).max(0.0) as u64;
            console_log!("{}", line.to_json());
            // A stream (not a 101) gets the headers every answer has.
            if socket.status() != 101 {
                let target = socket.headers();
                for (name, value) in headers {
                    target.set(name, &value)?;
                }
                target.set("Cache-Control", "no-store")?;
            }
            return Ok(socket);
        }
        Ok(success) => {
            headers.push(("Content-Type", "application/json".to_owned()));
            line.request_id = success.request_id.filter(|id| !id.is_empty());
            (success.status, success.body)
        }
        Err(error) => {
            let problem = error.to_problem();
            headers.push(("Content-Type", "application/problem+json".to_owned()));
            if let Some(secs) = problem.retry_after_secs {
                headers.push(("Retry-After", secs.to_string()));
            }
            if let Some(allow) = &problem.allow {
                headers.push(("Allow", allow.clone()));
            }
            if let Some(protocol) = problem.upgrade {
                headers.push(("Upgrade", protocol.to_owned()));
            }
            line.detail = error.log_detail();
            line.code = Some(problem.code.clone());
            line.request_id = problem.request_id.clone();
            (
                problem.status,
                serde_json::to_string(&problem).unwrap_or_default(),
            )
        }
    };
    // Tencent's text: a header takes it only if it is visible ASCII (the body has it anyway).
    if let Some(id) = line
        .request_id
        .as_ref()
        .filter(|id| id.bytes().all(|b| b.is_ascii_graphic()))
    {
        headers.push(("X-Tencent-Request-Id", id.clone()));
    }
    line.set_status(status);
    line.latency_ms = (js_sys::Date::now() - started).max(0.0) as u64;
    console_log!("{}", line.to_json());
    respond(status, Some(&body), headers)
}

/// One response, built on the platform's own types. Never cached by anyone.
fn respond(
    status: u16,
    body: Option<&str>,
    headers: Vec<(&'static str, String)>,
) -> Result<Response> {
    let target = web_sys::Headers::new()?;
    for (name, value) in headers {
        target.set(name, &value)?;
    }
    target.set("Cache-Control", "no-store")?;
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&target);
    Ok(Response::new_with_opt_str_and_init(body, &init)?)
}

/// The path of a URL the runtime already parsed and serialized: it starts at
/// the first `/` after the host, and `?` and `#` within it are escaped.
fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// The decoded query of a URL the runtime already parsed and serialized, so
/// the part after the first `?` is the query, with no fragment.
fn query_pairs(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// A decoded query as `query_pairs` gives it, from literals: for tests.
#[cfg(test)]
pub(crate) fn pairs_of(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::{path_of, query_pairs};

    #[test]
    fn path_is_from_the_first_slash_after_the_host_to_the_query() {
        assert_eq!(
            path_of("https://e.test/api/v1/calls/x?y=1"),
            "/api/v1/calls/x"
        );
        assert_eq!(
            path_of("http://127.0.0.1:8787/api/v1/health#top"),
            "/api/v1/health"
        );
        assert_eq!(path_of("https://e.test"), "/");
        assert_eq!(path_of("https://e.test/"), "/");
        assert_eq!(path_of("https://e.test/a%3Fb"), "/a%3Fb");
    }

    #[test]
    fn query_is_everything_after_the_first_question_mark_decoded() {
        let pairs = |url| query_pairs(url);
        assert_eq!(pairs("https://e.test/api/v1/records"), vec![]);
        assert_eq!(pairs("https://e.test/api/v1/records?"), vec![]);
        assert_eq!(
            pairs("https://e.test/api/v1/records?page=2&result=Normal%20End&x=a?b"),
            vec![
                ("page".to_owned(), "2".to_owned()),
                ("result".to_owned(), "Normal End".to_owned()),
                ("x".to_owned(), "a?b".to_owned()),
            ]
        );
    }
}

//! `POST /v4/{service}/{command}`: routing, faults, counters, admission,
//! body checks, then the command. Always HTTP 200 with the envelope, unless a
//! fault says otherwise.

mod answer;
mod commands;
mod gate;

pub use answer::{Answer, Refusal};

use crate::app::App;
use crate::clock;
use crate::emulator::Emulator;
use crate::error::EmulatorError;
use crate::faults::Fault;
use crate::http::{html_502, json, oversized_json, Resp};
use bytes::Bytes;
use callkit_core::command::Command;
use callkit_core::error_code;
use callkit_core::request::{parse_query, RequestQuery};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use std::sync::Arc;
use std::time::Instant;

/// Bodies above this are refused with 60003 without being parsed.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

fn route(path: &str) -> Option<Command> {
    let rest = path.strip_prefix("/v4/")?;
    let (service, command) = rest.split_once('/')?;
    Command::from_path(service, command)
}

fn reply(answer: Answer) -> Resp {
    json(StatusCode::OK, answer.body)
}

async fn read_body(body: Incoming) -> Result<Bytes, Refusal> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(Refusal::new(60003, "request body too large or unreadable")),
    }
}

/// What an armed fault does to this request.
enum Faulted {
    /// Answer this at once.
    Now(Resp),
    /// Run the command, then act as the fault says.
    After { drop: bool, oversized: Option<bool> },
}

/// `Err` means "drop the connection without an answer" (a fault).
pub async fn handle(emu: &Arc<Emulator>, req: Request<Incoming>) -> Result<Resp, EmulatorError> {
    let rid = emu.request_ids.next();
    if req.method() != Method::POST {
        let refusal = Refusal::new(60002, "only POST is supported");
        return Ok(reply(Answer::fail(refusal, &rid)));
    }
    let Some(command) = route(req.uri().path()) else {
        let refusal = Refusal::new(60009, "request resource error: unknown service or command");
        return Ok(reply(Answer::fail(refusal, &rid)));
    };
    let query = parse_query(req.uri().query().unwrap_or_default());
    let app = query
        .sdkappid
        .as_deref()
        .and_then(|s| s.parse::<u64>().ok())
        .and_then(|id| emu.app(id))
        .cloned();
    match &app {
        Some(app) => app.counters.received(command),
        None => emu.unattributed.received(command),
    }
    let (drop_after, oversized) = match take_fault(emu, command, &rid).await? {
        Faulted::Now(resp) => return Ok(resp),
        Faulted::After { drop, oversized } => (drop, oversized),
    };
    let answer = execute(emu, &query, app.as_ref(), command, req, &rid).await;
    if drop_after {
        return Err(EmulatorError::DroppedByFault);
    }
    Ok(match oversized {
        Some(gzip) => oversized_json(&answer.body, gzip),
        None => reply(answer),
    })
}

/// The next armed fault for `command`, if any, applied before anything else.
async fn take_fault(emu: &Emulator, command: Command, rid: &str) -> Result<Faulted, EmulatorError> {
    let mut after = Faulted::After {
        drop: false,
        oversized: None,
    };
    match emu.faults.take(command) {
        None => {}
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::Html502) => return Ok(Faulted::Now(html_502())),
        Some(Fault::Drop {
            after_execute: false,
        }) => return Err(EmulatorError::DroppedByFault),
        Some(Fault::Drop {
            after_execute: true,
        }) => {
            after = Faulted::After {
                drop: true,
                oversized: None,
            }
        }
        Some(Fault::Oversized { gzip }) => {
            after = Faulted::After {
                drop: false,
                oversized: Some(gzip),
            }
        }
        Some(Fault::Error(code)) => {
            let info = error_code::lookup(code)
                .map(|i| i.meaning)
                .unwrap_or("injected error");
            return Ok(Faulted::Now(reply(Answer::fail(
                Refusal::new(code, info),
                rid,
            ))));
        }
    }
    Ok(after)
}

/// Admission (credentials, rate limit), the body, then the command itself.
async fn execute(
    emu: &Arc<Emulator>,
    query: &RequestQuery,
    app: Option<&Arc<App>>,
    command: Command,
    req: Request<Incoming>,
    rid: &str,
) -> Answer {
    let app = match gate::admit(query, app, command, clock::now_secs(), Instant::now()) {
        Err(refusal) => return Answer::fail(refusal, rid),
        Ok(app) => app,
    };
    match read_body(req.into_body()).await {
        Err(refusal) => Answer::fail(refusal, rid),
        Ok(body) if body.iter().all(u8::is_ascii_whitespace) => {
            Answer::fail(Refusal::new(60003, "request body is empty"), rid)
        }
        Ok(body) => {
            let answer = commands::run(emu, app, command, &body, rid);
            if answer.code == 0 {
                app.counters.succeeded(command);
            }
            answer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_exact_paths_only() {
        assert_eq!(
            route("/v4/call_engine_http_srv/get_call_info"),
            Some(Command::GetCallInfo)
        );
        assert_eq!(
            route("/v4/call_config/delete_callback"),
            Some(Command::DeleteCallback)
        );
        assert_eq!(route("/v4/call_config/get_call_info"), None);
        assert_eq!(route("/v4/call_engine_http_srv/get_call_info/x"), None);
        assert_eq!(route("/v4/call_engine_http_srv"), None);
        assert_eq!(route("/v1/records/get_record_by_callId"), None);
    }
}

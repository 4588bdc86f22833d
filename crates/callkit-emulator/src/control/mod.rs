//! `/_emulator/…`: the emulator's own control API (JSON, camelCase), apart
//! from `/v4/`. Used by tests and `make dev` to drive calls, seed data,
//! inject faults and read counters and the webhook log.

mod bodies;
pub mod seed;

use crate::app::App;
use crate::calls;
use crate::clock;
use crate::emulator::Emulator;
use crate::error::EmulatorError;
use crate::faults::FaultSpec;
use crate::http::{json, Resp};
use crate::ids::new_call_id;
use crate::state::{Act, NewCall, Origin};
use bodies::{CreateCall, MemberMove, SeedRequest};
use callkit_core::models::RoomIdType;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_SEED_RECORDS: u32 = 10_000;
const MAX_SEED_CALLS: u32 = 100;

fn ok<T: Serialize>(value: &T) -> Resp {
    match serde_json::to_vec(value) {
        Ok(body) => json(StatusCode::OK, body),
        Err(e) => error(EmulatorError::BadRequest(e.to_string())),
    }
}

fn error(e: EmulatorError) -> Resp {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&json!({ "error": e.to_string() })).unwrap_or_default();
    json(status, body)
}

/// Body as `T`; an empty body reads as `{}`.
async fn body<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, EmulatorError> {
    let bytes = Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|_| EmulatorError::BadRequest("body too large or unreadable".into()))?
        .to_bytes();
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    serde_json::from_slice(text).map_err(|e| EmulatorError::BadRequest(e.to_string()))
}

/// `sdkappid` from a query string such as `sdkappid=1400000000`.
fn query_sdkappid(query: Option<&str>) -> Result<Option<u64>, EmulatorError> {
    let Some(query) = query else { return Ok(None) };
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("sdkappid=") {
            return value
                .parse()
                .map(Some)
                .map_err(|_| EmulatorError::BadRequest("sdkappid must be a number".into()));
        }
    }
    Ok(None)
}

pub async fn handle(emu: &Arc<Emulator>, req: Request<Incoming>) -> Resp {
    match route(emu, req).await {
        Ok(resp) => resp,
        Err(e) => error(e),
    }
}

async fn route(emu: &Arc<Emulator>, req: Request<Incoming>) -> Result<Resp, EmulatorError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let query = query_sdkappid(req.uri().query())?;
    let segments: Vec<&str> = path
        .strip_prefix("/_emulator")
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let method = req.method().clone();
    match (method, segments.as_slice()) {
        (Method::GET, ["health"]) => Ok(ok(&json!({ "ok": true }))),
        (Method::GET, ["apps"]) => Ok(ok(&apps(emu))),
        (Method::POST, ["reset"]) => {
            emu.reset();
            Ok(ok(&json!({ "ok": true })))
        }
        (Method::POST, ["seed"]) => seed(emu, body(req).await?).map(|v| ok(&v)),
        (Method::POST, ["calls"]) => create_call(emu, body(req).await?).map(|v| ok(&v)),
        (Method::GET, ["calls"]) => list_calls(emu, query).map(|v| ok(&v)),
        (Method::GET, ["calls", call_id]) => {
            let app = find_call(emu, query, call_id)?;
            let view = app.state.lock().view(call_id);
            view.map(|v| ok(&v)).ok_or(EmulatorError::CallNotFound)
        }
        (Method::POST, ["calls", call_id, action]) => {
            let act = match *action {
                "answer" => Act::Answer,
                "reject" => Act::Reject,
                "hangup" => Act::Hangup,
                _ => return Err(EmulatorError::NotFound),
            };
            let call_id = (*call_id).to_owned();
            let mv: MemberMove = body(req).await?;
            let app = find_call(emu, mv.sdkappid.or(query), &call_id)?;
            calls::act(emu, app, &call_id, &mv.user, act).map(|v| ok(&v))
        }
        (Method::GET, ["counters"]) => emu.counters(query).map(|v| ok(&v)),
        (Method::GET, ["faults"]) => Ok(ok(&emu.faults.pending())),
        (Method::POST, ["faults"]) => {
            let spec: FaultSpec = body(req).await?;
            emu.faults.push(spec)?;
            Ok(ok(&emu.faults.pending()))
        }
        (Method::DELETE, ["faults"]) => {
            emu.faults.clear();
            Ok(ok(&json!({ "ok": true })))
        }
        (Method::GET, ["webhooks"]) => Ok(ok(&emu.webhooks.log().snapshot())),
        (Method::DELETE, ["webhooks"]) => {
            emu.webhooks.log().clear();
            Ok(ok(&json!({ "ok": true })))
        }
        (
            _,
            ["health" | "apps" | "reset" | "seed" | "calls" | "counters" | "faults" | "webhooks", ..],
        ) => Err(EmulatorError::MethodNotAllowed),
        _ => Err(EmulatorError::NotFound),
    }
}

fn apps(emu: &Emulator) -> serde_json::Value {
    let list: Vec<_> = emu
        .apps()
        .into_iter()
        .map(|a| json!({ "sdkappid": a.sdkappid, "admins": a.admins() }))
        .collect();
    json!(list)
}

/// The app holding `call_id`: the named one, or whichever has it.
fn find_call<'a>(
    emu: &'a Emulator,
    sdkappid: Option<u64>,
    call_id: &str,
) -> Result<&'a Arc<App>, EmulatorError> {
    if sdkappid.is_some() {
        let app = emu.app_or_default(sdkappid)?;
        return if app.state.lock().view(call_id).is_some() {
            Ok(app)
        } else {
            Err(EmulatorError::CallNotFound)
        };
    }
    emu.apps()
        .into_iter()
        .find(|a| a.state.lock().view(call_id).is_some())
        .ok_or(EmulatorError::CallNotFound)
}

fn list_calls(emu: &Emulator, sdkappid: Option<u64>) -> Result<serde_json::Value, EmulatorError> {
    let app = emu.app_or_default(sdkappid)?;
    let state = app.state.lock();
    let mut views: Vec<_> = state
        .live_call_ids()
        .iter()
        .filter_map(|id| state.view(id))
        .collect();
    views.sort_by(|a, b| (a.start_time, &a.call_id).cmp(&(b.start_time, &b.call_id)));
    Ok(json!({ "calls": views }))
}

fn create_call(emu: &Arc<Emulator>, req: CreateCall) -> Result<serde_json::Value, EmulatorError> {
    let app = emu.app_or_default(req.sdkappid)?;
    if req.caller.trim().is_empty() {
        return Err(EmulatorError::BadRequest("caller is empty".into()));
    }
    if req.callees.is_empty() || req.callees.iter().any(|c| c.trim().is_empty()) {
        return Err(EmulatorError::BadRequest(
            "callees must be a non-empty list of accounts".into(),
        ));
    }
    if req.callees.iter().all(|c| *c == req.caller) {
        return Err(EmulatorError::BadRequest(
            "callees must name someone other than the caller".into(),
        ));
    }
    let room_id = req.room_id.unwrap_or_default();
    let room_id_type = req.room_id_type.unwrap_or(if room_id.is_empty() {
        RoomIdType::None
    } else if room_id.bytes().all(|b| b.is_ascii_digit()) {
        RoomIdType::Numeric
    } else {
        RoomIdType::String
    });
    let call_id = calls::start(
        emu,
        app,
        NewCall {
            call_id: new_call_id(),
            caller: req.caller,
            callees: req.callees,
            media_type: req.media_type,
            chat_group_id: req.group_id.unwrap_or_default(),
            room_id,
            room_id_type,
            ring_deadline_ms: req
                .timeout_ms
                .map(|t| clock::now_millis().saturating_add(t)),
            origin: Origin::Web,
        },
    );
    Ok(json!({ "callId": call_id }))
}

fn seed(emu: &Arc<Emulator>, req: SeedRequest) -> Result<serde_json::Value, EmulatorError> {
    let app = emu.app_or_default(req.sdkappid)?;
    let n_records = req.records.unwrap_or(50);
    let n_calls = req.live_calls.unwrap_or(3);
    if n_records > MAX_SEED_RECORDS || n_calls > MAX_SEED_CALLS {
        return Err(EmulatorError::BadRequest(format!(
            "at most {MAX_SEED_RECORDS} records and {MAX_SEED_CALLS} live calls"
        )));
    }
    Ok(seed_app(app, n_records, n_calls))
}

/// Seeds one app; records are visible at once, live calls emit no webhooks.
pub fn seed_app(app: &App, n_records: u32, n_calls: u32) -> serde_json::Value {
    let now_ms = clock::now_millis();
    let records = seed::records(n_records, now_ms / 1000, new_call_id);
    {
        let mut state = app.state.lock();
        for record in records {
            state.insert_record(record, 0);
        }
    }
    let mut ids = vec![];
    for n in 0..n_calls {
        let live = seed::live_call(n, new_call_id());
        let call_id = calls::start_quietly(app, live.call);
        let mut state = app.state.lock();
        for user in &live.answered {
            // The seed pattern only answers waiting callees, so this holds.
            let _ = state.act(&call_id, user, Act::Answer, now_ms);
        }
        ids.push(call_id);
    }
    json!({ "records": n_records, "liveCalls": ids })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sdkappid_from_the_query() {
        assert_eq!(query_sdkappid(None).expect("ok"), None);
        assert_eq!(query_sdkappid(Some("x=1")).expect("ok"), None);
        assert_eq!(
            query_sdkappid(Some("a=b&sdkappid=1400000000")).expect("ok"),
            Some(1_400_000_000)
        );
        assert!(query_sdkappid(Some("sdkappid=abc")).is_err());
    }

    #[test]
    fn seeding_fills_records_and_live_calls() {
        let app = App::new(&crate::config::AppConfig::demo(), 0, 5000);
        let out = seed_app(&app, 12, 3);
        assert_eq!(out["records"], 12);
        let ids = out["liveCalls"].as_array().expect("ids");
        assert_eq!(ids.len(), 3);
        let state = app.state.lock();
        for id in ids {
            assert!(state.is_live(id.as_str().expect("str")));
        }
        // Seeded records skip the record delay.
        let page = state
            .records()
            .filter(&Default::default(), clock::now_millis())
            .expect("page");
        assert_eq!(page.total_num, 12);
        let connected = state.view(ids[1].as_str().expect("str")).expect("view");
        assert_eq!(connected.state, "connected");
    }
}

//! The eight commands, run against an admitted app's state.

use super::answer::{Answer, Refusal};
use crate::app::App;
use crate::calls;
use crate::clock;
use crate::emulator::Emulator;
use crate::ids::new_call_id;
use crate::state::{NewCall, Origin};
use callkit_core::command::Command;
use callkit_core::models::{
    CalleeResult, DeleteCallback, EndCall, GetCallInfo, GetCallback, GetCallbackResponse,
    GetRecordByCallId, GetRecordByCallIdResponse, GetRecordByFilter, RoomIdType, SetCallback,
    StartCallByRobot, StartCallByRobotResponse,
};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use std::sync::Arc;

/// Engine and record services answer bad fields with 101002, config with 100002.
const ENGINE_BAD_PARAM: i64 = 101002;
const CONFIG_BAD_PARAM: i64 = 100002;
const CALL_NOT_FOUND: i64 = 101004;
const RECORD_NOT_FOUND: i64 = 101050;
const CALLBACK_NOT_FOUND: i64 = 100301;

pub const TIMEOUT_MS: std::ops::RangeInclusive<u32> = 10_000..=600_000;
pub const MAX_USER_DATA_BYTES: usize = 1000;

/// Malformed JSON is 60003; well-formed JSON of the wrong shape is the
/// service's invalid-parameter code.
fn parse<T: DeserializeOwned>(body: &[u8], bad_param: i64) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        Category::Data => Refusal::new(bad_param, format!("invalid parameter: {e}")),
        Category::Syntax | Category::Eof | Category::Io => {
            Refusal::new(60003, format!("JSON parse error: {e}"))
        }
    })
}

fn require_call_id(call_id: &str) -> Result<(), Refusal> {
    if call_id.trim().is_empty() {
        Err(Refusal::new(ENGINE_BAD_PARAM, "CallId is empty"))
    } else {
        Ok(())
    }
}

pub fn run(
    emu: &Arc<Emulator>,
    app: &Arc<App>,
    command: Command,
    body: &[u8],
    request_id: &str,
) -> Answer {
    let result = match command {
        Command::GetCallInfo => get_call_info(app, body, request_id),
        Command::StartCallByRobot => start_call_by_robot(emu, app, body, request_id),
        Command::EndCall => end_call(emu, app, body, request_id),
        Command::GetRecordByCallId => get_record_by_callid(app, body, request_id),
        Command::GetRecordByFilter => get_record_by_filter(app, body, request_id),
        Command::SetCallback => set_callback(app, body, request_id),
        Command::GetCallback => get_callback(app, body, request_id),
        Command::DeleteCallback => delete_callback(app, body, request_id),
    };
    result.unwrap_or_else(|refusal| Answer::fail(refusal, request_id))
}

fn get_call_info(app: &App, body: &[u8], rid: &str) -> Result<Answer, Refusal> {
    let req: GetCallInfo = parse(body, ENGINE_BAD_PARAM)?;
    require_call_id(&req.call_id)?;
    let info = app.state.lock().call_info(&req.call_id);
    match info {
        Some(info) => Ok(Answer::ok(rid, Some(&info))),
        None => Err(Refusal::new(
            CALL_NOT_FOUND,
            "the call does not exist or has ended",
        )),
    }
}

fn start_call_by_robot(
    emu: &Arc<Emulator>,
    app: &Arc<App>,
    body: &[u8],
    rid: &str,
) -> Result<Answer, Refusal> {
    let req: StartCallByRobot = parse(body, ENGINE_BAD_PARAM)?;
    check_robot_call(&req)?;
    let room_id = req.call_info.room_id.unwrap_or_default();
    let room_id_type = req
        .call_info
        .room_id_type
        .unwrap_or_else(|| implied_room_type(&room_id));
    let callees = req.callee_list_account;
    let call_id = calls::start(
        emu,
        app,
        NewCall {
            call_id: new_call_id(),
            caller: req.robot_account,
            callees: callees.clone(),
            media_type: req.call_info.media_type,
            chat_group_id: String::new(),
            room_id,
            room_id_type,
            ring_deadline_ms: Some(clock::now_millis().saturating_add(u64::from(req.timeout))),
            origin: Origin::RestApi,
        },
    );
    let call_result = callees
        .into_iter()
        .map(|callee_account| CalleeResult {
            callee_account,
            result_code: 0,
        })
        .collect();
    let response = StartCallByRobotResponse {
        call_id,
        call_result,
    };
    Ok(Answer::ok(rid, Some(&response)))
}

/// The documented limits of `start_call_by_robot`, each refused with 101002.
fn check_robot_call(req: &StartCallByRobot) -> Result<(), Refusal> {
    let bad = |info: &str| Err(Refusal::new(ENGINE_BAD_PARAM, info));
    let callees = &req.callee_list_account;
    if req.robot_account.trim().is_empty() {
        return bad("Robot_Account is empty");
    }
    if callees.is_empty() {
        return bad("CalleeList_Account is empty");
    }
    if callees.iter().any(|c| c.trim().is_empty()) {
        return bad("CalleeList_Account contains an empty account");
    }
    if callees.iter().all(|c| *c == req.robot_account) {
        return bad("CalleeList_Account has no one but the caller");
    }
    if !TIMEOUT_MS.contains(&req.timeout) {
        return bad("Timeout must be within 10000-600000 ms");
    }
    if req
        .user_data
        .as_ref()
        .is_some_and(|d| d.len() > MAX_USER_DATA_BYTES)
    {
        return bad("UserData is longer than 1000 bytes");
    }
    Ok(())
}

/// Without `RoomIdType`: digits only is a numeric room, other text a string
/// room, and no room is type 0.
fn implied_room_type(room_id: &str) -> RoomIdType {
    if room_id.is_empty() {
        RoomIdType::None
    } else if room_id.bytes().all(|b| b.is_ascii_digit()) {
        RoomIdType::Numeric
    } else {
        RoomIdType::String
    }
}

fn end_call(emu: &Emulator, app: &App, body: &[u8], rid: &str) -> Result<Answer, Refusal> {
    let req: EndCall = parse(body, ENGINE_BAD_PARAM)?;
    require_call_id(&req.call_id)?;
    if calls::end(emu, app, &req.call_id) {
        Ok(Answer::empty_ok(rid))
    } else {
        Err(Refusal::new(
            CALL_NOT_FOUND,
            "the call does not exist or has already ended",
        ))
    }
}

fn get_record_by_callid(app: &App, body: &[u8], rid: &str) -> Result<Answer, Refusal> {
    let req: GetRecordByCallId = parse(body, ENGINE_BAD_PARAM)?;
    require_call_id(&req.call_id)?;
    let record = app
        .state
        .lock()
        .records()
        .get(&req.call_id, clock::now_millis())
        .cloned();
    match record {
        Some(call_record) => Ok(Answer::ok(
            rid,
            Some(&GetRecordByCallIdResponse { call_record }),
        )),
        None => Err(Refusal::new(RECORD_NOT_FOUND, "call record does not exist")),
    }
}

fn get_record_by_filter(app: &App, body: &[u8], rid: &str) -> Result<Answer, Refusal> {
    let req: GetRecordByFilter = parse(body, ENGINE_BAD_PARAM)?;
    let page = app
        .state
        .lock()
        .records()
        .filter(&req, clock::now_millis())
        .map_err(|e| Refusal::new(ENGINE_BAD_PARAM, e.to_string()))?;
    Ok(Answer::ok(rid, Some(&page)))
}

fn set_callback(app: &App, body: &[u8], rid: &str) -> Result<Answer, Refusal> {
    let req: SetCallback = parse(body, CONFIG_BAD_PARAM)?;
    let url = req.url.trim();
    let lower = url.to_ascii_lowercase();
    let has_host = |rest: Option<&str>| rest.is_some_and(|r| !r.is_empty());
    if !(has_host(lower.strip_prefix("http://")) || has_host(lower.strip_prefix("https://"))) {
        return Err(Refusal::new(
            CONFIG_BAD_PARAM,
            "Url must start with http or https",
        ));
    }
    let mut commands = vec![];
    for c in req.callback_command_list {
        if !commands.contains(&c) {
            commands.push(c);
        }
    }
    app.state.lock().set_callback(Some(GetCallbackResponse {
        url: url.to_owned(),
        callback_command_list: commands,
    }));
    Ok(Answer::empty_ok(rid))
}

fn get_callback(app: &App, body: &[u8], rid: &str) -> Result<Answer, Refusal> {
    let _: GetCallback = parse(body, CONFIG_BAD_PARAM)?;
    let config = app.state.lock().callback().cloned();
    match config {
        Some(config) => Ok(Answer::ok(rid, Some(&config))),
        None => Err(Refusal::new(
            CALLBACK_NOT_FOUND,
            "callback configuration does not exist; create it first",
        )),
    }
}

fn delete_callback(app: &App, body: &[u8], rid: &str) -> Result<Answer, Refusal> {
    let _: DeleteCallback = parse(body, CONFIG_BAD_PARAM)?;
    app.state.lock().set_callback(None);
    Ok(Answer::empty_ok(rid))
}

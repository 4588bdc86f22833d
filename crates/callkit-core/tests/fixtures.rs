//! Every published v4 sample body (tests/resources) parses into its typed model and
//! serializes back to the same JSON, or to its documented normalized form.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::PathBuf;

use callkit_core::command::{ApiCommand, Command};
use callkit_core::envelope::{encode_reply, parse_reply, Envelope, NoContent, Reply, ResponseBody};
use callkit_core::models::*;
use callkit_core::request::encode_body;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// Every file in tests/resources; `all_fixtures_are_exercised` keeps this in step.
const FIXTURES: &[&str] = &[
    "delete_callback.request.json",
    "end_call.request.json",
    "end_call.response.json",
    "get_call_info.request.json",
    "get_call_info.response.json",
    "get_callback.request.json",
    "get_callback.response.json",
    "get_record_by_callid.request.json",
    "get_record_by_callid.response.json",
    "get_record_by_filter.request.json",
    "get_record_by_filter.request.minimal.json",
    "get_record_by_filter.response.json",
    "set_callback.request.json",
    "set_callback.response.json",
    "start_call_by_robot.request.json",
    "start_call_by_robot.response.api.json",
    "start_call_by_robot.response.guide.json",
    "webhook.ack.json",
    "webhook.after_end_call.json",
    "webhook.after_member_changed.json",
    "webhook.after_start_call.json",
];

fn resources() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/resources")
}

fn load(name: &str) -> (Vec<u8>, Value) {
    assert!(FIXTURES.contains(&name), "{name} missing from FIXTURES");
    let bytes = std::fs::read(resources().join(name)).expect("fixture readable");
    let value = serde_json::from_slice(&bytes).expect("fixture is JSON");
    (bytes, value)
}

fn to_value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("we emit JSON")
}

/// A request sample: parse, check the command word, re-encode as the client would.
fn request<C: ApiCommand + DeserializeOwned>(name: &str) -> C {
    let (bytes, original) = load(name);
    assert!(name.starts_with(&format!("{}.", C::COMMAND.name())));
    let typed: C = serde_json::from_slice(&bytes).expect("request parses");
    assert_eq!(to_value(&encode_body(&typed)), original, "{name}");
    typed
}

/// A response sample: parse through `parse_reply`, re-encode as the emulator would.
/// `present` picks the `Response` object to emit, if any.
fn response<T, U>(name: &str, command: Command, present: fn(&T) -> Option<&U>) -> Reply<T>
where
    T: ResponseBody + Debug,
    U: Serialize,
{
    let (bytes, original) = load(name);
    assert!(name.starts_with(&format!("{}.", command.name())));
    let reply = parse_reply::<T>(200, &bytes).expect("reply parses");
    let envelope = Envelope::ok(reply.request_id.clone());
    let encoded = encode_reply(&envelope, present(&reply.data));
    assert_eq!(to_value(&encoded), original, "{name}");
    reply
}

fn whole<T>(data: &T) -> Option<&T> {
    Some(data)
}

fn envelope_only(_: &NoContent) -> Option<&NoContent> {
    None
}

#[test]
fn all_fixtures_are_exercised() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(resources())
        .expect("resources dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = FIXTURES.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn get_call_info() {
    let req: GetCallInfo = request("get_call_info.request.json");
    assert_eq!(req.call_id, "055662e1-bc8a-469c-a334-1126c8c17d58");

    let reply = response::<GetCallInfoResponse, _>(
        "get_call_info.response.json",
        Command::GetCallInfo,
        whole,
    );
    assert_eq!(
        reply.request_id,
        "Id-431454f25a44462d8155bdff4fed38cc-O-Seq-19029769"
    );
    let data = reply.data;
    assert_eq!(data.call_info.media_type, MediaType::Audio);
    // docs/tencent-callkit-v4.md §9.8: 0 is outside the documented 1/2 but is what the sample sends.
    assert_eq!(data.call_info.room_id_type, RoomIdType::None);
    assert_eq!(
        data.user_list,
        vec![
            CallMember {
                user_account: "user1".into(),
                status: UserStatus::Calling
            },
            CallMember {
                user_account: "user2".into(),
                status: UserStatus::Waiting
            },
        ]
    );
}

#[test]
fn start_call_by_robot() {
    let req: StartCallByRobot = request("start_call_by_robot.request.json");
    assert_eq!(req.timeout, 300_000);
    assert_eq!(req.call_info.room_id_type, Some(RoomIdType::String));
    let push = req.offline_push_info.expect("push info");
    assert_eq!(push.push_flag, Some(0));
    assert_eq!(push.ext.as_deref(), Some("This is the transmitted content"));
    assert!(push.other.is_empty());

    // The guide's form, with `Response`.
    let reply = response::<Option<StartCallByRobotResponse>, _>(
        "start_call_by_robot.response.guide.json",
        Command::StartCallByRobot,
        Option::as_ref,
    );
    assert_eq!(
        reply.data,
        Some(StartCallByRobotResponse {
            call_id: "35fd577d-1d10-4201-a40d-6d7316560986".into(),
            call_result: vec![CalleeResult {
                callee_account: "jack".into(),
                result_code: 0
            }],
        })
    );

    // The API page's envelope-only form.
    let reply = response::<Option<StartCallByRobotResponse>, _>(
        "start_call_by_robot.response.api.json",
        Command::StartCallByRobot,
        Option::as_ref,
    );
    assert_eq!(reply.data, None);
}

#[test]
fn end_call() {
    let req: EndCall = request("end_call.request.json");
    assert_eq!(req.call_id, "055662e1-bc8a-469c-a334-1126c8c17d58");
    let reply = response("end_call.response.json", Command::EndCall, envelope_only);
    assert_eq!(reply.data, NoContent {});
}

#[test]
fn get_record_by_callid() {
    let _: GetRecordByCallId = request("get_record_by_callid.request.json");
    let reply = response::<GetRecordByCallIdResponse, _>(
        "get_record_by_callid.response.json",
        Command::GetRecordByCallId,
        whole,
    );
    let rec = reply.data.call_record;
    assert_eq!(rec.call_type, CallType::MultiCall);
    assert_eq!(rec.call_result, CallResult::NormalEnd);
    assert_eq!(rec.accept_time, 1739872743);
    assert_eq!(rec.callee_list_account, ["user1", "user5", "user2"]);
    assert_eq!(rec.room_id_type, RoomIdType::String);
}

#[test]
fn get_record_by_filter() {
    let req: GetRecordByFilter = request("get_record_by_filter.request.json");
    assert_eq!(
        req,
        GetRecordByFilter {
            start_time: Some(0),
            end_time: Some(1740531683),
            call_result: Some(CallResult::NormalEnd),
            call_type: Some(CallType::SingleCall),
            number_per_page: Some(2),
            page: Some(2),
        }
    );
    let minimal: GetRecordByFilter = request("get_record_by_filter.request.minimal.json");
    assert_eq!(minimal, GetRecordByFilter::default());

    let reply = response::<GetRecordByFilterResponse, _>(
        "get_record_by_filter.response.json",
        Command::GetRecordByFilter,
        whole,
    );
    assert_eq!(reply.data.total_num, 141);
    assert_eq!(reply.data.page, 2);
    let media: Vec<_> = reply
        .data
        .call_record_list
        .iter()
        .map(|r| r.media_type)
        .collect();
    assert_eq!(media, [MediaType::Audio, MediaType::Video]);
}

#[test]
fn set_callback() {
    let req: SetCallback = request("set_callback.request.json");
    assert_eq!(req.callback_command_list, CallbackCommand::ALL);
    let reply = response(
        "set_callback.response.json",
        Command::SetCallback,
        envelope_only,
    );
    assert_eq!(
        reply.request_id,
        "Id-8c9858f01e954611ae2d4c1b1ed7d583-O-Seq-52720"
    );
}

#[test]
fn get_callback() {
    let _: GetCallback = request("get_callback.request.json");
    let reply = response::<GetCallbackResponse, _>(
        "get_callback.response.json",
        Command::GetCallback,
        whole,
    );
    assert_eq!(reply.data.url, "http://www.example.com/callback");
    assert_eq!(
        reply.data.callback_command_list,
        [
            CallbackCommand::AfterStartCall,
            CallbackCommand::AfterEndCall
        ]
    );
}

#[test]
fn delete_callback() {
    let _: DeleteCallback = request("delete_callback.request.json");
}

#[test]
fn webhook_after_start_call_is_normalized() {
    let (bytes, mut expected) = load("webhook.after_start_call.json");
    let event: WebhookEvent = serde_json::from_slice(&bytes).expect("webhook parses");
    assert_eq!(event.command(), CallbackCommand::AfterStartCall);
    let WebhookEvent::AfterStartCall(body) = &event else {
        panic!("wrong variant: {event:?}");
    };
    assert_eq!(body.call_info.media_type, MediaType::Audio);
    assert_eq!(body.user_list[0].user_account, "144115212830834855");
    assert_eq!(body.user_list[1].user_account, "144115212948889925");

    // Emitted in the table's form: `MediaType`, string accounts.
    let info = expected["CallInfo"].as_object_mut().expect("CallInfo");
    let media = info
        .remove("CallMediaType")
        .expect("sample uses CallMediaType");
    info.insert("MediaType".into(), media);
    expected["UserList"][0]["User_Account"] = json!("144115212830834855");
    expected["UserList"][1]["User_Account"] = json!("144115212948889925");
    assert_eq!(serde_json::to_value(&event).expect("serializes"), expected);
}

#[test]
fn webhook_after_end_call() {
    let (bytes, original) = load("webhook.after_end_call.json");
    let event: WebhookEvent = serde_json::from_slice(&bytes).expect("webhook parses");
    assert_eq!(event.event_time(), 1703589922780);
    let WebhookEvent::AfterEndCall(body) = &event else {
        panic!("wrong variant: {event:?}");
    };
    assert_eq!(body.call_record.call_result, CallResult::NotAnswer);
    assert_eq!(body.call_record.accept_time, 0);
    assert_eq!(serde_json::to_value(&event).expect("serializes"), original);
}

#[test]
fn webhook_after_member_changed() {
    let (bytes, original) = load("webhook.after_member_changed.json");
    let event: WebhookEvent = serde_json::from_slice(&bytes).expect("webhook parses");
    assert_eq!(event.call_id(), "055662e1-bc8a-469c-a334-1126c8c17d58");
    let WebhookEvent::AfterMemberChanged(body) = &event else {
        panic!("wrong variant: {event:?}");
    };
    assert_eq!(
        body.changed_user_list,
        [ChangedMember {
            user_account: "user2".into(),
            action_type: MemberAction::Answer
        }]
    );
    assert_eq!(serde_json::to_value(&event).expect("serializes"), original);
}

#[test]
fn webhook_ack() {
    let (bytes, original) = load("webhook.ack.json");
    let ack: WebhookAck = serde_json::from_slice(&bytes).expect("ack parses");
    assert_eq!(ack, WebhookAck::ok());
    assert_eq!(serde_json::to_value(&ack).expect("serializes"), original);
    // The ack is also a valid envelope without RequestId.
    let env: Envelope = serde_json::from_slice(&bytes).expect("envelope parses");
    assert!(env.is_ok());
    assert_eq!(env.request_id, "");
}

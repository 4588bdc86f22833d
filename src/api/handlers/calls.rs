//! `/api/v1/calls`: look up, end and start calls.

use callkit_core::models::{
    GetCallInfoResponse, MediaType, OfflinePushInfo, RobotCallInfo, RoomIdType, StartCallByRobot,
    UserStatus,
};
use serde::{Deserialize, Serialize};

use callkit_core::client::{Runtime, Transport};

use super::{Input, Success};
use crate::api::auth::is_valid_user_id;
use crate::api::policy::Action;
use crate::api::problem::{ApiError, CALL_NOT_FOUND};
use crate::api::validate;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLookup<'a> {
    pub request_id: &'a str,
    pub call_id: &'a str,
    pub media_type: MediaType,
    pub group_id: &'a str,
    pub room_id: &'a str,
    pub room_id_type: RoomIdType,
    pub members: Vec<Member<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member<'a> {
    pub user_id: &'a str,
    pub status: UserStatus,
}

fn is_member(info: &GetCallInfoResponse, user_id: &str) -> bool {
    info.user_list.iter().any(|m| m.user_account == user_id)
}

/// Where a non-admin caller stands in a call they want to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndRight {
    /// Not in the call: answered exactly like a missing call.
    Hidden,
    /// Invited but never answered: may see the call, not end it for others.
    Invited,
    /// `Calling`: the caller (from the start) or a callee who answered.
    Connected,
}

/// Ending a call ends it for everyone, so only someone taking part may do
/// it: an invitee who has not answered can only decline their own invite
/// (in TUICallKit), never hang up the others. `get_call_info` names no
/// caller, but the caller is `Calling` from the moment the call is placed.
fn end_right(info: &GetCallInfoResponse, user_id: &str) -> EndRight {
    match info.user_list.iter().find(|m| m.user_account == user_id) {
        None => EndRight::Hidden,
        Some(m) if m.status == UserStatus::Calling => EndRight::Connected,
        Some(_) => EndRight::Invited,
    }
}

pub async fn get<T: Transport, R: Runtime>(input: Input<'_, T, R>) -> Result<Success, ApiError> {
    let call_id = input.call_id()?;
    let reply = input.client.calls().info(call_id.as_str()).await?;
    let info = &reply.data;
    if input.needs_membership && !is_member(info, input.identity.user_id()) {
        return Err(CALL_NOT_FOUND);
    }
    let view = CallLookup {
        request_id: &reply.request_id,
        call_id: &info.call_info.call_id,
        media_type: info.call_info.media_type,
        group_id: &info.call_info.chat_group_id,
        room_id: &info.call_info.room_id,
        room_id_type: info.call_info.room_id_type,
        members: info
            .user_list
            .iter()
            .map(|m| Member {
                user_id: &m.user_account,
                status: m.status,
            })
            .collect(),
    };
    Success::json(200, &view, Some(&reply.request_id))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Ended<'a> {
    request_id: &'a str,
    call_id: &'a str,
    ended: bool,
}

pub async fn end<T: Transport, R: Runtime>(input: Input<'_, T, R>) -> Result<Success, ApiError> {
    let call_id = input.call_id()?;
    if input.needs_membership {
        let info = input.client.calls().info(call_id.as_str()).await?;
        match end_right(&info.data, input.identity.user_id()) {
            EndRight::Hidden => return Err(CALL_NOT_FOUND),
            EndRight::Invited => {
                return Err(ApiError::Forbidden {
                    action: Action::EndCall,
                })
            }
            EndRight::Connected => {}
        }
    }
    let reply = input.client.calls().end(call_id.as_str()).await?;
    let body = Ended {
        request_id: &reply.request_id,
        call_id: call_id.as_str(),
        ended: true,
    };
    Success::json(200, &body, Some(&reply.request_id))
}

/// `POST /api/v1/calls` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StartCall {
    pub robot: String,
    pub callees: Vec<String>,
    pub media_type: MediaType,
    #[serde(default = "default_timeout_ms", deserialize_with = "whole")]
    pub timeout_ms: u32,
    pub user_data: Option<String>,
    pub room_id: Option<String>,
    #[serde(default, deserialize_with = "room_id_type_number")]
    pub room_id_type: Option<RoomIdType>,
    pub offline_push: Option<OfflinePush>,
}

/// Only the integer the OpenAPI document allows: `RoomIdType`'s own parser
/// also takes `"2"`, which Tencent's record pages send, but callers may not.
fn room_id_type_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<RoomIdType>, D::Error> {
    let Some(value) = Option::<serde_json::Value>::deserialize(deserializer)? else {
        return Ok(None);
    };
    value
        .as_number()
        .and_then(whole_number)
        .and_then(|n| u64::try_from(n).ok())
        .and_then(RoomIdType::from_u64)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("`roomIdType` must be 1 or 2"))
}

/// A number JSON Schema counts as an `integer`, as the OpenAPI document
/// says: `158315.0` is 158315 (serde alone refuses it for an integer type).
fn whole_number(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
            .map(|f| f as i64)
    })
}

const NOT_AN_INTEGER: &str = "invalid type: expected an integer in range";

fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    let n = serde_json::Number::deserialize(deserializer)?;
    whole_number(&n)
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| serde::de::Error::custom(NOT_AN_INTEGER))
}

fn whole_opt<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    match Option::<serde_json::Number>::deserialize(deserializer)? {
        None => Ok(None),
        Some(n) => whole_number(&n)
            .and_then(|v| T::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(NOT_AN_INTEGER)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OfflinePush {
    pub title: Option<String>,
    pub desc: Option<String>,
    pub ext: Option<String>,
    #[serde(default, deserialize_with = "whole_opt")]
    pub push_flag: Option<i64>,
}

fn default_timeout_ms() -> u32 {
    30_000
}

/// Tencent's documented bounds (start_call_by_robot).
const TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u32> = 10_000..=600_000;
const MAX_USER_DATA_BYTES: usize = 1000;
/// Undocumented upstream; a group call beyond this is not what a console does.
const MAX_CALLEES: usize = 50;

impl StartCall {
    /// Public for the fuzz target; the handler is its only other caller.
    pub fn validate(self) -> Result<StartCallByRobot, ApiError> {
        let invalid = |detail: String| ApiError::bad_request("invalid_field", detail);
        if !is_valid_user_id(&self.robot) {
            return Err(invalid(
                "`robot` must be a UserID of 1-32 printable ASCII characters.".into(),
            ));
        }
        if self.callees.is_empty() || self.callees.len() > MAX_CALLEES {
            return Err(invalid(format!(
                "`callees` must list 1-{MAX_CALLEES} UserIDs."
            )));
        }
        if let Some(bad) = self.callees.iter().position(|c| !is_valid_user_id(c)) {
            return Err(invalid(format!("`callees[{bad}]` is not a valid UserID.")));
        }
        if !TIMEOUT_RANGE_MS.contains(&self.timeout_ms) {
            return Err(invalid(
                "`timeoutMs` must be between 10000 and 600000.".into(),
            ));
        }
        if self.room_id_type == Some(RoomIdType::None) {
            return Err(invalid(
                "`roomIdType` must be 1 (numeric) or 2 (string).".into(),
            ));
        }
        if self
            .user_data
            .as_ref()
            .is_some_and(|d| d.len() > MAX_USER_DATA_BYTES)
        {
            return Err(invalid(format!(
                "`userData` is limited to {MAX_USER_DATA_BYTES} bytes."
            )));
        }
        Ok(StartCallByRobot {
            robot_account: self.robot,
            callee_list_account: self.callees,
            timeout: self.timeout_ms,
            user_data: self.user_data,
            call_info: RobotCallInfo {
                media_type: self.media_type,
                room_id: self.room_id,
                room_id_type: self.room_id_type,
            },
            offline_push_info: self.offline_push.map(|p| OfflinePushInfo {
                push_flag: p.push_flag,
                title: p.title,
                desc: p.desc,
                ext: p.ext,
                ..OfflinePushInfo::default()
            }),
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Started<'a> {
    request_id: &'a str,
    call_id: Option<&'a str>,
    results: Vec<CalleeOutcome<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CalleeOutcome<'a> {
    user_id: &'a str,
    result_code: i64,
}

pub async fn start<T: Transport, R: Runtime>(input: Input<'_, T, R>) -> Result<Success, ApiError> {
    let request: StartCall = validate::json_body(input.content_type.as_deref(), &input.body)?;
    let request = request.validate()?;
    let reply = input.client.calls().start_by_robot(&request).await?;
    let started = reply.data.as_ref();
    let body = Started {
        request_id: &reply.request_id,
        call_id: started.map(|s| s.call_id.as_str()),
        results: started
            .map(|s| {
                s.call_result
                    .iter()
                    .map(|r| CalleeOutcome {
                        user_id: &r.callee_account,
                        result_code: r.result_code,
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    Success::json(201, &body, Some(&reply.request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<StartCallByRobot, ApiError> {
        let req: StartCall = validate::json_body(Some("application/json"), json.as_bytes())?;
        req.validate()
    }

    #[test]
    fn only_a_connected_member_may_end_a_call() {
        let info: GetCallInfoResponse = serde_json::from_value(serde_json::json!({
            "CallInfo": { "CallId": "c1", "MediaType": "Audio" },
            "UserList": [
                { "User_Account": "alice", "Status": "Calling" },
                { "User_Account": "bob", "Status": "Waiting" }
            ]
        }))
        .unwrap();
        assert_eq!(end_right(&info, "alice"), EndRight::Connected);
        assert_eq!(end_right(&info, "bob"), EndRight::Invited);
        assert_eq!(end_right(&info, "carol"), EndRight::Hidden);
        assert_eq!(end_right(&info, "ALICE"), EndRight::Hidden);
    }

    #[test]
    fn integers_written_with_a_zero_fraction_are_integers() {
        // JSON Schema's `integer` (the OpenAPI document's) includes 158315.0.
        let req = parse(
            r#"{"robot":"bot1","callees":["alice"],"mediaType":"Audio","timeoutMs":158315.0,"roomIdType":2.0,"offlinePush":{"pushFlag":1.0}}"#,
        )
        .unwrap();
        assert_eq!(req.timeout, 158_315);
        assert_eq!(req.call_info.room_id_type, Some(RoomIdType::String));
        assert_eq!(req.offline_push_info.unwrap().push_flag, Some(1));
        for bad in [
            r#""timeoutMs":158315.5"#,
            r#""timeoutMs":-1"#,
            r#""timeoutMs":"30000""#,
            r#""roomIdType":1.5"#,
        ] {
            let body =
                format!(r#"{{"robot":"bot1","callees":["alice"],"mediaType":"Audio",{bad}}}"#);
            let Err(ApiError::BadRequest { code, .. }) = parse(&body) else {
                panic!("{bad} accepted");
            };
            assert_eq!(code, "invalid_field", "{bad}");
        }
    }

    #[test]
    fn start_call_maps_to_the_tencent_model() {
        let req = parse(
            r#"{"robot":"bot1","callees":["alice"],"mediaType":"Video","roomId":"r1","roomIdType":2,"offlinePush":{"title":"t"}}"#,
        )
        .unwrap();
        assert_eq!(req.robot_account, "bot1");
        assert_eq!(req.timeout, 30_000);
        assert_eq!(req.call_info.room_id_type, Some(RoomIdType::String));
        assert_eq!(req.offline_push_info.unwrap().title.as_deref(), Some("t"));
    }

    #[test]
    fn start_call_rejects_bad_fields_by_name() {
        for (json, needle) in [
            (
                r#"{"robot":"","callees":["a"],"mediaType":"Audio"}"#,
                "robot",
            ),
            (
                r#"{"robot":"b","callees":[],"mediaType":"Audio"}"#,
                "callees",
            ),
            (
                r#"{"robot":"b","callees":["a"],"mediaType":"Audio","timeoutMs":5}"#,
                "timeoutMs",
            ),
            (
                r#"{"robot":"b","callees":["a"],"mediaType":"Smell"}"#,
                "Smell",
            ),
            (
                r#"{"robot":"b","callees":["a"],"mediaType":"Audio","colour":1}"#,
                "colour",
            ),
            (
                r#"{"robot":"b","callees":["a"],"mediaType":"Audio","roomIdType":0}"#,
                "roomIdType",
            ),
            (
                r#"{"robot":"b","callees":["a"],"mediaType":"Audio","roomIdType":"2"}"#,
                "roomIdType",
            ),
            (
                r#"{"robot":"b","callees":["a"],"mediaType":"Audio","roomIdType":3}"#,
                "roomIdType",
            ),
        ] {
            let p = parse(json).unwrap_err().to_problem();
            assert_eq!(p.status, 400, "{json}");
            assert!(p.detail.contains(needle), "{} lacks {needle}", p.detail);
        }
    }
}

#[cfg(test)]
mod upstream_tests {
    use callkit_core::client::testing::Step;

    use super::*;
    use crate::api::handlers::test_support::{admin, json, problem, run, sample, user, Upstream};

    const CALL: &str = "055662e1-bc8a-469c-a334-1126c8c17d58";

    #[test]
    fn a_member_sees_the_call_with_its_request_id() {
        let up = Upstream::new(vec![sample("get_call_info.response.json")]);
        let me = user("user2");
        let success = run(get(up.input(&me, Some(CALL)))).unwrap();
        assert_eq!(success.status, 200);
        let body = json(&success);
        assert_eq!(
            body["requestId"],
            "Id-431454f25a44462d8155bdff4fed38cc-O-Seq-19029769"
        );
        assert_eq!(success.request_id.as_deref(), body["requestId"].as_str());
        assert_eq!(body["members"][1]["userId"], "user2");
        assert_eq!(body["members"][1]["status"], "Waiting");
    }

    #[test]
    fn an_outsider_gets_exactly_the_answer_for_a_missing_call() {
        let up = Upstream::new(vec![sample("get_call_info.response.json")]);
        let stranger = user("mallory");
        let hidden = problem(run(get(up.input(&stranger, Some(CALL)))));
        let missing = Upstream::new(vec![Step::api_error(101004)]);
        let gone = problem(run(get(missing.input(&stranger, Some(CALL)))));
        assert_eq!(hidden, gone, "no trace of the call's existence");
        assert_eq!(
            (hidden.status, hidden.code.as_str()),
            (404, "call_not_found")
        );
        assert_eq!(hidden.tencent_error_code, None);
        // An admin is never asked for membership.
        let up = Upstream::new(vec![sample("get_call_info.response.json")]);
        assert_eq!(
            run(get(up.input(&admin(), Some(CALL)))).unwrap().status,
            200
        );
    }

    #[test]
    fn ending_needs_a_connected_member_and_hides_the_call_from_outsiders() {
        for (who, status, code) in [
            ("mallory", 404, "call_not_found"),
            ("user2", 403, "forbidden"),
        ] {
            let up = Upstream::new(vec![sample("get_call_info.response.json")]);
            let caller = user(who);
            let p = problem(run(end(up.input(&caller, Some(CALL)))));
            assert_eq!((p.status, p.code.as_str()), (status, code), "{who}");
            assert_eq!(up.sent(), 1, "{who}: end_call must not be sent");
        }
        let up = Upstream::new(vec![
            sample("get_call_info.response.json"),
            sample("end_call.response.json"),
        ]);
        let connected = user("user1");
        let success = run(end(up.input(&connected, Some(CALL)))).unwrap();
        assert_eq!(json(&success)["ended"], true);
        assert_eq!(up.sent(), 2);
    }

    #[test]
    fn upstream_errors_map_to_problems_with_their_trace() {
        let up = Upstream::new(vec![Step::api_error(60006)]);
        let p = problem(run(get(up.input(&admin(), Some(CALL)))));
        assert_eq!((p.status, p.code.as_str()), (502, "upstream_configuration"));
        assert_eq!(p.tencent_error_code, Some(60006));
        assert!(p.request_id.is_some());
    }
}

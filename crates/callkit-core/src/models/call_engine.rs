//! `call_engine_http_srv`: live call status, starting calls from the server, ending calls.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::account;
use super::enums::{MediaType, RoomIdType, UserStatus};
use crate::command::{ApiCommand, Command};
use crate::envelope::{NoContent, ResponseBody};

/// `get_call_info` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCallInfo {
    #[serde(rename = "CallId")]
    pub call_id: String,
}

impl ApiCommand for GetCallInfo {
    const COMMAND: Command = Command::GetCallInfo;
    type Response = GetCallInfoResponse;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCallInfoResponse {
    #[serde(rename = "CallInfo")]
    pub call_info: CallInfo,
    #[serde(rename = "UserList", default)]
    pub user_list: Vec<CallMember>,
}

impl ResponseBody for GetCallInfoResponse {}

/// A live call; also the `CallInfo` of the start-call webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo {
    #[serde(rename = "CallId")]
    pub call_id: String,
    // The start-call webhook sample says `CallMediaType`.
    #[serde(rename = "MediaType", alias = "CallMediaType")]
    pub media_type: MediaType,
    /// Chat group ID for group calls; `""` otherwise.
    #[serde(rename = "ChatGroupId", default)]
    pub chat_group_id: String,
    #[serde(rename = "RoomId", default)]
    pub room_id: String,
    #[serde(rename = "RoomIdType", default)]
    pub room_id_type: RoomIdType,
}

/// An entry of `UserList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallMember {
    #[serde(
        rename = "User_Account",
        deserialize_with = "account::string_or_number"
    )]
    pub user_account: String,
    #[serde(rename = "Status")]
    pub status: UserStatus,
}

/// `start_call_by_robot` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartCallByRobot {
    /// The caller; the backend runs no heartbeat or busy checks on it.
    #[serde(rename = "Robot_Account")]
    pub robot_account: String,
    #[serde(rename = "CalleeList_Account")]
    pub callee_list_account: Vec<String>,
    /// Ring timeout in ms, documented range 10000–600000.
    #[serde(rename = "Timeout")]
    pub timeout: u32,
    /// At most 1000 bytes, passed to the callees.
    #[serde(rename = "UserData", default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    #[serde(rename = "CallInfo")]
    pub call_info: RobotCallInfo,
    #[serde(
        rename = "OfflinePushInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub offline_push_info: Option<OfflinePushInfo>,
}

impl ApiCommand for StartCallByRobot {
    const COMMAND: Command = Command::StartCallByRobot;
    // The API page shows no `Response`; the guide shows one.
    type Response = Option<StartCallByRobotResponse>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotCallInfo {
    #[serde(rename = "MediaType")]
    pub media_type: MediaType,
    #[serde(rename = "RoomId", default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    #[serde(
        rename = "RoomIdType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub room_id_type: Option<RoomIdType>,
}

/// Chat's offline push object. Fields this crate does not model are kept
/// verbatim so they pass through unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OfflinePushInfo {
    /// 0 = push (Chat convention).
    #[serde(rename = "PushFlag", default, skip_serializing_if = "Option::is_none")]
    pub push_flag: Option<i64>,
    #[serde(rename = "Title", default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(rename = "Desc", default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// Pass-through string (the guide puts escaped JSON here).
    #[serde(rename = "Ext", default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
    #[serde(
        rename = "AndroidInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub android_info: Option<serde_json::Value>,
    #[serde(rename = "ApnsInfo", default, skip_serializing_if = "Option::is_none")]
    pub apns_info: Option<serde_json::Value>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartCallByRobotResponse {
    #[serde(rename = "CallId")]
    pub call_id: String,
    #[serde(rename = "CallResult", default)]
    pub call_result: Vec<CalleeResult>,
}

impl ResponseBody for StartCallByRobotResponse {}

/// Per-callee outcome; only `ResultCode` 0 (success) is documented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalleeResult {
    #[serde(rename = "Callee_Account")]
    pub callee_account: String,
    #[serde(rename = "ResultCode")]
    pub result_code: i64,
}

/// `end_call` request. A second `end_call` for the same call gets 101004.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndCall {
    #[serde(rename = "CallId")]
    pub call_id: String,
}

impl ApiCommand for EndCall {
    const COMMAND: Command = Command::EndCall;
    type Response = NoContent;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, to_value};

    #[test]
    fn minimal_start_call_omits_optional_fields() {
        let req = StartCallByRobot {
            robot_account: "bot".into(),
            callee_list_account: vec!["a".into(), "b".into()],
            timeout: 30000,
            user_data: None,
            call_info: RobotCallInfo {
                media_type: MediaType::Video,
                room_id: None,
                room_id_type: None,
            },
            offline_push_info: None,
        };
        assert_eq!(
            to_value(&req).unwrap(),
            json!({
                "Robot_Account": "bot",
                "CalleeList_Account": ["a", "b"],
                "Timeout": 30000,
                "CallInfo": {"MediaType": "Video"}
            })
        );
    }

    #[test]
    fn offline_push_info_keeps_unknown_chat_fields() {
        let raw = json!({
            "PushFlag": 0,
            "Ext": "{\"k\":1}",
            "AndroidInfo": {"Sound": "a.mp3"},
            "ApnsInfo": {"BadgeMode": 1},
            "TitleInfo": "x"
        });
        let info: OfflinePushInfo = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(info.android_info, Some(json!({"Sound": "a.mp3"})));
        assert_eq!(info.other.get("TitleInfo"), Some(&json!("x")));
        assert_eq!(to_value(&info).unwrap(), raw);
    }

    #[test]
    fn call_info_reads_lower_case_media_and_defaults_room() {
        let info: CallInfo =
            serde_json::from_value(json!({"CallId": "c", "MediaType": "video"})).unwrap();
        assert_eq!(info.media_type, MediaType::Video);
        assert_eq!(info.room_id_type, RoomIdType::None);
        assert_eq!(info.room_id, "");
    }

    #[test]
    fn start_call_rejects_missing_required_fields() {
        let res = serde_json::from_value::<StartCallByRobot>(json!({"Robot_Account": "bot"}));
        assert!(res.is_err());
    }
}

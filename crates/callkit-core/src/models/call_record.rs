//! `call_record_http_srv`: records of finished calls, by id or by filter (last 7 days).

use serde::{Deserialize, Serialize};

use super::account;
use super::enums::{CallResult, CallType, MediaType, RoomIdType};
use crate::command::{ApiCommand, Command};
use crate::envelope::ResponseBody;

/// A finished call; also the body of the end-call webhook. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    #[serde(rename = "CallId")]
    pub call_id: String,
    #[serde(
        rename = "Caller_Account",
        deserialize_with = "account::string_or_number"
    )]
    pub caller_account: String,
    #[serde(rename = "MediaType")]
    pub media_type: MediaType,
    #[serde(rename = "CallType")]
    pub call_type: CallType,
    #[serde(rename = "StartTime")]
    pub start_time: u64,
    #[serde(rename = "EndTime")]
    pub end_time: u64,
    /// `0` when the call was never answered.
    #[serde(rename = "AcceptTime", default)]
    pub accept_time: u64,
    #[serde(rename = "CallResult")]
    pub call_result: CallResult,
    /// Members; the samples include the caller too.
    #[serde(rename = "CalleeList_Account", default)]
    pub callee_list_account: Vec<String>,
    #[serde(rename = "RoomId", default)]
    pub room_id: String,
    #[serde(rename = "RoomIdType", default)]
    pub room_id_type: RoomIdType,
}

/// `get_record_by_callid` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetRecordByCallId {
    #[serde(rename = "CallId")]
    pub call_id: String,
}

impl ApiCommand for GetRecordByCallId {
    const COMMAND: Command = Command::GetRecordByCallId;
    type Response = GetRecordByCallIdResponse;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetRecordByCallIdResponse {
    #[serde(rename = "CallRecord")]
    pub call_record: CallRecord,
}

impl ResponseBody for GetRecordByCallIdResponse {}

/// `get_record_by_filter` request; every field optional, `{}` is valid
/// (page 1, 10 items, last 7 days).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetRecordByFilter {
    /// Seconds; defaults to, and is raised to at least, now − 7 days.
    #[serde(rename = "StartTime", default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<u64>,
    /// Seconds; defaults to now.
    #[serde(rename = "EndTime", default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<u64>,
    #[serde(
        rename = "CallResult",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub call_result: Option<CallResult>,
    #[serde(rename = "CallType", default, skip_serializing_if = "Option::is_none")]
    pub call_type: Option<CallType>,
    /// Default 10.
    #[serde(
        rename = "NumberPerPage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub number_per_page: Option<u32>,
    /// 1-based; default 1.
    #[serde(rename = "Page", default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

impl ApiCommand for GetRecordByFilter {
    const COMMAND: Command = Command::GetRecordByFilter;
    type Response = GetRecordByFilterResponse;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetRecordByFilterResponse {
    #[serde(rename = "TotalNum", default)]
    pub total_num: u64,
    /// "When Page > 0 there is data" (upstream wording).
    #[serde(rename = "Page", default)]
    pub page: u32,
    #[serde(rename = "CallRecordList", default)]
    pub call_record_list: Vec<CallRecord>,
}

impl ResponseBody for GetRecordByFilterResponse {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_accepts_string_room_id_type_and_missing_list() {
        let rec: CallRecord = serde_json::from_value(json!({
            "CallId": "c", "Caller_Account": 10001, "MediaType": "Video",
            "CallType": "SingleCall", "StartTime": 1, "EndTime": 2,
            "CallResult": "Offline", "RoomId": "9", "RoomIdType": "1"
        }))
        .unwrap();
        assert_eq!(rec.caller_account, "10001");
        assert_eq!(rec.room_id_type, RoomIdType::Numeric);
        assert_eq!(rec.accept_time, 0);
        assert!(rec.callee_list_account.is_empty());
        assert_eq!(serde_json::to_value(&rec).unwrap()["RoomIdType"], json!(1));
    }

    #[test]
    fn empty_filter_response_defaults() {
        let resp: GetRecordByFilterResponse = serde_json::from_value(json!({})).unwrap();
        assert_eq!(resp.total_num, 0);
        assert!(resp.call_record_list.is_empty());
    }

    #[test]
    fn filter_serializes_only_set_fields() {
        let f = GetRecordByFilter {
            page: Some(3),
            call_type: Some(CallType::MultiCall),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"CallType": "MultiCall", "Page": 3})
        );
    }
}

//! Webhook bodies the Call backend POSTs to the configured URL, and the receiver's answer.

use serde::{Deserialize, Serialize};

use super::account;
use super::call_engine::{CallInfo, CallMember};
use super::call_record::CallRecord;
use super::enums::{CallbackCommand, MemberAction};

/// `Call.CallbackAfterStartCall`. Reads the sample's `CallMediaType` and
/// numeric accounts; writes the table's `MediaType` and strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterStartCall {
    #[serde(rename = "CallInfo")]
    pub call_info: CallInfo,
    #[serde(rename = "UserList", default)]
    pub user_list: Vec<CallMember>,
    /// Unix milliseconds.
    #[serde(rename = "EventTime")]
    pub event_time: u64,
}

/// `Call.CallbackAfterEndCall`: the call's record, queryable by REST ~5 s later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterEndCall {
    #[serde(rename = "CallRecord")]
    pub call_record: CallRecord,
    /// Unix milliseconds.
    #[serde(rename = "EventTime")]
    pub event_time: u64,
}

/// `Call.CallbackAfterMemberChanged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterMemberChanged {
    #[serde(rename = "CallId")]
    pub call_id: String,
    #[serde(rename = "UserList", default)]
    pub user_list: Vec<CallMember>,
    #[serde(rename = "ChangedUserList", default)]
    pub changed_user_list: Vec<ChangedMember>,
    /// Unix milliseconds.
    #[serde(rename = "EventTime")]
    pub event_time: u64,
}

/// An entry of `ChangedUserList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedMember {
    #[serde(
        rename = "User_Account",
        deserialize_with = "account::string_or_number"
    )]
    pub user_account: String,
    #[serde(rename = "ActionType")]
    pub action_type: MemberAction,
}

/// Any webhook body, told apart by its `CallbackCommand` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "CallbackCommand")]
pub enum WebhookEvent {
    #[serde(rename = "Call.CallbackAfterStartCall")]
    AfterStartCall(AfterStartCall),
    #[serde(rename = "Call.CallbackAfterEndCall")]
    AfterEndCall(AfterEndCall),
    #[serde(rename = "Call.CallbackAfterMemberChanged")]
    AfterMemberChanged(AfterMemberChanged),
}

/// Why a webhook body could not be read. Names the field, never a value.
#[derive(Debug, thiserror::Error)]
pub enum WebhookParseError {
    #[error("the body is not a JSON object with a string CallbackCommand")]
    NoCommand,
    #[error("the {command} body does not have the documented shape: {reason}")]
    Shape {
        command: CallbackCommand,
        reason: serde_json::Error,
    },
}

/// Just the command word, read before the body it decides.
#[derive(Deserialize)]
struct CommandWord {
    #[serde(rename = "CallbackCommand")]
    command: String,
}

impl WebhookEvent {
    /// Reads a webhook body; `Ok(None)` for a command word this crate does
    /// not know (receivers are told to ignore those). It reads the word
    /// first and then the one struct it names: deserializing the internally
    /// tagged enum would buffer the body through serde's `Content`, which
    /// costs a Worker ~38 KB of wasm.
    pub fn parse(body: &[u8]) -> Result<Option<Self>, WebhookParseError> {
        let word: CommandWord =
            serde_json::from_slice(body).map_err(|_| WebhookParseError::NoCommand)?;
        let Some(command) = CallbackCommand::parse(&word.command) else {
            return Ok(None);
        };
        let shape = |reason| WebhookParseError::Shape { command, reason };
        let event = match command {
            CallbackCommand::AfterStartCall => {
                WebhookEvent::AfterStartCall(serde_json::from_slice(body).map_err(shape)?)
            }
            CallbackCommand::AfterEndCall => {
                WebhookEvent::AfterEndCall(serde_json::from_slice(body).map_err(shape)?)
            }
            CallbackCommand::AfterMemberChanged => {
                WebhookEvent::AfterMemberChanged(serde_json::from_slice(body).map_err(shape)?)
            }
        };
        Ok(Some(event))
    }

    pub fn command(&self) -> CallbackCommand {
        match self {
            WebhookEvent::AfterStartCall(_) => CallbackCommand::AfterStartCall,
            WebhookEvent::AfterEndCall(_) => CallbackCommand::AfterEndCall,
            WebhookEvent::AfterMemberChanged(_) => CallbackCommand::AfterMemberChanged,
        }
    }

    pub fn call_id(&self) -> &str {
        match self {
            WebhookEvent::AfterStartCall(e) => &e.call_info.call_id,
            WebhookEvent::AfterEndCall(e) => &e.call_record.call_id,
            WebhookEvent::AfterMemberChanged(e) => &e.call_id,
        }
    }

    /// Unix milliseconds.
    pub fn event_time(&self) -> u64 {
        match self {
            WebhookEvent::AfterStartCall(e) => e.event_time,
            WebhookEvent::AfterEndCall(e) => e.event_time,
            WebhookEvent::AfterMemberChanged(e) => e.event_time,
        }
    }
}

/// The receiver's answer; `ErrorCode` 0 means "ignore the callback result".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAck {
    #[serde(rename = "ActionStatus")]
    pub action_status: String,
    #[serde(rename = "ErrorInfo", default)]
    pub error_info: String,
    #[serde(rename = "ErrorCode")]
    pub error_code: i64,
}

impl WebhookAck {
    pub fn ok() -> Self {
        WebhookAck {
            action_status: "OK".to_owned(),
            error_info: String::new(),
            error_code: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_or_missing_command_is_rejected() {
        let body = json!({"CallbackCommand": "Call.CallbackBeforeX", "EventTime": 1});
        assert!(serde_json::from_value::<WebhookEvent>(body).is_err());
        assert!(serde_json::from_value::<WebhookEvent>(json!({"EventTime": 1})).is_err());
    }

    #[test]
    fn parse_reads_the_word_then_its_body() {
        let body = |v: serde_json::Value| serde_json::to_vec(&v).unwrap();
        let start = body(json!({
            "CallbackCommand": "Call.CallbackAfterStartCall",
            "CallInfo": {"CallId": "c", "CallMediaType": "Audio"},
            "UserList": [{"User_Account": 7, "Status": "Calling"}],
            "EventTime": 5
        }));
        let parsed = WebhookEvent::parse(&start).unwrap().unwrap();
        assert_eq!(
            parsed,
            serde_json::from_slice::<WebhookEvent>(&start).unwrap()
        );
        assert!(
            WebhookEvent::parse(&body(json!({"CallbackCommand": "Call.X"})))
                .unwrap()
                .is_none()
        );
        for bad in [&b"[]"[..], b"{}", b"nope", br#"{"CallbackCommand": 3}"#] {
            assert!(matches!(
                WebhookEvent::parse(bad),
                Err(WebhookParseError::NoCommand)
            ));
        }
        let wrong = body(json!({"CallbackCommand": "Call.CallbackAfterEndCall", "EventTime": 1}));
        let err = WebhookEvent::parse(&wrong).unwrap_err().to_string();
        assert!(
            err.contains("Call.CallbackAfterEndCall") && err.contains("CallRecord"),
            "{err}"
        );
    }

    #[test]
    fn accessors_follow_the_variant() {
        let ev: WebhookEvent = serde_json::from_value(json!({
            "CallbackCommand": "Call.CallbackAfterMemberChanged",
            "CallId": "c-9",
            "ChangedUserList": [{"User_Account": 42, "ActionType": "Hang Up"}],
            "EventTime": 1740464128807u64
        }))
        .unwrap();
        assert_eq!(ev.command(), CallbackCommand::AfterMemberChanged);
        assert_eq!(ev.call_id(), "c-9");
        assert_eq!(ev.event_time(), 1740464128807);
        let WebhookEvent::AfterMemberChanged(inner) = &ev else {
            panic!("wrong variant");
        };
        assert_eq!(inner.changed_user_list[0].user_account, "42");
        assert_eq!(inner.changed_user_list[0].action_type, MemberAction::Hangup);
        assert!(inner.user_list.is_empty());
    }

    #[test]
    fn ack_is_the_documented_body() {
        assert_eq!(
            serde_json::to_value(WebhookAck::ok()).unwrap(),
            json!({"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0})
        );
    }
}

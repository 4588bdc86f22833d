//! One encoded v4 answer: the envelope (plus `Response`) and its ErrorCode.

use callkit_core::envelope::{encode_reply, Envelope};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: i64,
    pub body: Vec<u8>,
}

/// A refusal before or during a command: code and `ErrorInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: i64,
    pub info: String,
}

impl Refusal {
    pub fn new(code: i64, info: impl Into<String>) -> Self {
        Self {
            code,
            info: info.into(),
        }
    }
}

impl Answer {
    pub fn ok<T: Serialize>(request_id: &str, response: Option<&T>) -> Self {
        Self {
            code: 0,
            body: encode_reply(&Envelope::ok(request_id), response),
        }
    }

    pub fn empty_ok(request_id: &str) -> Self {
        Self::ok::<()>(request_id, None)
    }

    pub fn fail(refusal: Refusal, request_id: &str) -> Self {
        Self {
            code: refusal.code,
            body: encode_reply::<()>(
                &Envelope::fail(refusal.code, refusal.info, request_id),
                None,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_envelope_has_no_response() {
        let a = Answer::fail(Refusal::new(60010, "admin required"), "Id-x");
        let v: serde_json::Value = serde_json::from_slice(&a.body).expect("json");
        assert_eq!(v["ActionStatus"], "FAIL");
        assert_eq!(v["ErrorCode"], 60010);
        assert_eq!(v["ErrorInfo"], "admin required");
        assert_eq!(v["RequestId"], "Id-x");
        assert!(v.get("Response").is_none());
    }

    #[test]
    fn ok_envelope_carries_response() {
        let a = Answer::ok("Id-y", Some(&serde_json::json!({"A": 1})));
        let v: serde_json::Value = serde_json::from_slice(&a.body).expect("json");
        assert_eq!(
            (v["ErrorCode"].as_i64(), v["ActionStatus"].as_str()),
            (Some(0), Some("OK"))
        );
        assert_eq!(v["Response"]["A"], 1);
        assert_eq!(a.code, 0);
    }
}

//! The Chat-style reply envelope (`ActionStatus/ErrorInfo/ErrorCode/RequestId`)
//! with its optional `Response` object: parsing for the client, encoding for the emulator.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// How a command's `Response` object is read, and what to use when it is absent.
pub trait ResponseBody: DeserializeOwned {
    /// The value for a reply without `Response`; `None` makes that reply malformed.
    fn absent() -> Option<Self> {
        None
    }
}

/// The data of envelope-only commands (`end_call`, `set_callback`, `delete_callback`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoContent {}

impl ResponseBody for NoContent {
    fn absent() -> Option<Self> {
        Some(NoContent {})
    }
}

/// For commands documented both with and without `Response`.
impl<T: DeserializeOwned> ResponseBody for Option<T> {
    fn absent() -> Option<Self> {
        Some(None)
    }
}

pub const ACTION_OK: &str = "OK";
pub const ACTION_FAIL: &str = "FAIL";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "ActionStatus")]
    pub action_status: String,
    // Lenient: a reply without ErrorInfo is still understood.
    #[serde(rename = "ErrorInfo", default)]
    pub error_info: String,
    #[serde(rename = "ErrorCode")]
    pub error_code: i64,
    // Absent in webhook acknowledgements.
    #[serde(rename = "RequestId", default)]
    pub request_id: String,
}

impl Envelope {
    pub fn ok(request_id: impl Into<String>) -> Self {
        Envelope {
            action_status: ACTION_OK.to_owned(),
            error_info: String::new(),
            error_code: 0,
            request_id: request_id.into(),
        }
    }

    pub fn fail(code: i64, info: impl Into<String>, request_id: impl Into<String>) -> Self {
        Envelope {
            action_status: ACTION_FAIL.to_owned(),
            error_info: info.into(),
            error_code: code,
            request_id: request_id.into(),
        }
    }

    /// Success needs both `ErrorCode: 0` and an `ActionStatus` other than `FAIL`.
    pub fn is_ok(&self) -> bool {
        self.error_code == 0 && self.action_status != ACTION_FAIL
    }
}

/// Wire form for encoding: borrows the envelope, so nothing is copied.
#[derive(Serialize)]
struct ReplyOut<'a, T> {
    #[serde(rename = "ActionStatus")]
    action_status: &'a str,
    #[serde(rename = "ErrorInfo")]
    error_info: &'a str,
    #[serde(rename = "ErrorCode")]
    error_code: i64,
    #[serde(rename = "RequestId")]
    request_id: &'a str,
    #[serde(rename = "Response", skip_serializing_if = "Option::is_none")]
    response: Option<&'a T>,
}

/// Serialize an envelope with an optional `Response` object (used by the emulator).
pub fn encode_reply<T: Serialize>(envelope: &Envelope, response: Option<&T>) -> Vec<u8> {
    let out = ReplyOut {
        action_status: &envelope.action_status,
        error_info: &envelope.error_info,
        error_code: envelope.error_code,
        request_id: &envelope.request_id,
        response,
    };
    // Cannot fail for derived models; fall back to the bare envelope.
    serde_json::to_vec(&out)
        .unwrap_or_else(|_| serde_json::to_vec(envelope).unwrap_or_else(|_| b"{}".to_vec()))
}

/// A successful reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    pub request_id: String,
    pub data: T,
}

/// An error reported by the upstream inside the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub code: i64,
    pub info: String,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Any status other than 200 (e.g. an HTML 502 page from a proxy).
    #[error("upstream answered HTTP {status}")]
    HttpStatus { status: u16 },
    #[error("upstream answered 200 with an empty body")]
    Empty,
    /// Non-JSON, truncated, missing envelope fields, or a wrong `Response` shape.
    #[error("malformed upstream reply: {detail}")]
    Malformed { detail: String },
    #[error("upstream error {} ({}), request {}", .0.code, .0.info, .0.request_id)]
    Api(ApiFailure),
}

/// Wire form for decoding: the envelope fields plus the command's `Response`,
/// inline rather than `flatten`ed so the body is read in one pass without buffering.
#[derive(Deserialize)]
struct ReplyIn<T> {
    #[serde(rename = "ActionStatus")]
    action_status: String,
    #[serde(rename = "ErrorInfo", default)]
    error_info: String,
    #[serde(rename = "ErrorCode")]
    error_code: i64,
    #[serde(rename = "RequestId", default)]
    request_id: String,
    #[serde(rename = "Response")]
    response: Option<T>,
}

/// Turn an HTTP exchange into a typed reply or a typed error; never panics.
pub fn parse_reply<T: ResponseBody>(status: u16, body: &[u8]) -> Result<Reply<T>, EnvelopeError> {
    if status != 200 {
        return Err(EnvelopeError::HttpStatus { status });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(EnvelopeError::Empty);
    }
    let parsed: ReplyIn<T> = match serde_json::from_slice(body) {
        Ok(parsed) => parsed,
        Err(typed_err) => {
            // A FAIL envelope may carry an odd `Response`; the failure still wins.
            return match serde_json::from_slice::<Envelope>(body) {
                Ok(envelope) if !envelope.is_ok() => Err(api_failure(envelope)),
                _ => Err(malformed(&typed_err)),
            };
        }
    };
    let envelope = Envelope {
        action_status: parsed.action_status,
        error_info: parsed.error_info,
        error_code: parsed.error_code,
        request_id: parsed.request_id,
    };
    if !envelope.is_ok() {
        return Err(api_failure(envelope));
    }
    let data = match parsed.response {
        Some(data) => data,
        None => T::absent().ok_or_else(|| EnvelopeError::Malformed {
            detail: "missing Response object".to_owned(),
        })?,
    };
    Ok(Reply {
        request_id: envelope.request_id,
        data,
    })
}

fn api_failure(envelope: Envelope) -> EnvelopeError {
    EnvelopeError::Api(ApiFailure {
        code: envelope.error_code,
        info: envelope.error_info,
        request_id: envelope.request_id,
    })
}

/// A description built from the error's category and position only: serde's
/// own messages can quote values from the body.
fn malformed(err: &serde_json::Error) -> EnvelopeError {
    use serde_json::error::Category;
    let what = match err.classify() {
        Category::Eof => "truncated JSON".to_owned(),
        Category::Syntax => "invalid JSON".to_owned(),
        Category::Io => "unreadable body".to_owned(),
        Category::Data => {
            let msg = err.to_string();
            // "missing field `X`" names our own field, never body content.
            match msg.strip_prefix("missing field `") {
                Some(rest) => match rest.split_once('`') {
                    Some((field, _)) => format!("missing field {field}"),
                    None => "unexpected JSON shape".to_owned(),
                },
                None => "unexpected JSON shape".to_owned(),
            }
        }
    };
    EnvelopeError::Malformed {
        detail: format!("{what} at line {} column {}", err.line(), err.column()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{GetCallInfoResponse, StartCallByRobotResponse};

    const RID: &str = "Id-431454f25a44462d8155bdff4fed38cc-O-Seq-19029769";

    fn malformed_detail<T: ResponseBody + std::fmt::Debug>(body: &[u8]) -> String {
        match parse_reply::<T>(200, body) {
            Err(EnvelopeError::Malformed { detail }) => detail,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn html_502_is_http_status() {
        let body = b"<html><head><title>502 Bad Gateway</title></head></html>";
        assert_eq!(
            parse_reply::<NoContent>(502, body),
            Err(EnvelopeError::HttpStatus { status: 502 })
        );
    }

    #[test]
    fn html_with_200_is_malformed_without_echo() {
        let body = b"<html>usersig=SECRETSIG</html>";
        let detail = malformed_detail::<NoContent>(body);
        assert_eq!(detail, "invalid JSON at line 1 column 1");
    }

    #[test]
    fn empty_body_is_empty() {
        assert_eq!(
            parse_reply::<NoContent>(200, b""),
            Err(EnvelopeError::Empty)
        );
        assert_eq!(
            parse_reply::<NoContent>(200, b" \r\n"),
            Err(EnvelopeError::Empty)
        );
    }

    #[test]
    fn truncated_body_is_malformed() {
        let body = br#"{"ErrorCode": 0, "ErrorInfo": "", "ActionStatus": "OK", "Request"#;
        let detail = malformed_detail::<NoContent>(body);
        assert!(detail.starts_with("truncated JSON"), "{detail}");
    }

    #[test]
    fn missing_envelope_fields_are_malformed() {
        let detail = malformed_detail::<NoContent>(br#"{"hello": "world"}"#);
        assert!(detail.starts_with("missing field "), "{detail}");
        assert!(!detail.contains("world"));
    }

    #[test]
    fn wrong_types_never_echo_values() {
        let body = br#"{"ErrorCode": "SECRETSIG", "ErrorInfo": "", "ActionStatus": "OK"}"#;
        let detail = malformed_detail::<NoContent>(body);
        assert!(detail.starts_with("unexpected JSON shape"), "{detail}");
        assert!(!detail.contains("SECRETSIG"));
    }

    #[test]
    fn fail_envelope_is_api_failure() {
        let body = br#"{"ActionStatus":"FAIL","ErrorInfo":"call not exist","ErrorCode":101004,"RequestId":"Id-1-O-Seq-2"}"#;
        assert_eq!(
            parse_reply::<GetCallInfoResponse>(200, body),
            Err(EnvelopeError::Api(ApiFailure {
                code: 101004,
                info: "call not exist".into(),
                request_id: "Id-1-O-Seq-2".into(),
            }))
        );
    }

    #[test]
    fn fail_status_with_zero_code_and_odd_response_still_fails() {
        let body = br#"{"ActionStatus":"FAIL","ErrorInfo":"x","ErrorCode":0,"Response":42}"#;
        let err = parse_reply::<GetCallInfoResponse>(200, body).unwrap_err();
        assert!(matches!(
            err,
            EnvelopeError::Api(ApiFailure { code: 0, .. })
        ));
    }

    #[test]
    fn missing_response_for_get_call_info_is_malformed() {
        let body =
            format!(r#"{{"ErrorCode":0,"ErrorInfo":"","ActionStatus":"OK","RequestId":"{RID}"}}"#);
        let detail = malformed_detail::<GetCallInfoResponse>(body.as_bytes());
        assert_eq!(detail, "missing Response object");
    }

    #[test]
    fn wrong_response_shape_is_malformed() {
        let body =
            br#"{"ErrorCode":0,"ErrorInfo":"","ActionStatus":"OK","Response":{"UserList":[]}}"#;
        let detail = malformed_detail::<GetCallInfoResponse>(body);
        assert!(detail.starts_with("missing field CallInfo"), "{detail}");
    }

    #[test]
    fn absent_response_for_start_call_by_robot_is_none() {
        let body =
            format!(r#"{{"ErrorCode":0,"ErrorInfo":"","ActionStatus":"OK","RequestId":"{RID}"}}"#);
        let reply = parse_reply::<Option<StartCallByRobotResponse>>(200, body.as_bytes()).unwrap();
        assert_eq!(
            reply,
            Reply {
                request_id: RID.into(),
                data: None
            }
        );
    }

    #[test]
    fn envelope_only_reply_gives_no_content() {
        let body =
            format!(r#"{{"ErrorCode":0,"ErrorInfo":"","ActionStatus":"OK","RequestId":"{RID}"}}"#);
        let reply = parse_reply::<NoContent>(200, body.as_bytes()).unwrap();
        assert_eq!(reply.request_id, RID);
        assert_eq!(reply.data, NoContent {});
    }

    #[test]
    fn encode_reply_with_and_without_response() {
        let bytes = encode_reply::<NoContent>(&Envelope::ok(RID), None);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RequestId":RID})
        );
        let bytes = encode_reply(
            &Envelope::fail(60007, "slow down", "r"),
            Some(&NoContent {}),
        );
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"ActionStatus":"FAIL","ErrorInfo":"slow down","ErrorCode":60007,"RequestId":"r","Response":{}})
        );
    }

    #[test]
    fn encoded_fail_parses_back_as_api_failure() {
        let bytes = encode_reply::<NoContent>(&Envelope::fail(70001, "expired", "Id-9"), None);
        let err = parse_reply::<NoContent>(200, &bytes).unwrap_err();
        assert_eq!(
            err,
            EnvelopeError::Api(ApiFailure {
                code: 70001,
                info: "expired".into(),
                request_id: "Id-9".into()
            })
        );
    }
}

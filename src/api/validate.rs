//! Input checks shared by the routes: JSON bodies, CallIds, record filters.

use serde::de::DeserializeOwned;

use super::problem::ApiError;

pub const MAX_BODY_BYTES: usize = 16 * 1024;
const MAX_CALL_ID_LEN: usize = 128;
pub const RECORD_WINDOW_SECS: u64 = 7 * 86_400;
pub const MAX_PER_PAGE: u32 = 100;
pub const DEFAULT_PER_PAGE: u32 = 20;

/// Checks the content type and size, then parses into `T`, whose
/// `deny_unknown_fields` turns a stray field into an error naming it.
/// An empty body (no bytes at all) counts as `{}` for routes whose fields are
/// all optional; whitespace alone is not JSON.
pub fn json_body<T: DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<T, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let body = if body.is_empty() { &b"{}"[..] } else { body };
    if body != b"{}" && !is_json(content_type) {
        return Err(ApiError::UnsupportedMediaType);
    }
    // serde would also fill a struct from an array (`["bot1", …]`), a shape
    // the OpenAPI document does not allow: every body is an object. Text that
    // is not JSON at all stays `invalid_json`.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => ApiError::bad_request("invalid_body", "The body must be a JSON object."),
                Err(e) => json_error(&e),
            },
        );
    }
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn json_error(e: &serde_json::Error) -> ApiError {
    let message = e.to_string();
    if let Some(field) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        return ApiError::bad_request("unknown_field", format!("Unknown field `{field}`."));
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        return ApiError::bad_request("missing_field", format!("Field `{field}` is required."));
    }
    match e.classify() {
        serde_json::error::Category::Data => {
            // serde's text names the expected type and the position, which
            // is what a caller needs to fix the field.
            ApiError::bad_request("invalid_field", format!("Invalid field value: {message}."))
        }
        _ => ApiError::bad_request("invalid_json", "The body is not valid JSON."),
    }
}

/// CallIds are UUIDs upstream; accept the URL-safe characters they use.
/// A CallId that passed the check: 1-128 of A-Z a-z 0-9 - _ . (the edge's
/// own rule; Tencent's are UUIDs, and anything else never reaches it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallId(String);

impl CallId {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_CALL_ID_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ApiError::bad_request(
                "invalid_call_id",
                format!("A CallId is 1-{MAX_CALL_ID_LEN} characters of A-Z a-z 0-9 - _ ."),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `GET /api/v1/records` query, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFilter {
    pub start: u64,
    pub end: u64,
    pub result: Option<callkit_core::models::CallResult>,
    pub call_type: Option<callkit_core::models::CallType>,
    pub page: u32,
    pub per_page: u32,
}

impl RecordFilter {
    /// `start` after `end`: no record can match, so Tencent is not asked.
    pub fn is_empty(&self) -> bool {
        self.start > self.end
    }
}

/// Like Tencent, a `start` older than the 7-day window is raised to it, and
/// nothing lies after now: every time the schema allows is an answer.
pub fn record_filter(query: &[(String, String)], now: u64) -> Result<RecordFilter, ApiError> {
    let bad = |detail: String| ApiError::bad_request("invalid_filter", detail);
    let window_start = now.saturating_sub(RECORD_WINDOW_SECS);
    let mut filter = RecordFilter {
        start: window_start,
        end: now,
        result: None,
        call_type: None,
        page: 1,
        per_page: DEFAULT_PER_PAGE,
    };
    for (key, value) in query {
        match key.as_str() {
            "start" => filter.start = parse_secs(key, value).map_err(bad)?,
            "end" => filter.end = parse_secs(key, value).map_err(bad)?,
            "page" => filter.page = parse_num(key, value).map_err(bad)?,
            "perPage" => filter.per_page = parse_num(key, value).map_err(bad)?,
            "result" => {
                filter.result = Some(enum_value(value).map_err(|_| {
                    bad("`result` must be one of Cancel, Reject, NotAnswer, NormalEnd, CallBusy, Interrupt, Offline.".into())
                })?)
            }
            "type" => {
                filter.call_type = Some(enum_value(value).map_err(|_| {
                    bad("`type` must be SingleCall or MultiCall.".into())
                })?)
            }
            other => return Err(bad(format!("Unknown query parameter `{other}`."))),
        }
    }
    filter.start = filter.start.max(window_start);
    filter.end = filter.end.min(now);
    if filter.page == 0 {
        return Err(bad("`page` starts at 1.".into()));
    }
    if !(1..=MAX_PER_PAGE).contains(&filter.per_page) {
        return Err(bad(format!(
            "`perPage` must be between 1 and {MAX_PER_PAGE}."
        )));
    }
    Ok(filter)
}

fn parse_num<N: std::str::FromStr>(key: &str, value: &str) -> Result<N, String> {
    value
        .parse()
        .map_err(|_| format!("`{key}` must be a whole number."))
}

/// Unix seconds, as the schema states them: 0 to `u32::MAX`.
fn parse_secs(key: &str, value: &str) -> Result<u64, String> {
    value.parse::<u32>().map(u64::from).map_err(|_| {
        format!(
            "`{key}` must be a whole number of unix seconds, 0 to {}.",
            u32::MAX
        )
    })
}

fn enum_value<T: DeserializeOwned>(value: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pairs_of as q;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Body {
        url: String,
        #[serde(default)]
        commands: Vec<String>,
    }

    fn code(e: ApiError) -> String {
        e.to_problem().code
    }

    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    #[test]
    fn body_checks() {
        let ok: Body = json_body(JSON, br#"{"url":"https://x"}"#).unwrap();
        assert_eq!(ok.url, "https://x");
        assert_eq!(
            code(json_body::<Body>(JSON, br#"{"url":"x","extra":1}"#).unwrap_err()),
            "unknown_field"
        );
        let e = json_body::<Body>(JSON, br#"{"url":"x","extra":1}"#)
            .unwrap_err()
            .to_problem();
        assert!(e.detail.contains("`extra`"));
        assert_eq!(
            code(json_body::<Body>(JSON, br#"{"url":"#).unwrap_err()),
            "invalid_json"
        );
        assert_eq!(
            code(json_body::<Body>(JSON, b"{}").unwrap_err()),
            "missing_field"
        );
        assert_eq!(
            code(json_body::<Body>(JSON, br#"{"url":5}"#).unwrap_err()),
            "invalid_field"
        );
        assert_eq!(
            code(json_body::<Body>(Some("text/plain"), br#"{"url":"x"}"#).unwrap_err()),
            "unsupported_media_type"
        );
        assert_eq!(
            code(json_body::<Body>(None, br#"{"url":"x"}"#).unwrap_err()),
            "unsupported_media_type"
        );
        assert_eq!(
            code(json_body::<Body>(JSON, b"not json").unwrap_err()),
            "invalid_json"
        );
        for not_an_object in [&br#"["https://x",[]]"#[..], b"5", b"null", br#""x""#] {
            assert_eq!(
                code(json_body::<Body>(JSON, not_an_object).unwrap_err()),
                "invalid_body"
            );
        }
        assert_eq!(
            code(json_body::<Body>(None, b"").unwrap_err()),
            "missing_field"
        );
        for blank in [&b"\n"[..], b"  ", b"\r\n\t"] {
            assert_eq!(
                code(json_body::<Body>(JSON, blank).unwrap_err()),
                "invalid_json"
            );
        }
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            code(json_body::<Body>(JSON, &big).unwrap_err()),
            "body_too_large"
        );
    }

    #[test]
    fn call_ids() {
        assert!(CallId::parse("055662e1-bc8a-469c-a334-1126c8c17d58").is_ok());
        for bad in ["", "a b", "../x", "a?b", &"x".repeat(129), "ünï"] {
            assert_eq!(
                code(CallId::parse(bad).unwrap_err()),
                "invalid_call_id",
                "{bad}"
            );
        }
    }

    #[test]
    fn filters() {
        let now = 1_800_000_000;
        let f = record_filter(&[], now).unwrap();
        assert_eq!(
            (f.start, f.end, f.page, f.per_page),
            (now - RECORD_WINDOW_SECS, now, 1, 20)
        );
        let f = record_filter(
            &q(&[
                ("result", "NormalEnd"),
                ("type", "SingleCall"),
                ("page", "3"),
                ("perPage", "100"),
            ]),
            now,
        )
        .unwrap();
        assert_eq!((f.page, f.per_page), (3, 100));
        assert!(f.result.is_some() && f.call_type.is_some());
        for bad in [
            q(&[("page", "0")]),
            q(&[("perPage", "0")]),
            q(&[("perPage", "101")]),
            q(&[("page", "-1")]),
            q(&[("result", "Nope")]),
            q(&[("type", "Group")]),
            q(&[("sort", "asc")]),
            q(&[("start", "-1")]),
            q(&[("start", &(u64::from(u32::MAX) + 1).to_string())]),
            q(&[("end", "1.5")]),
        ] {
            assert_eq!(
                code(record_filter(&bad, now).unwrap_err()),
                "invalid_filter",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn times_outside_the_window_are_clamped_to_it() {
        let now = 1_800_000_000;
        let range = |start: u64, end: u64| {
            let query = q(&[("start", &start.to_string()), ("end", &end.to_string())]);
            record_filter(&query, now).unwrap()
        };
        let f = range(0, u64::from(u32::MAX));
        assert_eq!(
            (f.start, f.end, f.is_empty()),
            (now - RECORD_WINDOW_SECS, now, false)
        );
        assert!(range(0, 0).is_empty(), "a range wholly before the window");
        assert!(range(now - 10, now - 20).is_empty(), "start after end");
        let f = range(now - 20, now - 20);
        assert_eq!((f.start, f.end, f.is_empty()), (now - 20, now - 20, false));
    }
}

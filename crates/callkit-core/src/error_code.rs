//! The catalogue of documented upstream error codes and what a client should do about each.

use RetryClass::*;

/// What a failure with a given code calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// Retry: 60008, 100001, 101001.
    Transient,
    /// Retry with backoff: 60007, 60011, 60018, 60019.
    RateLimited,
    /// Admin UserSig problems.
    Credential,
    /// The operator must fix settings.
    Configuration,
    /// The request itself is wrong.
    InvalidRequest,
    /// The call, record or callback configuration does not exist.
    NotFound,
    /// Not in the catalogue; not retried.
    Unknown,
}

impl RetryClass {
    pub fn is_retryable(self) -> bool {
        matches!(self, RetryClass::Transient | RetryClass::RateLimited)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCodeInfo {
    pub code: i64,
    /// Stable snake_case name, safe to expose as an API error code.
    pub name: &'static str,
    pub meaning: &'static str,
    pub class: RetryClass,
}

const fn info(
    code: i64,
    name: &'static str,
    meaning: &'static str,
    class: RetryClass,
) -> ErrorCodeInfo {
    ErrorCodeInfo {
        code,
        name,
        meaning,
        class,
    }
}

/// Every documented v4 code, sorted by code (lookup is a binary search).
#[rustfmt::skip]
pub const CATALOGUE: &[ErrorCodeInfo] = &[
    info(60002, "http_parse_error", "HTTP parse error; check the request URL format", InvalidRequest),
    info(60003, "json_parse_error", "JSON parse error in the request body", InvalidRequest),
    info(60004, "account_or_signature_error", "account or signature error in the URL or body", Credential),
    info(60005, "account_or_signature_invalid", "account or signature error in the URL or body", Credential),
    info(60006, "sdkappid_invalid", "SDKAppID invalid", Configuration),
    info(60007, "rate_limited", "REST call frequency over the limit", RateLimited),
    info(60008, "service_timeout", "service timeout or bad HTTP request format; retry", Transient),
    info(60009, "bad_request_resource", "request resource error; check the URL", InvalidRequest),
    info(60010, "admin_required", "the request needs App administrator permission", Configuration),
    info(60011, "app_rate_limited", "SDKAppID-level request frequency over the limit", RateLimited),
    info(60012, "sdkappid_missing", "sdkappid missing from the URL", InvalidRequest),
    info(60013, "response_json_parse_error", "JSON parse error in the HTTP response", InvalidRequest),
    info(60014, "account_exchange_timeout", "account exchange timed out", Configuration),
    info(60015, "account_type_invalid", "wrong account type in the body; accounts must be strings", InvalidRequest),
    info(60016, "sdkappid_disabled", "SDKAppID disabled", Configuration),
    info(60017, "request_disabled", "request disabled", Configuration),
    info(60018, "too_frequent", "too frequent; retry later", RateLimited),
    info(60019, "too_frequent_retry_later", "too frequent; retry later", RateLimited),
    info(60020, "package_expired", "Pro package expired and disabled", Configuration),
    info(60021, "source_ip_forbidden", "calling source IP not allowed", Configuration),
    info(70001, "usersig_expired", "UserSig expired; regenerate it", Credential),
    info(70003, "usersig_unparseable", "UserSig could not be parsed", Credential),
    info(70009, "usersig_verification_failed", "UserSig verification failed; wrong key or SDKAppID", Credential),
    info(70013, "usersig_identifier_mismatch", "the UserID in the request differs from the one in the UserSig", Credential),
    info(70014, "usersig_sdkappid_mismatch", "the SDKAppID in the request differs from the one in the UserSig", Credential),
    info(70016, "key_not_found", "key not found; check the SDKAppID matches the data centre", Configuration),
    info(70020, "sdkappid_not_found", "SDKAppID not found; check it matches the data centre", Configuration),
    info(70050, "usersig_retry_limited", "verification failed and the retry rate was exceeded; retry after 1 minute", Credential),
    info(70051, "account_blocklisted", "account is blocklisted", Configuration),
    info(70107, "account_not_imported", "account not imported into Chat", Configuration),
    info(100001, "config_internal_error", "server internal error; retry", Transient),
    info(100002, "config_invalid_parameter", "invalid parameter", InvalidRequest),
    info(100301, "callback_not_configured", "callback configuration does not exist", NotFound),
    info(101001, "internal_error", "internal server error; retry", Transient),
    info(101002, "invalid_parameter", "invalid parameter", InvalidRequest),
    info(101004, "call_not_found", "the call does not exist or has already ended", NotFound),
    info(101050, "record_not_found", "call record does not exist", NotFound),
];

pub fn lookup(code: i64) -> Option<&'static ErrorCodeInfo> {
    CATALOGUE
        .binary_search_by_key(&code, |i| i.code)
        .ok()
        .and_then(|index| CATALOGUE.get(index))
}

/// [`RetryClass::Unknown`] when not catalogued.
pub fn class_of(code: i64) -> RetryClass {
    lookup(code).map_or(RetryClass::Unknown, |i| i.class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn class_of_every_catalogued_code() {
        let expected: &[(RetryClass, &[i64])] = &[
            (Transient, &[60008, 100001, 101001]),
            (RateLimited, &[60007, 60011, 60018, 60019]),
            (
                Credential,
                &[60004, 60005, 70001, 70003, 70009, 70013, 70014, 70050],
            ),
            (
                Configuration,
                &[
                    60006, 60010, 60016, 60017, 60020, 60021, 60014, 70016, 70020, 70051, 70107,
                ],
            ),
            (
                InvalidRequest,
                &[60002, 60003, 60009, 60012, 60013, 60015, 100002, 101002],
            ),
            (NotFound, &[101004, 101050, 100301]),
        ];
        let mut seen = HashSet::new();
        for (class, codes) in expected {
            for &code in *codes {
                assert_eq!(class_of(code), *class, "{code}");
                assert!(seen.insert(code), "{code} listed twice");
            }
        }
        assert_eq!(seen.len(), CATALOGUE.len());
    }

    #[test]
    fn catalogue_covers_the_documented_ranges() {
        for code in 60002..=60021 {
            assert!(lookup(code).is_some(), "{code}");
        }
        for code in [
            70001, 70003, 70009, 70013, 70014, 70016, 70020, 70050, 70051, 70107,
        ] {
            assert!(lookup(code).is_some(), "{code}");
        }
        for code in [100001, 100002, 100301, 101001, 101002, 101004, 101050] {
            assert!(lookup(code).is_some(), "{code}");
        }
    }

    #[test]
    fn catalogue_is_sorted_with_unique_snake_case_names() {
        assert!(CATALOGUE.windows(2).all(|w| w[0].code < w[1].code));
        let mut names = HashSet::new();
        for i in CATALOGUE {
            assert!(names.insert(i.name), "duplicate name {}", i.name);
            assert!(i
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
            assert!(!i.meaning.is_empty());
        }
        assert_eq!(lookup(60007).map(|i| i.name), Some("rate_limited"));
        assert_eq!(lookup(70001).map(|i| i.name), Some("usersig_expired"));
        assert_eq!(lookup(101004).map(|i| i.name), Some("call_not_found"));
    }

    #[test]
    fn unknown_codes() {
        for code in [
            0,
            -1,
            60000,
            60001,
            60022,
            70002,
            101003,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(lookup(code), None);
            assert_eq!(class_of(code), Unknown);
        }
    }

    #[test]
    fn only_transient_and_rate_limited_retry() {
        assert!(Transient.is_retryable());
        assert!(RateLimited.is_retryable());
        for c in [Credential, Configuration, InvalidRequest, NotFound, Unknown] {
            assert!(!c.is_retryable());
        }
    }
}

//! One failed attempt, and what it allows next: retry or not, standby or not,
//! whether the upstream may have acted on it.

use super::error::ClientError;
use super::transport::TransportError;
use crate::command::RetrySafety;
use crate::envelope::{ApiFailure, EnvelopeError};
use crate::error_code::{class_of, RetryClass};

/// The admin UserSig expired (or was rejected as such).
pub(crate) const USERSIG_EXPIRED: i64 = 70001;
/// The call does not exist or has already ended.
pub(crate) const CALL_NOT_FOUND: i64 = 101004;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttemptFailure {
    Timeout,
    Network(String),
    Http(u16),
    Malformed(String),
    Api {
        code: i64,
        info: String,
        request_id: String,
        class: RetryClass,
    },
}

impl AttemptFailure {
    pub(crate) fn from_transport(error: TransportError) -> Self {
        match error {
            TransportError::Timeout => Self::Timeout,
            TransportError::Network(detail) => Self::Network(detail),
            // The upstream answered, with something no envelope can be.
            TransportError::TooLarge { limit } => {
                Self::Malformed(format!("response body larger than {limit} bytes"))
            }
        }
    }

    pub(crate) fn from_envelope(error: EnvelopeError) -> Self {
        match error {
            EnvelopeError::HttpStatus { status } => Self::Http(status),
            EnvelopeError::Empty => Self::Malformed("empty response body".to_owned()),
            EnvelopeError::Malformed { detail } => Self::Malformed(detail),
            EnvelopeError::Api(ApiFailure {
                code,
                info,
                request_id,
            }) => Self::Api {
                code,
                info,
                request_id,
                class: class_of(code),
            },
        }
    }

    pub(crate) fn api_code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The request may have reached the upstream and taken effect: we never
    /// saw its answer.
    pub(crate) fn outcome_unknown(&self) -> bool {
        match self {
            Self::Timeout | Self::Network(_) => true,
            // A 5xx may come from a proxy after the upstream acted; a 4xx
            // from a proxy means the request went no further.
            Self::Http(status) => *status >= 500,
            _ => false,
        }
    }

    /// The host itself looks unreachable, so the standby is worth a try.
    pub(crate) fn suggests_failover(&self) -> bool {
        matches!(self, Self::Timeout | Self::Network(_))
    }

    /// May the same request be sent again after this failure?
    pub(crate) fn is_retryable(&self, safety: RetrySafety) -> bool {
        match safety {
            RetrySafety::Idempotent | RetrySafety::EndCall => match self {
                Self::Timeout | Self::Network(_) => true,
                Self::Http(status) => *status >= 500 || *status == 429,
                Self::Malformed(_) => false,
                Self::Api { class, .. } => class.is_retryable(),
            },
            // Only when the upstream proved it did nothing: it refused on rate.
            RetrySafety::Never => matches!(
                self,
                Self::Api {
                    class: RetryClass::RateLimited,
                    ..
                }
            ),
        }
    }

    /// The error to return when no attempt follows. `scrub` masks credentials
    /// in text that came from outside.
    pub(crate) fn into_error(self, attempts: u32, scrub: impl Fn(&str) -> String) -> ClientError {
        match self {
            Self::Timeout => ClientError::Timeout { attempts },
            Self::Network(detail) => ClientError::Network {
                attempts,
                detail: scrub(&detail),
            },
            Self::Http(status) => ClientError::UpstreamHttp { status },
            Self::Malformed(detail) => ClientError::MalformedResponse {
                detail: scrub(&detail),
            },
            Self::Api {
                code,
                info,
                request_id,
                class,
            } => ClientError::Api {
                code,
                info: scrub(&info),
                request_id: scrub(&request_id),
                class,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(class: RetryClass) -> AttemptFailure {
        AttemptFailure::Api {
            code: 1,
            info: String::new(),
            request_id: String::new(),
            class,
        }
    }

    const ALL_CLASSES: [RetryClass; 7] = [
        RetryClass::Transient,
        RetryClass::RateLimited,
        RetryClass::Credential,
        RetryClass::Configuration,
        RetryClass::InvalidRequest,
        RetryClass::NotFound,
        RetryClass::Unknown,
    ];

    #[test]
    fn idempotent_commands_retry_transport_http_and_retryable_classes() {
        for safety in [RetrySafety::Idempotent, RetrySafety::EndCall] {
            assert!(AttemptFailure::Timeout.is_retryable(safety));
            assert!(AttemptFailure::Network("x".into()).is_retryable(safety));
            assert!(AttemptFailure::Http(502).is_retryable(safety));
            assert!(!AttemptFailure::Malformed("x".into()).is_retryable(safety));
            for class in ALL_CLASSES {
                assert_eq!(
                    api(class).is_retryable(safety),
                    class.is_retryable(),
                    "{class:?}"
                );
            }
        }
    }

    #[test]
    fn never_commands_retry_only_on_rate_limits() {
        let never = RetrySafety::Never;
        assert!(!AttemptFailure::Timeout.is_retryable(never));
        assert!(!AttemptFailure::Network("x".into()).is_retryable(never));
        assert!(!AttemptFailure::Http(502).is_retryable(never));
        for class in ALL_CLASSES {
            assert_eq!(
                api(class).is_retryable(never),
                class == RetryClass::RateLimited,
                "{class:?}"
            );
        }
    }

    #[test]
    fn unknown_outcome_and_failover() {
        assert!(AttemptFailure::Timeout.outcome_unknown());
        assert!(AttemptFailure::Http(503).outcome_unknown());
        assert!(!api(RetryClass::Transient).outcome_unknown());
        assert!(AttemptFailure::Network("x".into()).suggests_failover());
        assert!(!AttemptFailure::Http(502).suggests_failover());
        assert!(!api(RetryClass::Transient).suggests_failover());
    }

    #[test]
    fn envelope_errors_map_to_failures() {
        assert_eq!(
            AttemptFailure::from_envelope(EnvelopeError::HttpStatus { status: 502 }),
            AttemptFailure::Http(502)
        );
        assert!(matches!(
            AttemptFailure::from_envelope(EnvelopeError::Empty),
            AttemptFailure::Malformed(_)
        ));
        let api = AttemptFailure::from_envelope(EnvelopeError::Api(ApiFailure {
            code: 101002,
            info: "bad".into(),
            request_id: "Id-1".into(),
        }));
        assert_eq!(api.api_code(), Some(101002));
        assert!(matches!(api, AttemptFailure::Api { class, .. } if class == class_of(101002)));
    }

    #[test]
    fn into_error_scrubs_outside_text() {
        let err = AttemptFailure::Network("reset talking to SECRET".into())
            .into_error(2, |t| t.replace("SECRET", "[REDACTED]"));
        match err {
            ClientError::Network { attempts, detail } => {
                assert_eq!(attempts, 2);
                assert_eq!(detail, "reset talking to [REDACTED]");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            AttemptFailure::Timeout.into_error(3, str::to_owned),
            ClientError::Timeout { attempts: 3 }
        ));
    }
}

//! What a `Client` call can fail with. No variant carries an upstream URL,
//! a UserSig or the secret key.

use crate::error_code::RetryClass;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The last attempt timed out and there is nothing better to report.
    #[error("upstream timed out (after {attempts} attempt(s))")]
    Timeout { attempts: u32 },
    /// The whole-call deadline passed, or the next backoff would pass it.
    #[error("upstream deadline exceeded (after {attempts} attempt(s))")]
    DeadlineExceeded { attempts: u32 },
    /// Connection-level failure; `detail` comes from the transport, never a URL.
    #[error("upstream network error (after {attempts} attempt(s)): {detail}")]
    Network { attempts: u32, detail: String },
    /// A non-200 HTTP status, e.g. an HTML 502 page from a proxy.
    #[error("upstream answered HTTP {status}")]
    UpstreamHttp { status: u16 },
    /// A 200 whose body is not a valid envelope for the command.
    #[error("malformed upstream response: {detail}")]
    MalformedResponse { detail: String },
    /// The upstream answered with a non-zero `ErrorCode`.
    #[error("upstream error {code} ({class:?}): {info} [RequestId {request_id}]")]
    Api {
        code: i64,
        info: String,
        request_id: String,
        class: RetryClass,
    },
    /// The static admin UserSig expired; detected locally, nothing was sent.
    #[error("the admin UserSig expired at {expired_at} (unix seconds); issue a new one")]
    CredentialExpired { expired_at: u64 },
    /// The admin credential cannot be used (undecodable, wrong identifier or
    /// SDKAppID, empty key...). `reason` never contains the credential.
    #[error("the admin credential is invalid: {reason}")]
    CredentialInvalid { reason: String },
    /// The client configuration is unusable; found at start-up.
    #[error("invalid client configuration: {reason}")]
    InvalidConfig { reason: String },
}

impl ClientError {
    /// The upstream `ErrorCode`, when there is one.
    pub fn api_code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The upstream `RequestId`, when there is one (for support tickets).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api { request_id, .. } => Some(request_id),
            _ => None,
        }
    }
}

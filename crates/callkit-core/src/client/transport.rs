use std::time::Duration;

/// One HTTP exchange with the upstream. Implemented by the Worker's `fetch`
/// glue, by test fakes, and by anything else that can POST bytes.
///
/// The URL carries the admin UserSig in its query string, so implementations
/// must never put it into an error, a log line or a panic message.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// POST `body` (JSON) to `url`, giving up after `timeout`.
    async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError>;
}

/// Largest upstream body a transport reads; real envelopes are a few KiB
/// (a full page of 100 records is ~40 KiB).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// What came back, whatever the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A failure below HTTP. The detail is for logs and must not contain the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The attempt's timeout elapsed before a full response arrived.
    #[error("upstream attempt timed out")]
    Timeout,
    /// Connection refused, reset or dropped, DNS failure, TLS failure...
    #[error("network error: {0}")]
    Network(String),
    /// The body was larger than the transport's cap; reading stopped there.
    #[error("upstream response larger than {limit} bytes")]
    TooLarge { limit: usize },
}

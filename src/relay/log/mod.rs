//! The delivery log: a Durable Object (`RelayLog`, one per app) with its own
//! SQLite table of every delivery, its status, attempts, last answer and
//! latency, and the event itself so an admin can redeliver it. The consumer
//! and the API reach it through `LogStub` only.

mod object;
mod store;
mod stub;

pub use object::RelayLog;
pub use stub::{LogError, LogStub};

use serde::{Deserialize, Serialize};

/// The Durable Object binding in wrangler.toml.
pub const BINDING: &str = "RELAY_LOG";
/// One page of `GET /api/v1/relay/deliveries`.
pub const PAGE_SIZE: u32 = 50;
/// Rows kept; older ones go first.
pub const MAX_ROWS: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for its first attempt's answer.
    Pending,
    /// The last attempt failed; the queue tries again.
    Retrying,
    Delivered,
    /// Out of retries: in the dead-letter queue, redeliverable from here.
    Dead,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Retrying,
        Status::Delivered,
        Status::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Retrying => "retrying",
            Status::Delivered => "delivered",
            Status::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What the consumer may do with a job, as the log sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Begun {
    /// Deliver it: this is attempt number `attempts`.
    Deliver { attempts: u32 },
    /// Delivered before (a duplicate of the event, or the queue's own
    /// at-least-once): acknowledged without sending it again.
    Skip,
    /// Another attempt at it is still in flight: come back later.
    Busy,
}

/// An attempt claimed this long ago is in flight still (the delivery
/// timeout, and a margin); after that a consumer that died is assumed.
pub const IN_FLIGHT_MS: u64 = 15_000;

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: String,
    pub delivered: bool,
    /// The backend's HTTP status, when it answered.
    pub code: Option<u16>,
    /// `timeout` or `network` when it did not.
    pub error: Option<String>,
    pub latency_ms: u64,
}

/// One row of the log as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: String,
    pub url: String,
    pub source: String,
    pub status: String,
    pub attempts: u64,
    pub last_status: Option<u64>,
    pub last_error: Option<String>,
    pub latency_ms: Option<u64>,
    pub accepted_at: u64,
    pub updated_at: u64,
    pub delivered_at: Option<u64>,
}

/// Per URL: how many deliveries stand in each state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlSummary {
    pub url: String,
    pub pending: u64,
    pub retrying: u64,
    pub delivered: u64,
    pub dead: u64,
    pub last_attempt_at: u64,
}

impl UrlSummary {
    pub fn failing(&self) -> u64 {
        self.retrying + self.dead
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    /// Failing URLs first.
    pub urls: Vec<UrlSummary>,
    /// Newest first.
    pub deliveries: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// The filter of one page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub status: Option<Status>,
    pub url: Option<String>,
    /// `(accepted_at, id)` of the last row of the page before.
    pub after: Option<(u64, String)>,
}

/// `<accepted_at>.<id>`: opaque to the caller, checked when it comes back.
pub fn cursor(accepted_at: u64, id: &str) -> String {
    format!("{accepted_at}.{id}")
}

/// Times stay below 2^53: the SQL binding goes through a JavaScript number.
pub const MAX_TIME: u64 = (1 << 53) - 1;

pub fn parse_cursor(text: &str) -> Option<(u64, String)> {
    let (at, id) = text.split_once('.')?;
    let at = at.parse().ok().filter(|at| *at <= MAX_TIME)?;
    crate::relay::job::is_webhook_id(id).then(|| (at, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_cursors_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("failed"), None);
        let id = "msg_abcdefghijklmnopqrstuvwx";
        assert_eq!(parse_cursor(&cursor(17, id)), Some((17, id.to_owned())));
        for bad in [
            "",
            "17",
            "x.msg_abcdefghijklmnopqrstuvwx",
            "17.msg_short",
            "17.' OR 1=1",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}

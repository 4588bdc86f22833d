//! What was sent to which URL and how it went, for `GET /_emulator/webhooks`.

use parking_lot::Mutex;
use serde::Serialize;

/// The newest entries are kept; older ones fall off.
const MAX_ENTRIES: usize = 1000;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRecord {
    pub sdkappid: u64,
    /// Full URL, query included (it carries no credential: `Sign` is a hash).
    pub url: String,
    pub command: String,
    pub body: serde_json::Value,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why delivery failed, when it did.
    pub error: Option<String>,
    /// When it was sent, Unix ms.
    pub sent_at: u64,
}

#[derive(Debug, Default)]
pub struct WebhookLog {
    entries: Mutex<Vec<WebhookRecord>>,
}

impl WebhookLog {
    pub fn push(&self, record: WebhookRecord) {
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.remove(0);
        }
        entries.push(record);
    }

    pub fn snapshot(&self) -> Vec<WebhookRecord> {
        self.entries.lock().clone()
    }

    pub fn clear(&self) {
        self.entries.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u64) -> WebhookRecord {
        WebhookRecord {
            sdkappid: 1,
            url: format!("http://127.0.0.1/{n}"),
            command: "Call.CallbackAfterEndCall".into(),
            body: serde_json::json!({}),
            status: Some(200),
            error: None,
            sent_at: n,
        }
    }

    #[test]
    fn keeps_the_newest_and_clears() {
        let log = WebhookLog::default();
        for n in 0..(MAX_ENTRIES as u64 + 5) {
            log.push(record(n));
        }
        let all = log.snapshot();
        assert_eq!(all.len(), MAX_ENTRIES);
        assert_eq!(all[0].sent_at, 5);
        log.clear();
        assert!(log.snapshot().is_empty());
    }

    #[test]
    fn serializes_camel_case() {
        let v = serde_json::to_value(record(7)).expect("json");
        assert_eq!(v["sentAt"], 7);
        assert_eq!(v["status"], 200);
    }
}

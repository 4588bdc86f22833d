//! Call records never change once Tencent holds one, so a successful
//! `get_record_by_callid` answer is kept per client (per isolate) and given
//! again, saving the upstream round trip and a request of Tencent's 200/s.
//! Failures (101050 "not yet queryable" among them) are never kept. Entries
//! expire after the configured time, and the memory is bounded.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use crate::envelope::Reply;
use crate::models::GetRecordByCallIdResponse;

/// Bound on memory: a record is a few hundred bytes.
pub const MAX_ENTRIES: usize = 1024;

type Record = Reply<GetRecordByCallIdResponse>;

pub struct RecordMemo {
    ttl_ms: u64,
    /// CallId → the answer and when it was fetched (ms).
    entries: RefCell<HashMap<String, (Record, u64)>>,
}

impl RecordMemo {
    /// `None` for a zero `ttl`: off.
    pub fn new(ttl: Duration) -> Option<Self> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        (ttl_ms > 0).then(|| Self {
            ttl_ms,
            entries: RefCell::default(),
        })
    }

    pub fn get(&self, call_id: &str, now_ms: u64) -> Option<Record> {
        let entries = self.entries.borrow();
        let (record, at) = entries.get(call_id)?;
        (now_ms.saturating_sub(*at) < self.ttl_ms).then(|| record.clone())
    }

    pub fn put(&self, call_id: &str, record: &Record, now_ms: u64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl_ms;
            entries.retain(|_, (_, at)| now_ms.saturating_sub(*at) < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(call_id.to_owned(), (record.clone(), now_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> Record {
        Reply {
            request_id: format!("req-{id}"),
            data: serde_json::from_value(serde_json::json!({
                "CallRecord": {"CallId": id, "Caller_Account": "alice", "CalleeList_Account": ["bob"],
                    "StartTime": 1, "EndTime": 2, "AcceptTime": 0, "MediaType": "Audio",
                    "CallType": "SingleCall", "CallResult": "NormalEnd", "RoomId": "", "RoomIdType": 1}
            }))
            .unwrap(),
        }
    }

    #[test]
    fn off_when_zero_and_kept_until_the_ttl() {
        assert!(RecordMemo::new(Duration::ZERO).is_none());
        let memo = RecordMemo::new(Duration::from_secs(10)).unwrap();
        assert_eq!(memo.get("c-1", 0), None);
        memo.put("c-1", &record("c-1"), 1_000);
        assert_eq!(memo.get("c-1", 10_999), Some(record("c-1")));
        assert_eq!(memo.get("c-1", 11_000), None, "expired");
        assert_eq!(memo.get("c-2", 1_000), None);
    }

    #[test]
    fn memory_stays_bounded() {
        let memo = RecordMemo::new(Duration::from_secs(10)).unwrap();
        for i in 0..MAX_ENTRIES + 10 {
            memo.put(&format!("c-{i}"), &record("x"), 1_000);
        }
        assert!(memo.entries.borrow().len() <= MAX_ENTRIES);
        assert!(
            memo.get(&format!("c-{}", MAX_ENTRIES + 9), 1_000).is_some(),
            "the newest is kept"
        );
    }
}

//! Finished-call records: queryable after a delay, kept 7 days, filtered and
//! paged as `get_record_by_filter` documents (docs/tencent-callkit-v4.md §5.5).

use crate::error::EmulatorError;
use callkit_core::models::{CallRecord, GetRecordByFilter, GetRecordByFilterResponse};
use std::collections::HashMap;

pub const RETENTION_SECS: u64 = 7 * 24 * 3600;
pub const DEFAULT_PER_PAGE: u32 = 10;
/// Undocumented upstream; larger page sizes are lowered to this.
pub const MAX_PER_PAGE: u32 = 100;

#[derive(Debug, Clone)]
struct Stored {
    record: CallRecord,
    ready_at_ms: u64,
}

#[derive(Debug, Default)]
pub struct RecordStore {
    by_id: HashMap<String, Stored>,
}

fn retained(record: &CallRecord, now_secs: u64) -> bool {
    record.end_time.saturating_add(RETENTION_SECS) >= now_secs
}

impl RecordStore {
    /// Stores a record that becomes visible at `ready_at_ms`.
    pub fn insert(&mut self, record: CallRecord, ready_at_ms: u64) {
        self.by_id.insert(
            record.call_id.clone(),
            Stored {
                record,
                ready_at_ms,
            },
        );
    }

    /// The record if it is visible now and not older than 7 days.
    pub fn get(&self, call_id: &str, now_ms: u64) -> Option<&CallRecord> {
        let stored = self.by_id.get(call_id)?;
        (stored.ready_at_ms <= now_ms && retained(&stored.record, now_ms / 1000))
            .then_some(&stored.record)
    }

    /// Drops records past retention.
    pub fn purge(&mut self, now_secs: u64) {
        self.by_id.retain(|_, s| retained(&s.record, now_secs));
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Visible records whose `StartTime` lies in `[StartTime, EndTime]`,
    /// oldest first. `StartTime` defaults to, and is raised to at least,
    /// now − 7 days; `EndTime` defaults to now. Past the last page the answer
    /// is `Page: 0` with an empty list and the true `TotalNum`.
    pub fn filter(
        &self,
        query: &GetRecordByFilter,
        now_ms: u64,
    ) -> Result<GetRecordByFilterResponse, EmulatorError> {
        let now = now_ms / 1000;
        let floor = now.saturating_sub(RETENTION_SECS);
        let start = query.start_time.unwrap_or(floor).max(floor);
        let end = query.end_time.unwrap_or(now);
        if end < start {
            return Err(EmulatorError::BadRequest(
                "EndTime is earlier than StartTime (or than now - 7 days)".into(),
            ));
        }
        let per_page = query.number_per_page.unwrap_or(DEFAULT_PER_PAGE);
        if per_page == 0 {
            return Err(EmulatorError::BadRequest(
                "NumberPerPage must be at least 1".into(),
            ));
        }
        let per_page = per_page.min(MAX_PER_PAGE);
        let page = query.page.unwrap_or(1);
        if page == 0 {
            return Err(EmulatorError::BadRequest("Page must be at least 1".into()));
        }
        let mut hits: Vec<&CallRecord> = self
            .by_id
            .values()
            .filter(|s| s.ready_at_ms <= now_ms)
            .map(|s| &s.record)
            .filter(|r| r.start_time >= start && r.start_time <= end)
            .filter(|r| query.call_result.is_none_or(|want| r.call_result == want))
            .filter(|r| query.call_type.is_none_or(|want| r.call_type == want))
            .collect();
        hits.sort_by(|a, b| {
            (a.start_time, a.call_id.as_str()).cmp(&(b.start_time, b.call_id.as_str()))
        });
        let total = hits.len();
        let skip = (page as usize - 1).saturating_mul(per_page as usize);
        let list: Vec<CallRecord> = hits
            .into_iter()
            .skip(skip)
            .take(per_page as usize)
            .cloned()
            .collect();
        Ok(GetRecordByFilterResponse {
            total_num: total as u64,
            page: if list.is_empty() { 0 } else { page },
            call_record_list: list,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callkit_core::models::{CallResult, CallType, MediaType, RoomIdType};

    const NOW_S: u64 = 1_750_000_000;
    const NOW_MS: u64 = NOW_S * 1000;

    fn record(id: &str, start: u64, result: CallResult, call_type: CallType) -> CallRecord {
        CallRecord {
            call_id: id.into(),
            caller_account: "alice".into(),
            media_type: MediaType::Audio,
            call_type,
            start_time: start,
            end_time: start + 30,
            accept_time: 0,
            call_result: result,
            callee_list_account: vec!["alice".into(), "bob".into()],
            room_id: String::new(),
            room_id_type: RoomIdType::None,
        }
    }

    fn store(n: u64) -> RecordStore {
        let mut s = RecordStore::default();
        for i in 0..n {
            let result = if i % 2 == 0 {
                CallResult::NormalEnd
            } else {
                CallResult::Reject
            };
            let kind = if i % 3 == 0 {
                CallType::MultiCall
            } else {
                CallType::SingleCall
            };
            s.insert(
                record(&format!("c{i:02}"), NOW_S - 3600 * (i + 1), result, kind),
                0,
            );
        }
        s
    }

    fn ids(resp: &GetRecordByFilterResponse) -> Vec<&str> {
        resp.call_record_list
            .iter()
            .map(|r| r.call_id.as_str())
            .collect()
    }

    #[test]
    fn defaults_are_page_one_of_ten_oldest_first() {
        let s = store(25);
        let resp = s.filter(&GetRecordByFilter::default(), NOW_MS).expect("ok");
        assert_eq!(resp.total_num, 25);
        assert_eq!(resp.page, 1);
        assert_eq!(resp.call_record_list.len(), 10);
        assert_eq!(ids(&resp)[0], "c24");
        assert!(resp
            .call_record_list
            .windows(2)
            .all(|w| w[0].start_time <= w[1].start_time));
    }

    #[test]
    fn paging_and_past_the_end() {
        let s = store(25);
        let q = |page| GetRecordByFilter {
            number_per_page: Some(10),
            page: Some(page),
            ..Default::default()
        };
        let p3 = s.filter(&q(3), NOW_MS).expect("ok");
        assert_eq!(
            (p3.page, p3.call_record_list.len(), p3.total_num),
            (3, 5, 25)
        );
        let p4 = s.filter(&q(4), NOW_MS).expect("ok");
        assert_eq!(
            (p4.page, p4.call_record_list.len(), p4.total_num),
            (0, 0, 25)
        );
    }

    #[test]
    fn filters_by_result_and_type() {
        let s = store(12);
        let q = GetRecordByFilter {
            call_result: Some(CallResult::NormalEnd),
            call_type: Some(CallType::MultiCall),
            number_per_page: Some(50),
            ..Default::default()
        };
        let resp = s.filter(&q, NOW_MS).expect("ok");
        // i even and divisible by 3: 0, 6.
        assert_eq!(resp.total_num, 2);
        assert!(resp
            .call_record_list
            .iter()
            .all(|r| r.call_result == CallResult::NormalEnd && r.call_type == CallType::MultiCall));
    }

    #[test]
    fn time_window_is_inclusive_and_start_is_raised_to_seven_days() {
        let mut s = store(3);
        s.insert(
            record(
                "old",
                NOW_S - RETENTION_SECS - 10,
                CallResult::Cancel,
                CallType::SingleCall,
            ),
            0,
        );
        let all = s
            .filter(
                &GetRecordByFilter {
                    start_time: Some(0),
                    ..Default::default()
                },
                NOW_MS,
            )
            .expect("ok");
        assert_eq!(all.total_num, 3, "StartTime 0 is raised to now - 7d");
        let window = s
            .filter(
                &GetRecordByFilter {
                    start_time: Some(NOW_S - 7200),
                    end_time: Some(NOW_S - 3600),
                    ..Default::default()
                },
                NOW_MS,
            )
            .expect("ok");
        assert_eq!(ids(&window), vec!["c01", "c00"]);
    }

    #[test]
    fn invalid_paging_is_refused_and_big_pages_capped() {
        let s = store(150);
        for bad in [
            GetRecordByFilter {
                page: Some(0),
                ..Default::default()
            },
            GetRecordByFilter {
                number_per_page: Some(0),
                ..Default::default()
            },
            GetRecordByFilter {
                start_time: Some(NOW_S),
                end_time: Some(NOW_S - 1),
                ..Default::default()
            },
        ] {
            assert!(matches!(
                s.filter(&bad, NOW_MS),
                Err(EmulatorError::BadRequest(_))
            ));
        }
        let big = s
            .filter(
                &GetRecordByFilter {
                    number_per_page: Some(1000),
                    ..Default::default()
                },
                NOW_MS,
            )
            .expect("ok");
        assert_eq!(big.call_record_list.len(), MAX_PER_PAGE as usize);
        assert_eq!(big.total_num, 150);
    }

    #[test]
    fn records_wait_for_their_delay_and_expire() {
        let mut s = RecordStore::default();
        s.insert(
            record(
                "late",
                NOW_S - 10,
                CallResult::NormalEnd,
                CallType::SingleCall,
            ),
            NOW_MS + 5000,
        );
        assert!(s.get("late", NOW_MS).is_none());
        assert_eq!(
            s.filter(&GetRecordByFilter::default(), NOW_MS)
                .expect("ok")
                .total_num,
            0
        );
        assert!(s.get("late", NOW_MS + 5000).is_some());
        let gone = (NOW_S + RETENTION_SECS + 60) * 1000;
        assert!(s.get("late", gone).is_none());
        s.purge(gone / 1000);
        assert!(s.is_empty());
        assert!(s.get("unknown", NOW_MS).is_none());
    }
}

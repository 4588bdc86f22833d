//! A call as the history API shows it (`HistoryCall` in
//! docs/call-ledger.md), read from the columns `SELECT_CALL` lists.

use serde::Serialize;

use super::db::Row;
use super::update::end;

/// The columns every call query selects, in `HistoryCall::from_row` order.
pub const SELECT_CALL: &str = "c.call_id, c.caller, c.media_type, c.call_type, c.result, \
     c.started_at, c.accepted_at, c.ended_at, c.room_id, c.group_id, c.start_src, c.end_rank, \
     c.record_src, CASE WHEN EXISTS (SELECT 1 FROM members m3 WHERE m3.call_id = c.call_id \
     AND m3.user_id = c.caller) THEN c.caller || char(31) ELSE '' END || coalesce((SELECT \
     group_concat(m2.user_id, char(31)) FROM members m2 WHERE m2.call_id = c.call_id \
     AND m2.user_id IS NOT c.caller), '')";

/// Between the members `SELECT_CALL` lists (the caller first, then the
/// others in the primary key's order, by name): UserIDs are printable ASCII.
const SEPARATOR: char = '\u{1f}';

/// What an erased caller is shown as.
pub const ERASED: &str = "[erased]";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sources {
    pub start: String,
    pub end: Option<&'static str>,
    pub record: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryCall {
    pub call_id: String,
    pub state: &'static str,
    pub caller: Option<String>,
    pub members: Vec<String>,
    pub media_type: Option<String>,
    pub call_type: Option<String>,
    pub result: Option<String>,
    pub started_at: u64,
    pub accepted_at: Option<u64>,
    pub ended_at: Option<u64>,
    pub talk_ms: Option<u64>,
    pub room_id: String,
    pub group_id: String,
    pub sources: Sources,
}

impl HistoryCall {
    pub fn from_row(row: &Row) -> Self {
        let caller = row.text(1);
        let end_rank = u8::try_from(row.int(11).unwrap_or(0)).unwrap_or(0);
        let accepted_at = row.int(6);
        let ended_at = row.int(7);
        let members: Vec<String> = row
            .text(13)
            .map(|list| {
                list.split(SEPARATOR)
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            call_id: row.text(0).unwrap_or_default(),
            state: if end_rank > end::NONE {
                "ended"
            } else {
                "live"
            },
            members,
            caller,
            media_type: row.text(2),
            call_type: row.text(3),
            result: row.text(4),
            started_at: row.int(5).unwrap_or(0),
            accepted_at,
            ended_at,
            talk_ms: talk_ms(accepted_at, ended_at),
            room_id: row.text(8).unwrap_or_default(),
            group_id: row.text(9).unwrap_or_default(),
            sources: Sources {
                start: row.text(10).unwrap_or_default(),
                end: end::source(end_rank),
                record: row.text(12),
            },
        }
    }
}

pub fn talk_ms(accepted_at: Option<u64>, ended_at: Option<u64>) -> Option<u64> {
    Some(ended_at?.saturating_sub(accepted_at?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn talk_needs_both_times() {
        assert!(SELECT_CALL.contains("m2.user_id IS NOT c.caller"));
        assert_eq!(talk_ms(Some(1_000), Some(61_000)), Some(60_000));
        assert_eq!(talk_ms(None, Some(61_000)), None);
        assert_eq!(talk_ms(Some(9), Some(1)), Some(0));
    }
}

//! A call as the history API shows it (`HistoryCall` in
//! docs/call-ledger.md), read from the columns `SELECT_CALL` lists.

use serde::Serialize;

use super::db::Row;
use super::update::end;

/// The columns every call query selects, in `HistoryCall::from_row` order.
pub const SELECT_CALL: &str = "c.call_id, c.caller, c.media_type, c.call_type, c.result, \
     c.started_at, c.accepted_at, c.ended_at, c.room_id, c.group_id, c.start_src, c.end_rank, \
     c.record_src, (SELECT group_concat(m2.user_id, char(31)) FROM members m2 \
     WHERE m2.call_id = c.call_id)";

/// Between the members `SELECT_CALL` lists: UserIDs are printable ASCII.
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
            .map(|list| list.split(SEPARATOR).map(str::to_owned).collect())
            .unwrap_or_default();
        Self {
            call_id: row.text(0).unwrap_or_default(),
            state: if end_rank > end::NONE { "ended" } else { "live" },
            members: ordered(members, caller.as_deref()),
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

/// The caller first, then everyone else by name.
fn ordered(mut members: Vec<String>, caller: Option<&str>) -> Vec<String> {
    members.sort_by(|a, b| {
        let rank = |m: &String| Some(m.as_str()) != caller;
        (rank(a), a).cmp(&(rank(b), b))
    });
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_comes_first_and_talk_needs_both_times() {
        let m = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ordered(m(&["carol", "bob", "alice"]), Some("bob")),
            m(&["bob", "alice", "carol"])
        );
        assert_eq!(ordered(m(&["b", "a"]), None), m(&["a", "b"]));
        assert_eq!(talk_ms(Some(1_000), Some(61_000)), Some(60_000));
        assert_eq!(talk_ms(None, Some(61_000)), None);
        assert_eq!(talk_ms(Some(9), Some(1)), Some(0));
    }
}
